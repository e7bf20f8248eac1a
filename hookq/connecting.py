"""Reaching a service at start-up (the broker, Redis, PostgreSQL): wait as long as it takes,
saying every few seconds which service and why it refuses, and say when it answers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar
from urllib.parse import unquote, urlsplit

import structlog

T = TypeVar("T")

log = structlog.get_logger("hookq.connecting")

FIRST_DELAY = 0.25
MAX_DELAY = 5.0  # seconds between attempts, at most: a refusal is logged this often


def safe_url(url: str) -> str:
    """A service's URL without its password, for logs and messages: several comma-separated
    URLs (a cluster's nodes, ``HOOKQ_AMQP_URL``) each without theirs; the hosts of one URL kept
    as written (a Sentinel URL names several: ``redis+sentinel://a:26379,b:26379/service``)."""
    several = [part.strip() for part in url.split(",") if part.strip()]
    if "," in url and several and all("://" in part for part in several):
        return ",".join(safe_url(part) for part in several)
    parts = urlsplit(url)
    userinfo, _, hosts = parts.netloc.rpartition("@")
    name = unquote(userinfo.partition(":")[0])
    user = f"{name}@" if name else ""
    return f"{parts.scheme}://{user}{hosts.lower()}{parts.path}"


async def until_reachable(
    connect: Callable[[], Awaitable[T]],
    *,
    service: str,
    url: str,
    failures: tuple[type[BaseException], ...],
    explain: Callable[[BaseException, str], str],
) -> T:
    """``connect()``'s result, retried with backoff while it raises one of ``failures``;
    ``explain(exc, url)`` says why, in the log line of each attempt."""
    delay, failed = FIRST_DELAY, False
    where = {service: safe_url(url)}
    while True:
        try:
            result = await connect()
        except failures as exc:
            failed = True
            log.warning(
                f"{service} unreachable, retrying",
                reason=explain(exc, url),
                retry_in=delay,
                **where,
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_DELAY)
            continue
        log.info(f"{service} connection restored" if failed else f"{service} connected", **where)
        return result
