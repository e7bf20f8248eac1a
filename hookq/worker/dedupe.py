"""Exactly-once in effect: one Redis key per delivery of an event to a handler.

The key names the handler, the source, the event type, the replay generation (``0`` for what
the provider sent; an operator's replay id for a replayed run, so that a replay runs the event
once more, and once only however it is interrupted) and the delivery id. Its value is a claim
(``<message id> <token>``, with a lease), the done mark, the dead mark, or the retry note
(``retry <attempt> <due, Unix ms>``: free to claim, it tells ``hookq events show`` that the
event waits in a delay tier for that attempt).
Every transition is one Lua script, so no check-then-set race lets two workers run one event:

- ``claim``: set-if-absent with a lease; otherwise say who holds it. The token makes a claim
  unique per run, so a claim that outlived its lease and was taken over is never mistaken for
  ours; the message id tells a duplicate delivery (another message) from a redelivery of the
  same message (its worker died or lost its connection).
- ``mark_done``: replace our claim by the done mark (kept ``dedupe_ttl``).
- ``mark_dead``: replace our claim by the dead mark (kept as long): the provider's next retry
  of an event that ended dead is a duplicate, not another dead letter.
- ``release``: delete our claim, so a redelivery or a replay can claim it.
- ``retrying``: replace our claim by the retry note, which any claim takes over.

Each script is idempotent for its caller, so the gate (``worker.redis_gate``) can safely run it
again when Redis dropped the reply.

The calls of all the messages in flight travel to Redis together, one script call per kind
of call (``worker.script_batch``): the worker's largest per-message cost, cut by the batch
size.
"""

from __future__ import annotations

import asyncio
import enum
import itertools
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import redis.asyncio as aioredis
import structlog

from hookq.message import Envelope
from hookq.topology import Names
from hookq.worker.inflight import InFlight
from hookq.worker.outcomes import Duplicate
from hookq.worker.redis_gate import RedisGate
from hookq.worker.script_batch import BatchScript, ScriptBatch

if TYPE_CHECKING:
    from hookq.handlers.api import Database

log = structlog.get_logger("hookq.worker")

MAX_LEASE_POLL = 1.0  # seconds between looks at a claim held by this same message

DONE = "done"
DEAD = "dead"

# Each script handles one key (``worker.script_batch`` runs it for every key in a batch):
# ``key``, its arguments ``argv(1..)``, the TTL every key shares ``shared(1)``, and a table of
# numbers back. A claim value is ``<message id> <token>`` (the token has no space): the
# message's part is the value up to its last space, compared whole (a message id may hold
# spaces, or begin another's).
_CLAIM = BatchScript(
    """
local value = redis.call('GET', key)
if not value or string.sub(value, 1, 6) == 'retry ' then
  redis.call('SET', key, argv(1), 'PX', shared(1))
  return {1, 0}
end
if value == argv(1) then return {1, 0} end
if value == 'done' or value == 'dead' then return {2, 0} end
if string.match(value, '^(.* )') == string.match(argv(1), '^(.* )') then
  return {3, redis.call('PTTL', key)}
end
return {4, redis.call('PTTL', key)}
""",
    args=1,
    results=2,
    shared=1,
)

# Our claim or no claim at all (the lease lapsed and nobody took it): the run is done.
# Another run's claim: leave it alone, that run marks done itself.
_MARK_DONE = BatchScript(
    """
local value = redis.call('GET', key)
if value == argv(1) or not value then
  redis.call('SET', key, 'done', 'PX', shared(1))
  return {1}
end
if value == 'done' then return {1} end
return {0}
""",
    args=1,
    shared=1,
)

_MARK_DEAD = BatchScript(
    """
local value = redis.call('GET', key)
if value == argv(1) or not value then
  redis.call('SET', key, 'dead', 'PX', shared(1))
  return {1}
end
return {0}
""",
    args=1,
    shared=1,
)

_RELEASE = BatchScript(
    """
if redis.call('GET', key) == argv(1) then return {redis.call('DEL', key)} end
return {0}
""",
    args=1,
)


# Kept as long as a done mark: it is replaced when the retry claims the key.
_RETRYING = BatchScript(
    """
if redis.call('GET', key) == argv(1) then
  redis.call('SET', key, argv(2), 'PX', shared(1))
  return {1}
end
return {0}
""",
    args=2,
    shared=1,
)

RETRY_NOTE = "retry"


def retry_note(attempt: int, due: float) -> str:
    """The retry note's value: the attempt the retry is for, when it is due (Unix ms)."""
    return f"{RETRY_NOTE} {attempt} {round(due * 1000)}"


def read_retry_note(value: str) -> tuple[int, float] | None:
    """``(attempt, due)`` of a retry note; None for any other value."""
    parts = value.split(" ")
    if len(parts) != 3 or parts[0] != RETRY_NOTE or not all(p.isdigit() for p in parts[1:]):
        return None
    return int(parts[1]), int(parts[2]) / 1000


class ClaimState(enum.Enum):
    CLAIMED = 1  # ours: run the handler
    DONE = 2  # done or dead already: a duplicate
    SAME_MESSAGE = 3  # this very message is (or was) being run elsewhere: wait for the lease
    OTHER_MESSAGE = 4  # another delivery of the event is in flight: a duplicate


# By the script's number: cheaper per message than the enum's own lookup.
_STATES = {state.value: state for state in ClaimState}


@dataclass(frozen=True, slots=True)
class Claim:
    state: ClaimState
    key: str
    value: str  # our claim value when CLAIMED
    lease_left: float = 0.0  # seconds, when held (SAME_MESSAGE, OTHER_MESSAGE)


class Dedupe:
    def __init__(
        self,
        client: aioredis.Redis,
        gate: RedisGate,
        names: Names,
        lease: float,
        done_ttl: float,
    ) -> None:
        self._gate = gate
        self._names = names
        # The scripts' shared arguments: sent once per round trip.
        self._lease_ms = (max(1, round(lease * 1000)),)
        self._done_ms = (max(1, round(done_ttl * 1000)),)
        self._batch = ScriptBatch(client)
        # A claim's token must be unique per run, not secret: a random prefix per worker and
        # a counter, without reading the system's randomness for every message.
        self._run_prefix = f"{secrets.token_hex(8)}-"
        self._runs = itertools.count()

    def key(
        self, handler: str, source: str, event_type: str, delivery_id: str, generation: str = "0"
    ) -> str:
        # The delivery id last: it is the only part that may contain the separator.
        return self._names.redis_key("dedupe", handler, source, event_type, generation, delivery_id)

    async def claim(self, key: str, message_id: str) -> Claim:
        value = f"{message_id} {self._run_prefix}{next(self._runs):x}"
        lease = self._lease_ms
        state, pttl = await self._call(_CLAIM, key, (value,), lease)
        return Claim(_STATES[int(state)], key, value, max(0, int(pttl)) / 1000)

    async def mark_done(self, claim: Claim) -> bool:
        """False when another run took the claim over (our lease lapsed mid-run)."""
        return bool(await self._call(_MARK_DONE, claim.key, (claim.value,), self._done_ms))

    async def mark_dead(self, claim: Claim) -> None:
        await self._call(_MARK_DEAD, claim.key, (claim.value,), self._done_ms)

    async def release(self, claim: Claim) -> None:
        await self._call(_RELEASE, claim.key, (claim.value,))

    async def retrying(self, claim: Claim, attempt: int, due: float) -> None:
        args = (claim.value, retry_note(attempt, due))
        await self._call(_RETRYING, claim.key, args, self._done_ms)

    async def _call(
        self, script: BatchScript, key: str, args: tuple[Any, ...], shared: tuple[Any, ...] = ()
    ) -> Any:
        """The script's result for ``key``, through the gate: waits out a Redis outage."""
        if self._gate.available:
            # The usual case, without the gate's frame and a closure per call (per message).
            try:
                return await self._batch.call(script, key, args, shared)
            except Exception as exc:
                if not self._gate.is_down(exc):
                    raise
                self._gate.report_down(exc)
        return await self._gate.run(lambda: self._batch.call(script, key, args, shared))

    async def close(self) -> None:
        await self._batch.close()


class RedisClaim:
    """A run's claim on its Redis key, as the settler calls it (``outcomes.Claim``)."""

    __slots__ = ("_claim", "_dedupe", "_ended")

    def __init__(self, dedupe: Dedupe, claim: Claim) -> None:
        self._dedupe = dedupe
        self._claim = claim
        self._ended = False

    @property
    def db(self) -> Database | None:
        return None

    async def end_run(self, error: Exception | None) -> Exception | None:
        return error  # the handler's effects are its own: nothing to commit or undo

    async def done(self) -> bool:
        self._ended = True
        return await self._dedupe.mark_done(self._claim)

    async def dead(self) -> None:
        self._ended = True
        await self._dedupe.mark_dead(self._claim)

    async def release(self) -> None:
        self._ended = True
        await self._dedupe.release(self._claim)

    async def retrying(self, attempt: int, due: float) -> None:
        self._ended = True
        await self._dedupe.retrying(self._claim, attempt, due)

    async def close(self) -> None:
        return None  # holds nothing but the key, which its lease frees


class RedisClaimer:
    """Claims one handler's events on their Redis keys."""

    def __init__(self, dedupe: Dedupe, handler: str, in_flight: InFlight) -> None:
        self._dedupe = dedupe
        self._handler = handler
        self._in_flight = in_flight

    async def claim(self, envelope: Envelope) -> RedisClaim:
        """Our claim; ``Duplicate`` when the event is done, dead, or in flight in another
        delivery. Waits while this same message holds it."""
        key = self._dedupe.key(
            self._handler,
            envelope.source,
            envelope.event_type,
            envelope.delivery_id,
            envelope.replay_id or "0",
        )
        waited = False
        while True:
            claim = await self._dedupe.claim(key, envelope.message_id)
            if claim.state is ClaimState.CLAIMED:
                return RedisClaim(self._dedupe, claim)
            if claim.state in (ClaimState.DONE, ClaimState.OTHER_MESSAGE):
                # Another delivery in flight ends acked, retried, dead or redelivered.
                raise Duplicate()
            # Redelivered while its own earlier delivery holds the claim: that run's worker
            # died or lost its connection. It may still finish (then the key says done), else
            # the lease lapses and we run it. Never ack it as a duplicate: nothing else will.
            if not waited:
                log.info("claimed elsewhere: waiting for the lease", lease_left=claim.lease_left)
                waited = True
            with self._in_flight.waiting():
                await asyncio.sleep(min(max(claim.lease_left, 0.02), MAX_LEASE_POLL))
