"""One delivery to a destination: a POST of the event's queued body (LiveChat's ``secret_key``
already cut out by the ingress), signed the Standard Webhooks way, and what its answer means.

    2xx                       done
    408, 429, 5xx             retried with the handler's backoff, or after Retry-After (rounded
    timeout, connection error up to a delay tier): ``DestinationFailed`` (a ``Retry``)
    410 Gone                  dead-lettered, and the destination disabled until an operator
                              enables it: ``DestinationGone`` (a ``Reject``)
    any other status          dead-lettered with the status and the start of the answer's body
                              (masked): ``DestinationRefused`` (a ``Reject``)

Redirects are not followed: a signed body goes only where the file says. Every answer counts
for the circuit breaker (``hookq.destinations.state``): a failure above, or a success (any other
answer: the destination is up).

A worker shares one aiohttp session among all its destinations (``Transport``), with no
connection limit: each destination's concurrency is its queue's prefetch, and a slow one must
not hold connections another needs.
"""

from __future__ import annotations

import email.utils
import json
import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp
import redis.asyncio as aioredis
import structlog

from hookq.destinations.config import Destination
from hookq.destinations.state import DestinationState
from hookq.handlers.api import Backoff, HandlerContext, HandlerSpec, Reject, Retry
from hookq.message import DestinationHeader
from hookq.privacy import Privacy
from hookq.redis_client import REDIS_DOWN, redis_client
from hookq.sources.standard.webhook import sign
from hookq.topology import Names

log = structlog.get_logger("hookq.destinations")

MAX_ANSWER = 500  # characters of a refusing answer's body kept in the failure record
READ_ANSWER = 4096  # bytes of it read
# The pipeline's own deadline on the run: after the request's timeout, so that a slow answer is
# our retry (DestinationFailed), not a handler timeout.
RUN_MARGIN = 5.0
USER_AGENT = "hookq"
FORWARDER_ATTRIBUTE = "__hookq_destination__"  # on a destination's handler function: its Forwarder


class DestinationFailed(Retry):
    """The destination did not take the event (timeout, refused connection, 408, 429, 5xx)."""


class DestinationGone(Reject):
    """410 Gone: dead-lettered, and the destination disabled."""


class DestinationRefused(Reject):
    """Another answer that is not 2xx: sending it again would get the same answer."""


class Transport:
    """What a worker's destinations share: one HTTP session and one Redis client, made in the
    running loop when first used, closed with the worker (``DestinationHook.close``)."""

    def __init__(self, redis_url: str) -> None:
        self._redis_url = redis_url
        self._session: aiohttp.ClientSession | None = None
        self._redis: aioredis.Redis | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0, limit_per_host=0),
                headers={"User-Agent": USER_AGENT},
            )
        return self._session

    def redis(self) -> aioredis.Redis:
        if self._redis is None:
            self._redis = redis_client(self._redis_url)
        return self._redis

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()
        client, self._redis = self._redis, None
        if client is not None:
            await client.aclose()


class Forwarder:
    """One destination's handler."""

    def __init__(
        self, destination: Destination, transport: Transport, names: Names, privacy: Privacy
    ) -> None:
        self.destination = destination
        self.transport = transport
        self.names = names
        self._keys = destination.keys()
        self._privacy = privacy
        self._state: DestinationState | None = None

    @property
    def state(self) -> DestinationState:
        # Built on first use: the Redis client belongs to the loop that runs the worker.
        if self._state is None or self._state.redis is not self.transport.redis():
            self._state = DestinationState(self.transport.redis(), self.names, self.destination)
        return self._state

    def headers(self, ctx: HandlerContext, now: float) -> dict[str, str]:
        return {
            **self.destination.headers,
            "Content-Type": "application/json",
            DestinationHeader.SOURCE: ctx.source,
            DestinationHeader.EVENT_TYPE: ctx.event_type,
            DestinationHeader.ATTEMPT: str(ctx.attempt),
            **sign(self._keys, ctx.delivery_id, int(now), ctx.body),
        }

    async def deliver(self, _event: Any, ctx: HandlerContext) -> None:
        destination = self.destination
        try:
            async with self.transport.session().post(
                destination.url,
                data=ctx.body,
                headers=self.headers(ctx, time.time()),
                timeout=aiohttp.ClientTimeout(total=destination.timeout),
                allow_redirects=False,
            ) as response:
                status = response.status
                retry_after = response.headers.get("Retry-After")
                answer = await response.content.read(READ_ANSWER) if status >= 300 else b""
        except TimeoutError:
            await self._record(success=False)
            raise DestinationFailed(f"no answer within {destination.timeout:g}s") from None
        except aiohttp.ClientError as exc:
            await self._record(success=False)
            raise DestinationFailed(f"{type(exc).__name__}: {exc}") from None
        await self._answered(status, retry_after, answer, ctx)

    async def _answered(
        self, status: int, retry_after: str | None, answer: bytes, ctx: HandlerContext
    ) -> None:
        if 200 <= status < 300:
            await self._record(success=True)
            return
        if status in (408, 429) or status >= 500:
            await self._record(success=False)
            raise DestinationFailed(f"HTTP {status}", delay=parse_retry_after(retry_after))
        await self._record(success=True)  # it answered: it is up, the event is the trouble
        text = self._masked(answer)
        if status == 410:
            try:
                await self.state.disable(f"HTTP 410 Gone for delivery {ctx.delivery_id}")
            except REDIS_DOWN as exc:
                ctx.log.error("410 Gone: could not disable, Redis unreachable", error=str(exc))
            else:
                ctx.log.error("destination answered 410 Gone: disabled", url=self.destination.url)
            raise DestinationGone(f"HTTP 410: destination disabled; body: {text}")
        raise DestinationRefused(f"HTTP {status}; body: {text}")

    async def _record(self, *, success: bool) -> None:
        """The answer, for the circuit breaker. Best effort: with Redis unreachable the delivery
        stands (a retry would send a delivered event again); the gate waits for Redis."""
        try:
            await self.state.record(success)
        except REDIS_DOWN as exc:
            log.warning("circuit not updated: Redis unreachable", error=str(exc))

    def _masked(self, answer: bytes) -> str:
        value, _json = self._privacy.body(answer)
        text = value if isinstance(value, str) else _compact(value)
        return text if len(text) <= MAX_ANSWER else text[: MAX_ANSWER - 1] + "…"


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait, from delay-seconds or an HTTP date; None when absent or unreadable."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    seconds = moment.timestamp() - (time.time() if now is None else now)
    return float(max(0, math.ceil(seconds)))


def destination_specs(
    destinations: Sequence[Destination], names: Names, redis_url: str, privacy: Privacy
) -> list[HandlerSpec]:
    """One handler per destination, all sharing one ``Transport``."""
    transport = Transport(redis_url)
    return [_spec(Forwarder(d, transport, names, privacy)) for d in destinations]


def _spec(forwarder: Forwarder) -> HandlerSpec:
    destination = forwarder.destination

    async def deliver(event: Any, ctx: HandlerContext) -> None:
        await forwarder.deliver(event, ctx)

    # Its origin (``hookq.destinations:<name>``) owns the queue (hookq.declarations): stable
    # across restarts, and distinct from any team module's.
    deliver.__module__ = "hookq.destinations"
    deliver.__qualname__ = deliver.__name__ = destination.name
    setattr(deliver, FORWARDER_ATTRIBUTE, forwarder)
    return HandlerSpec(
        name=destination.name,
        patterns=tuple(destination.patterns),
        func=deliver,
        max_attempts=destination.max_attempts,
        backoff=Backoff(),
        timeout=destination.timeout + RUN_MARGIN,
    )


def forwarder_of(spec: HandlerSpec) -> Forwarder | None:
    found = getattr(spec.func, FORWARDER_ATTRIBUTE, None)
    return found if isinstance(found, Forwarder) else None


def forwarders(specs: Mapping[str, HandlerSpec] | Sequence[HandlerSpec]) -> list[Forwarder]:
    values = specs.values() if isinstance(specs, Mapping) else specs
    return [f for spec in values if (f := forwarder_of(spec)) is not None]
