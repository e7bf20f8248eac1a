"""Traffic as a provider sends it (retrying 503s and broken connections, some events twice), and
the scenario's reading of what happened: effects recorded, queues left over."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import aiohttp
import orjson
import redis.asyncio as aioredis

from hookq import amqp
from hookq.handlers.api import HandlerSpec, spec_of
from hookq.topology import Names
from tests.reliability import effects, senders
from tests.reliability.ledger import Effect

RECORDERS: tuple[HandlerSpec, ...] = tuple(
    spec for spec in (spec_of(effects.record_a), spec_of(effects.record_b)) if spec is not None
)
RECORDER_NAMES = tuple(spec.name for spec in RECORDERS)


@dataclass
class Outcomes:
    """What the ingress answered, per delivery id."""

    acked: set[str] = field(default_factory=set)  # answered 2xx (at least once)
    unsure: set[str] = field(default_factory=set)  # a 503 or a broken connection at some point
    refused: dict[str, int] = field(default_factory=dict)  # a 4xx: the scenario is broken
    statuses: Counter[int] = field(default_factory=Counter)  # 0: no answer
    sent: int = 0  # requests, retries included

    @property
    def ambiguous(self) -> set[str]:
        """Never acknowledged, yet maybe published (the confirm or the answer got lost)."""
        return self.unsure - self.acked


def with_retries_of(
    requests: Sequence[senders.Request], every: int, rng: random.Random
) -> list[senders.Request]:
    """Every ``every``-th request sent a second time, somewhat later, as a provider's retry."""
    out = list(requests)
    for index in range(0, len(requests), every):
        later = min(len(out), index + rng.randint(1, 50))
        out.insert(later, requests[index])
    return out


async def deliver(
    session: aiohttp.ClientSession,
    base_url: str,
    request: senders.Request,
    outcomes: Outcomes,
    give_up_after: float = 60.0,
) -> None:
    """POST until answered 2xx, pausing between tries, as providers retry."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + give_up_after
    while True:
        outcomes.sent += 1
        try:
            async with session.post(
                base_url + request.path, data=request.body, headers=request.headers
            ) as response:
                status = response.status
                answer = await response.read()
        except (aiohttp.ClientError, TimeoutError):
            status = 0
        outcomes.statuses[status] += 1
        if 200 <= status < 300:
            # The ingress names the id it computed (a digest for sources that send none).
            outcomes.acked.add(orjson.loads(answer)["delivery_id"])
            return
        if 400 <= status < 500:
            outcomes.refused[request.delivery_id] = status
            return
        outcomes.unsure.add(request.delivery_id)
        if loop.time() > deadline:
            return
        await asyncio.sleep(0.2)


async def send_all(
    base_url: str,
    requests: Iterable[senders.Request],
    concurrency: int = 16,
    outcomes: Outcomes | None = None,
) -> Outcomes:
    """Every request delivered as a provider would; ``outcomes`` fills as answers arrive."""
    outcomes = outcomes if outcomes is not None else Outcomes()
    queue: asyncio.Queue[senders.Request] = asyncio.Queue()
    for request in requests:
        queue.put_nowait(request)
    timeout = aiohttp.ClientTimeout(total=15)
    async with aiohttp.ClientSession(timeout=timeout) as session:

        async def sender() -> None:
            while not queue.empty():
                await deliver(session, base_url, queue.get_nowait(), outcomes)

        await asyncio.gather(*(sender() for _ in range(concurrency)))
    return outcomes


async def read_effects(client: aioredis.Redis, key: str) -> list[Effect]:
    return [Effect.from_record(raw) for raw in await client.lrange(key, 0, -1)]


async def wait_for_effects(
    client: aioredis.Redis, key: str, acked: set[str], handlers: Sequence[str], timeout: float
) -> list[Effect]:
    """Until every acked event has an effect for every handler, or ``timeout``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        found = await read_effects(client, key)
        done = {(e.handler, e.delivery_id) for e in found if e.kind == "effect"}
        if all((h, d) in done for h in handlers for d in acked) or loop.time() > deadline:
            return found
        await asyncio.sleep(0.5)


async def leftover_messages(
    amqp_url: str, names: Names, specs: Sequence[HandlerSpec]
) -> dict[str, int]:
    """Messages still in each handler's queue, delay tiers and dead letters (non-zero only)."""
    queues = [names.unrouted_queue]
    for spec in specs:
        queues.append(names.handler_queue(spec.name))
        queues.append(names.dead_queue(spec.name))
        queues += [names.retry_queue(spec.name, delay) for delay in spec.retry_delays]
    left: dict[str, int] = {}
    connection = await amqp.connect(amqp_url, "test-leftovers")  # any node of a cluster
    async with connection:
        channel = await connection.channel()
        for name in queues:
            queue = await channel.declare_queue(name, passive=True)
            count = queue.declaration_result.message_count or 0
            if count:
                left[name] = count
    return left
