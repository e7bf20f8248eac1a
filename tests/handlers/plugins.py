"""Handler plugins that live outside the repository, built in a test's directory.

Two ways a team registers handlers, both reproduced for real:

- ``write_handler_module``: a module ``<module>.py`` that ``HOOKQ_HANDLER_MODULES`` names;
- ``write_distribution``: that module plus an installed distribution's metadata
  (``<dist>-1.0.dist-info/METADATA`` and ``entry_points.txt`` with ``[hookq.handlers]``), so
  ``importlib.metadata.entry_points`` finds it once the directory is on ``sys.path``.

Put the directory on the import path with the ``plugin_dir`` fixture (in-process; it also
forgets the imported modules afterwards) or with ``PYTHONPATH`` (subprocesses: a worker or the
``hookq`` command). With ``record_to``, each handler run appends one JSON line (``read_records``)
that names the handler, source, event type, delivery id, attempt and event model: proof that
the handler received the event, readable across processes.
"""

from __future__ import annotations

import json
import sys
import textwrap
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from hookq.handlers.registry import ENTRY_POINT_GROUP


def unique(prefix: str) -> str:
    """A module or handler name no other test uses (imported modules stay in ``sys.modules``)."""
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def handler_source(
    handler_name: str,
    pattern: str,
    *,
    function: str = "handle",
    record_to: Path | None = None,
    options: Mapping[str, object] | None = None,
) -> str:
    """The text of one ``@handler`` function as a team would write it."""
    extra = "".join(f", {key}={value!r}" for key, value in (options or {}).items())
    return textwrap.dedent(
        f"""
        @handler({pattern!r}, name={handler_name!r}{extra})
        async def {function}(event: Any, ctx: HandlerContext) -> None:
            _record(event, ctx, {str(record_to) if record_to else None!r})
        """
    )


_PRELUDE = '''\
"""A team's handler module, written by tests.handlers.plugins."""
from __future__ import annotations

import json
from typing import Any

from hookq.handlers import HandlerContext, handler


def _record(event: Any, ctx: HandlerContext, path: str | None) -> None:
    if path is None:
        return
    line = {
        "handler": ctx.handler,
        "source": ctx.source,
        "event_type": ctx.event_type,
        "delivery_id": ctx.delivery_id,
        "attempt": ctx.attempt,
        "model": type(event).__name__,
    }
    with open(path, "a", encoding="utf-8") as file:
        file.write(json.dumps(line) + "\\n")
'''


def write_module(directory: Path, module: str, body: str) -> Path:
    """``<directory>/<module>.py``: the prelude (imports, ``_record``) followed by ``body``."""
    path = directory / f"{module}.py"
    path.write_text(_PRELUDE + body, encoding="utf-8")
    return path


def write_handler_module(
    directory: Path,
    module: str,
    handler_name: str,
    pattern: str = "#",
    *,
    function: str = "handle",
    record_to: Path | None = None,
    options: Mapping[str, object] | None = None,
) -> str:
    """A module with one handler; returns the import path for ``HOOKQ_HANDLER_MODULES``."""
    body = handler_source(
        handler_name, pattern, function=function, record_to=record_to, options=options
    )
    write_module(directory, module, body)
    return module


def write_distribution(
    directory: Path,
    distribution: str,
    entry_points: Mapping[str, str],
    group: str = ENTRY_POINT_GROUP,
) -> Path:
    """An installed distribution's metadata declaring ``entry_points`` (name -> object
    reference, ``module`` or ``module:function``) in ``group`` (``hookq.handlers``)."""
    info = directory / f"{distribution.replace('-', '_')}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 1.0\n", encoding="utf-8"
    )
    lines = [f"[{group}]", *(f"{k} = {v}" for k, v in entry_points.items())]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return info


def write_plugin_package(
    directory: Path,
    distribution: str,
    module: str,
    handler_name: str,
    pattern: str = "#",
    *,
    point_at_function: bool = False,
    record_to: Path | None = None,
) -> str:
    """A module with one handler, installed as a distribution whose entry point names the
    module (or, with ``point_at_function``, the function). Returns the entry point's value."""
    write_handler_module(directory, module, handler_name, pattern, record_to=record_to)
    target = f"{module}:handle" if point_at_function else module
    write_distribution(directory, distribution, {handler_name: target})
    return target


def read_records(path: Path) -> list[dict[str, Any]]:
    """What handlers built with ``record_to=path`` received, in the order they ran."""
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line]


@pytest.fixture
def plugin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A directory outside the repository on ``sys.path`` for this test only (entry points of
    distributions written there are visible meanwhile); its modules are forgotten after."""
    directory = tmp_path / "plugins"
    directory.mkdir()
    monkeypatch.syspath_prepend(str(directory))
    yield directory
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", None) or "").startswith(str(directory)):
            del sys.modules[name]
