"""``hookq.display``: what a terminal would act on is made visible; everything else is kept."""

from __future__ import annotations

import json

import pytest

from hookq.display import json_text, safe

# Each character a terminal acts on, with how it must be shown.
ACTED_ON = {
    "\x1b": "\\x1b",  # ESC: CSI / OSC sequences (clear screen, title, hyperlinks)
    "\x07": "\\x07",  # BEL: ends an OSC
    "\x08": "\\x08",  # backspace: overwrites
    "\r": "\\r",  # carriage return: overwrites the line
    "\x00": "\\x00",
    "\x7f": "\\x7f",  # DEL
    "\x9b": "\\x9b",  # C1 CSI
    "\x9d": "\\x9d",  # C1 OSC
    "\x85": "\\x85",  # C1 next line
    "\u202e": "\\u202e",  # right-to-left override
    "\u2066": "\\u2066",  # left-to-right isolate
    "\u200b": "\\u200b",  # zero-width space: two ids that look alike
    "\ufeff": "\\ufeff",
    "\u2028": "\\u2028",  # line separator
    "\U000e0041": "\\U000e0041",  # a tag character (Cf outside the BMP)
    "\ud800": "\\ud800",  # a lone surrogate
}


@pytest.mark.parametrize(("char", "shown"), sorted(ACTED_ON.items()))
def test_each_character_a_terminal_acts_on_is_shown_escaped(char: str, shown: str) -> None:
    assert safe(f"a{char}b") == f"a{shown}b"
    assert safe(f"a{char}b", lines=True) == f"a{shown}b"


def test_new_lines_and_tabs_are_escaped_in_one_line_and_kept_in_blocks() -> None:
    assert safe("one\ntwo\tthree") == "one\\ntwo\\tthree"
    assert safe("one\ntwo\tthree", lines=True) == "one\ntwo\tthree"


def test_readable_text_is_kept_as_it_is() -> None:
    for text in ("plain ascii [bold]markup[/] \\x1b", "João Conceição ñ ü", "日本語 🎉 👍🏽", ""):
        assert safe(text) == text


def test_the_attack_strings_of_the_red_team() -> None:
    attack = "\x1b[2J\x1b]0;title\x07\x1b]8;;http://evil\x1b\\x\x1b]8;;\x1b\\\u202e\x9b31m"

    shown = safe(attack)

    assert shown.isascii()
    assert shown.isprintable()
    assert shown == (
        "\\x1b[2J\\x1b]0;title\\x07\\x1b]8;;http://evil\\x1b\\x\\x1b]8;;\\x1b\\\\u202e\\x9b31m"
    )


def test_json_text_stays_the_same_json_with_nothing_raw() -> None:
    value = {f"k{char}": [f"v{char}", 1, None] for char in ACTED_ON if char != "\ud800"}
    value["accents"] = ["João 🎉"]

    text = json_text(value)

    assert json.loads(text) == value
    assert all(char not in text for char in ACTED_ON)
    for escaped in ("\\u202e", "\\u009b", "\\u001b"):
        assert escaped in text
    assert "\\udb40\\udc41" in text  # U+E0041 as JSON's surrogate pair
    assert "João 🎉" in text  # readable text is written as it is


def test_json_text_of_a_lone_surrogate_is_still_json() -> None:
    text = json_text({"s": "\ud83d"})

    assert json.loads(text) == {"s": "\ud83d"}
    assert text.isascii()
