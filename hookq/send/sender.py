"""What ``hookq send`` does: sign an event as its provider would (``hookq.testing.signing``),
POST it to a running ingress, and print the answer, like ``stripe trigger``.

stdout gets the answer's status line and its JSON (shown as text: ``hookq.display``); stderr
says why nothing was sent. Exit codes: 0 accepted (2xx), 1 refused (any other status), 2 usage,
3 the ingress could not be reached.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import aiohttp
import orjson
from yarl import URL

from hookq.display import json_text, safe
from hookq.settings import Settings, env_name
from hookq.sources.base import WebhookRejected
from hookq.sources.catalogue import UnknownSelector, example
from hookq.sources.registry import PROVIDERS
from hookq.testing.signing import SignedRequest, signed_request

EXIT_SENT, EXIT_REFUSED, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3
MAX_ANSWER = 64 * 1024  # characters of an answer shown: an ingress's are a line


class UsageError(Exception):
    """Nothing was sent: the command or its input is wrong (exit 2)."""


class Unreachable(Exception):
    """The ingress did not answer (exit 3)."""


@dataclass(frozen=True, slots=True)
class Order:
    selector: str  # SOURCE.TYPE
    file: Path | None
    url: str | None
    secret: str | None
    timeout: float


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    reason: str
    text: str


def send(
    order: Order, settings: Settings, out: IO[str] | None = None, err: IO[str] | None = None
) -> int:
    out, err = out or sys.stdout, err or sys.stderr  # read now: tests and callers swap them
    try:
        request = build(order, settings)
        target = endpoint(order.url, settings, request.path)
    except UsageError as exc:
        print(f"hookq send: {safe(str(exc))}", file=err)
        return EXIT_USAGE
    try:
        answer = asyncio.run(post(target, request, order.timeout))
    except Unreachable as exc:
        where = safe(str(target))
        print(f"hookq send: cannot reach the ingress at {where}: {safe(str(exc))}", file=err)
        return EXIT_UNREACHABLE
    print(f"{answer.status} {safe(answer.reason)}", file=out)
    print(shown(answer.text), file=out)
    return EXIT_SENT if 200 <= answer.status < 300 else EXIT_REFUSED


def build(order: Order, settings: Settings) -> SignedRequest:
    """The signed request, or ``UsageError`` saying what to fix."""
    name, _, event_type = order.selector.partition(".")
    if name not in PROVIDERS:
        known = ", ".join(PROVIDERS)
        raise UsageError(f"unknown source {name!r} in {order.selector!r} (known: {known})")
    if not event_type:
        raise UsageError(f"{order.selector!r}: give SOURCE.TYPE, e.g. plain.thread.chat_sent")
    payload = _read(order.file) if order.file is not None else _example(name, event_type)
    source_settings = settings.source(name)
    secret = order.secret or next(iter(source_settings.secret_values()), None)
    if secret is None and name not in settings.insecure_sources:
        variable = env_name(f"{name}_secrets")
        raise UsageError(f"{variable} is not set: set it as the ingress has it, or pass --secret")
    try:
        return signed_request(name, event_type, payload, secret=secret, settings=source_settings)
    except WebhookRejected as exc:
        raise UsageError(f"the ingress would refuse this payload: {exc}") from None
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _example(name: str, event_type: str) -> bytes:
    try:
        return example(name, event_type)
    except UnknownSelector as exc:
        raise UsageError(f"{exc.args[0]} (--file PAYLOAD)") from None


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None


def endpoint(url: str | None, settings: Settings, path: str) -> URL:
    base = url or f"http://127.0.0.1:{settings.ingress_port}"
    try:
        parsed = URL(base)
    except (ValueError, TypeError):
        parsed = URL()
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise UsageError(f"--url {base!r} is not an http:// or https:// base URL")
    return parsed.with_path(parsed.path.rstrip("/") + path)


async def post(target: URL, request: SignedRequest, seconds: float) -> Answer:
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=seconds)) as session,
            session.post(target, data=request.body, headers=dict(request.headers)) as response,
        ):
            text = await response.text(errors="replace")
            return Answer(response.status, response.reason or "", text)
    except TimeoutError:
        raise Unreachable(f"no answer within {seconds:g}s") from None
    except aiohttp.ClientError as exc:
        raise Unreachable(f"{type(exc).__name__}: {exc}") from None


def shown(text: str) -> str:
    """The answer's JSON, indented, or its text, shown as text either way."""
    try:
        return json_text(orjson.loads(text))
    except orjson.JSONDecodeError:
        return safe(text[:MAX_ANSWER], lines=True)
