"""What every view of one console shares, built once at start-up (``app.create_app``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import jinja2
from aiohttp import web

from hookq.console.access import Operators
from hookq.console.issues import IssueBoard
from hookq.console.sampler import Sampler
from hookq.console.sessions import Sessions
from hookq.handlers.api import HandlerSpec
from hookq.privacy import Privacy
from hookq.settings import Settings


@dataclass(slots=True)
class Console:
    settings: Settings
    operators: Operators
    sessions: Sessions
    privacy: Privacy
    templates: jinja2.Environment
    specs: Mapping[str, HandlerSpec]
    hooks: list[str]
    board: IssueBoard
    sampler: Sampler
    discovery_error: str = ""  # handler discovery failed: shown, the rest still works
    extras: dict[str, object] = field(default_factory=dict)


CONSOLE = web.AppKey("console", Console)
