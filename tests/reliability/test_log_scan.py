"""The logs of the real processes, after traffic full of personal data and secrets (accepted,
refused and dead-lettered), contain no configured secret, LiveChat ``secret_key``, CPF, full
email or phone number. Every process any reliability test starts is scanned the same way when
that test ends (the ``fleet`` fixture); these tests make sure the data passed everywhere first."""

from __future__ import annotations

import asyncio

import aio_pika
import redis.asyncio as aioredis

from hookq.settings import Settings
from hookq.topology import Names
from tests.reliability import senders
from tests.reliability.load import read_effects, send_all
from tests.reliability.logscan import describe, leaks_in, scan_files
from tests.reliability.procs import Fleet
from tests.reliability.scenario import worker_env

# The secrets among the forbidden values (personal data is the event's content: it is queued).
SECRETS = {label: value for label, value in senders.FORBIDDEN.items() if "secret" in label}


async def dead_letters(settings: Settings, queue: str) -> int:
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        return declared.declaration_result.message_count or 0


async def run_traffic(
    fleet: Fleet,
    settings: Settings,
    names: Names,
    redis_client: aioredis.Redis,
    handler: str,
    **env: str,
) -> tuple[int, int, int]:
    """Send the personal-data traffic through an ingress and a worker until each accepted event
    has an effect or a dead letter in ``handler``; returns (accepted, effects, dead letters)."""
    ingress, port = fleet.ingress()
    # event-log's timeout (5 s) must stay below the claim lease.
    worker = fleet.worker(worker_env(HOOKQ_CLAIM_LEASE="10", **env))
    accepted, refused = senders.personal_data_traffic()
    ok = await send_all(f"http://127.0.0.1:{port}", accepted, concurrency=2)
    bad = await send_all(f"http://127.0.0.1:{port}", refused, concurrency=2)
    assert len(ok.acked) == len(accepted), ok.statuses
    assert not bad.acked, f"refused traffic was accepted: {bad.statuses}"
    effects = dead = 0
    for _ in range(120):
        found = await read_effects(redis_client, names.redis_key("effects"))
        effects = len({e.delivery_id for e in found if e.handler == handler and e.kind == "effect"})
        dead = await dead_letters(settings, names.dead_queue(handler))
        if effects + dead >= len(accepted):
            break
        await asyncio.sleep(0.5)
    fleet.stop(worker)
    fleet.stop(ingress)
    return len(accepted), effects, dead


def assert_logs_clean(fleet: Fleet, *must_contain: str) -> None:
    text = "".join(path.read_text(errors="replace") for path in fleet.log_files())
    missing = [line for line in must_contain if line not in text]
    assert not missing, f"the logs lack {missing}: nothing to scan"
    leaks = scan_files(fleet.log_files())
    assert not leaks, f"secrets or personal data in process logs: {describe(leaks)}"


async def test_pipeline_logs_hold_no_personal_data_or_secrets(
    fleet: Fleet, settings: Settings, names: Names, redis_client: aioredis.Redis
) -> None:
    handlers = "tests.reliability.effects"
    accepted, effects, dead = await run_traffic(
        fleet,
        settings,
        names,
        redis_client,
        "rel-a",
        HOOKQ_HANDLER_MODULES=handlers,
        HOOKQ_BUILTIN_HANDLERS="event-log",
    )
    assert effects + dead == accepted, (effects, dead)
    assert dead >= 1, "no event was dead-lettered: validation errors were not exercised"
    assert effects >= 1
    assert_logs_clean(fleet, "webhook refused", "dead-lettered", "event received")


async def test_handler_errors_quoting_personal_data_are_not_logged(
    fleet: Fleet, settings: Settings, names: Names, redis_client: aioredis.Redis
) -> None:
    accepted, effects, dead = await run_traffic(
        fleet,
        settings,
        names,
        redis_client,
        "rel-pii",
        HOOKQ_HANDLER_MODULES="tests.reliability.pii_handlers",
    )
    assert effects + dead == accepted, (effects, dead)
    assert_logs_clean(fleet, "LookupError")


async def test_livechat_secret_key_never_reaches_the_broker(
    fleet: Fleet, settings: Settings, names: Names
) -> None:
    """What operators can read in the broker (bodies, headers) carries no secret either."""
    _ingress, port = fleet.ingress()
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        channel = await connection.channel()
        probe = await channel.declare_queue(exclusive=True)
        await probe.bind(names.events_exchange, routing_key="#")
        accepted, _refused = senders.personal_data_traffic()
        ok = await send_all(f"http://127.0.0.1:{port}", accepted, concurrency=2)
        assert len(ok.acked) == len(accepted), ok.statuses
        queued = []
        while (message := await probe.get(no_ack=True, fail=False)) is not None:
            queued.append(message.body + repr(message.headers).encode())
    assert len(queued) == len(accepted), "not every accepted request reached the probe"
    assert any(b"incoming_chat" in raw for raw in queued), "no LiveChat event to check"
    leaked = [label for raw in queued for label in leaks_in(raw.decode(errors="replace"), SECRETS)]
    assert not leaked, f"secrets in queued messages: {sorted(set(leaked))}"
