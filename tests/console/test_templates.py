"""The templates can only ever write text: autoescaping on for every one of them, and no way
around it in any template (``|safe``, ``Markup``, ``autoescape false``)."""

from __future__ import annotations

import re
from pathlib import Path

import hookq.console
from hookq.console.rendering import environment, shown

TEMPLATES = Path(hookq.console.__file__).with_name("templates")
BYPASSES = re.compile(r"\|\s*safe\b|Markup|autoescape\s+false|\|\s*tojson", re.IGNORECASE)


def test_autoescaping_is_on_for_every_template() -> None:
    env = environment()
    names = env.list_templates()
    assert len(names) >= 8
    for name in names:
        rendered_value = env.from_string("{{ v }}").render(v="<b>&</b>")
        assert rendered_value == "&lt;b&gt;&amp;&lt;/b&gt;"
        assert env.autoescape is True or env.autoescape(name)  # type: ignore[operator]


def test_no_template_bypasses_the_escaping() -> None:
    found = {path.name: BYPASSES.findall(path.read_text()) for path in TEMPLATES.glob("*.html")}
    assert {name: hits for name, hits in found.items() if hits} == {}


def test_shown_makes_control_characters_visible() -> None:
    assert shown("a\x1b[2Jb\u202ec\r\n") == "a\\x1b[2Jb\\u202ec\\r\\n"
    assert shown(None) == ""
