"""A destination's shared state in Redis: whether it is disabled (a 410), its circuit breaker
and its rate limit. Every worker process reads and writes the same keys (``Names.redis_key``),
so the breaker and the limit hold for the deployment, not per process. Times are Redis's own
(``TIME`` inside the scripts): workers on several hosts agree on them.

- disabled: a key holding why (set on a 410, removed by ``hookq destinations enable``);
- circuit: a hash (``failures`` in a row, ``open_until`` in ms) and a probe key. Closed, every
  message goes; after ``circuit_failures`` failures in a row it opens for ``circuit_cooldown``
  seconds, during which no message is taken; then one message (the probe key, taken with NX)
  goes: its success closes the circuit, its failure opens it again;
- a worker trusts a closed circuit for ``CLOSED_VIEW`` seconds: the fast path (closed, no
  failure) costs no Redis call per message;
- rate: GCRA as reservations: each request takes the next free slot (one per interval) and
  waits for it, so requests leave evenly spaced whatever the number of workers.
"""

from __future__ import annotations

import asyncio
import enum
import json
import time
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from hookq.destinations.config import Destination
from hookq.topology import Names

_NOW_MS = "local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000)\n"

# KEYS: disabled, circuit, probe. ARGV: probe lease (ms). -> {wait ms, Circuit, failures}
ADMIT = (
    _NOW_MS
    + """
if redis.call('EXISTS', KEYS[1]) == 1 then return {1000, 3, 0} end
local open_until = tonumber(redis.call('HGET', KEYS[2], 'open_until') or '0')
if open_until == 0 then
  return {0, 0, tonumber(redis.call('HGET', KEYS[2], 'failures') or '0')}
end
if now < open_until then return {open_until - now, 1, 0} end
if redis.call('SET', KEYS[3], '1', 'NX', 'PX', ARGV[1]) then return {0, 2, 0} end
return {250, 2, 0}
"""
)

# KEYS: circuit, probe. ARGV: 1 success / 0 failure, failures to open, cool-down (ms).
# -> Circuit after it. A success closes; a failure while half-open (or the n-th in a row)
# opens; failures of requests sent before it opened do not extend an open circuit.
RECORD = (
    _NOW_MS
    + """
if ARGV[1] == '1' then
  if redis.call('EXISTS', KEYS[2]) == 1 or redis.call('EXISTS', KEYS[1]) == 1 then
    redis.call('DEL', KEYS[1], KEYS[2])
  end
  return 0
end
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
local open_until = tonumber(redis.call('HGET', KEYS[1], 'open_until') or '0')
if now < open_until then return 1 end
if open_until > 0 or failures >= tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], 'open_until', now + tonumber(ARGV[3]))
  redis.call('HINCRBY', KEYS[1], 'opened', 1)
  redis.call('DEL', KEYS[2])
  return 1
end
return 0
"""
)

# KEYS: rate. ARGV: interval (ms). -> ms to wait for the slot this call reserved.
RESERVE = (
    _NOW_MS
    + """
local interval = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
redis.call('SET', KEYS[1], tat + interval, 'PX', tat - now + interval + 1000)
return tat - now
"""
)


# Requests leave this much slower than the limit: the receiver counts arrivals, which come late
# by whatever a worker was stalled (scheduling, the network), and must never see more than the
# limit in any window of its period. 10% leaves 200 ms of slack over 20 requests at 10/s. With
# 5%, a loaded 2-core machine (one worker stalled 100-200 ms, its request arriving with the next
# slot's) showed 21 requests in a 2 s window in a third of the runs; with 10%, at most 19.
RATE_MARGIN = 0.10
# How long a worker trusts that a circuit is closed with no failure in a row before it asks
# Redis again: with a closed circuit a message costs no Redis call of its own for the gate, and
# a success none for the breaker. An opening seen by another worker is noticed within it (the
# worker whose failure opened the circuit stops at once).
CLOSED_VIEW = 0.25


class Circuit(enum.IntEnum):
    CLOSED = 0
    OPEN = 1
    HALF_OPEN = 2  # one probe goes; the rest wait for its answer
    DISABLED = 3  # a 410: nothing goes until an operator enables it

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", "-")


@dataclass(frozen=True, slots=True)
class Admission:
    wait: float  # seconds; 0: go
    circuit: Circuit


@dataclass(frozen=True, slots=True)
class Status:
    """What ``hookq destinations list`` and ``hookq handlers`` show."""

    circuit: Circuit
    failures: int
    open_for: float  # seconds left of the cool-down (0 unless open)
    opened: int  # times it opened since it last closed
    disabled: dict[str, Any] | None  # why, when disabled

    def describe(self) -> str:
        if self.disabled is not None:
            return f"disabled ({self.disabled.get('reason', '?')})"
        if self.circuit is Circuit.OPEN:
            return f"circuit open ({self.open_for:.0f}s left, {self.failures} failures)"
        if self.circuit is Circuit.HALF_OPEN:
            return "circuit half-open (probing)"
        return f"circuit closed ({self.failures} failures in a row)" if self.failures else "ok"


class DestinationState:
    def __init__(self, redis: aioredis.Redis, names: Names, destination: Destination) -> None:
        self.redis = redis
        self._destination = destination
        key = names.redis_key
        self.disabled_key = key("destination", destination.name, "disabled")
        self.circuit_key = key("destination", destination.name, "circuit")
        self.probe_key = key("destination", destination.name, "probe")
        self.rate_key = key("destination", destination.name, "rate")
        # A probe's answer comes within its timeout; a probe that never reached the
        # destination (a duplicate) frees the key by itself.
        self._probe_lease_ms = int((destination.timeout + 5) * 1000)
        # Until when (monotonic) the circuit is known closed, and whether with no failure.
        self._closed_until = 0.0
        self._clean = False

    async def admit(self) -> Admission:
        if time.monotonic() < self._closed_until:
            return Admission(0.0, Circuit.CLOSED)
        wait, circuit, failures = await self.redis.eval(
            ADMIT, 3, self.disabled_key, self.circuit_key, self.probe_key, self._probe_lease_ms
        )
        found = Circuit(int(circuit))
        if found is Circuit.CLOSED:
            self._trust_closed(clean=int(failures) == 0)
        return Admission(int(wait) / 1000, found)

    def _trust_closed(self, *, clean: bool) -> None:
        self._closed_until = time.monotonic() + CLOSED_VIEW
        self._clean = clean

    async def record(self, success: bool) -> Circuit:
        if success and self._clean and time.monotonic() < self._closed_until:
            return Circuit.CLOSED  # nothing to reset
        destination = self._destination
        circuit = await self.redis.eval(
            RECORD,
            2,
            self.circuit_key,
            self.probe_key,
            1 if success else 0,
            destination.circuit_failures,
            int(destination.circuit_cooldown * 1000),
        )
        if success:
            self._trust_closed(clean=True)
        else:
            self._closed_until = 0.0  # ask Redis before the next message
        return Circuit(int(circuit))

    async def reserve(self) -> float:
        """Seconds to wait for this request's slot (0 when the destination is unlimited)."""
        limit = self._destination.rate_limit
        if limit is None:
            return 0.0
        interval_ms = max(1, round(limit.interval * (1 + RATE_MARGIN) * 1000))
        wait = await self.redis.eval(RESERVE, 1, self.rate_key, interval_ms)
        return int(wait) / 1000

    async def disable(self, reason: str) -> None:
        record = {"reason": reason, "at": time.time()}
        await self.redis.set(self.disabled_key, json.dumps(record))
        self._closed_until = 0.0

    async def enable(self) -> bool:
        """True when it was disabled."""
        return bool(await self.redis.delete(self.disabled_key))

    async def reset(self) -> None:
        await self.redis.delete(self.circuit_key, self.probe_key)

    async def status(self) -> Status:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.get(self.disabled_key)
            pipe.hgetall(self.circuit_key)
            pipe.time()
            disabled, circuit, (seconds, micros) = await pipe.execute()
        now = seconds * 1000 + micros // 1000
        fields = {k.decode(): int(v) for k, v in circuit.items()}
        open_until = fields.get("open_until", 0)
        if disabled is not None:
            state = Circuit.DISABLED
        elif open_until == 0:
            state = Circuit.CLOSED
        elif now < open_until:
            state = Circuit.OPEN
        else:
            state = Circuit.HALF_OPEN
        return Status(
            circuit=state,
            failures=fields.get("failures", 0),
            open_for=max(0.0, (open_until - now) / 1000),
            opened=fields.get("opened", 0),
            disabled=_record(disabled),
        )


def _record(raw: bytes | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    return value if isinstance(value, dict) else {"reason": "unreadable record"}


async def read_statuses(
    redis_url: str, names: Names, destinations: list[Destination], seconds: float = 3.0
) -> dict[str, Status] | None:
    """Every destination's status, for the operators' listings; None when Redis does not
    answer within ``seconds``."""
    from hookq.redis_client import REDIS_REFUSING, redis_client

    client = redis_client(redis_url)
    try:
        async with asyncio.timeout(seconds):
            return {d.name: await DestinationState(client, names, d).status() for d in destinations}
    except REDIS_REFUSING:
        return None
    finally:
        await client.aclose()
