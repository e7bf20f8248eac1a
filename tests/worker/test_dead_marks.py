"""A delivery that ended dead for a handler is a duplicate for it (issue 12, item 15).

Plain retries a webhook it got no 2xx for, and may send one again anyway: each resend carries
the same ``id`` with a new delivery attempt (id, number and time), so its bytes differ. Before,
every resend of an event its handler had rejected ran the handler again and added one more
dead letter. Now the dead letter's key is marked dead: resends are duplicates, and an
operator's replay (a generation of its own) still runs it.

Through the real ingress (signed Plain requests) and an in-process worker, with ``hookq dlq
replay`` run as an operator runs it.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections import Counter
from typing import Any

from aio_pika.abc import AbstractRobustConnection

from hookq.handlers.api import HandlerContext, HandlerSpec, Reject
from hookq.settings import Settings
from hookq.topology import Names
from hookq.worker.metrics import WorkerMetrics
from hookq.worker.outcomes import Outcome
from tests.fixtures import REFERENCE
from tests.ingress import signing
from tests.ingress.test_ingress import running_ingress
from tests.support.events import eventually
from tests.worker.conftest import StartWorker
from tests.worker.test_dlq_records import eventually_ready, ready
from tests.worker.test_dlq_replay import cli_env, hookq

HANDLER = "plain-sync"
RESENDS = 5
THREAD_CREATED = json.loads((REFERENCE / "plain" / "plain-thread-created.raw.json").read_text())


def attempt(event_id: str, number: int) -> dict[str, Any]:
    """Plain's delivery attempt ``number`` of one event: same id, new attempt metadata."""
    event: dict[str, Any] = copy.deepcopy(THREAD_CREATED)
    event["id"] = event_id
    event["webhookMetadata"]["webhookDeliveryAttemptId"] = f"whAttempt_{event_id}_{number}"
    event["webhookMetadata"]["webhookDeliveryAttemptNumber"] = number
    return event


def plain_outcomes(metrics: WorkerMetrics, outcome: Outcome) -> float:
    value = metrics.registry.get_sample_value(
        "hookq_worker_events_total",
        {
            "source": "plain",
            "event_type": "thread.thread_created",
            "handler": HANDLER,
            "outcome": outcome,
        },
    )
    return value or 0.0


async def test_a_rejected_plain_event_resent_is_one_dead_letter_and_a_replay_runs_it(
    settings: Settings, names: Names, amqp: AbstractRobustConnection, start_worker: StartWorker
) -> None:
    runs: Counter[str] = Counter()
    rejecting = True

    async def sync(_event: Any, ctx: HandlerContext) -> None:
        runs[ctx.delivery_id] += 1
        if rejecting:
            raise Reject("thread belongs to no known workspace")

    worker = await start_worker(
        settings, HandlerSpec(name=HANDLER, patterns=("plain.#",), func=sync, timeout=5.0)
    )
    metrics = worker.metrics
    async with running_ingress(settings) as ingress:
        body, headers = signing.plain_request(attempt("pEv_resent", 1))
        assert (await ingress.post("/webhooks/plain", data=body, headers=headers)).status == 200
        await eventually_ready(amqp, names.dead_queue(HANDLER), 1)

        for number in range(2, RESENDS + 2):
            body, headers = signing.plain_request(attempt("pEv_resent", number), now=time.time())
            answer = await ingress.post("/webhooks/plain", data=body, headers=headers)
            assert answer.status == 200, await answer.text()
        await eventually(lambda: plain_outcomes(metrics, Outcome.DUPLICATE) == RESENDS)

    assert runs == Counter({"pEv_resent": 1})
    assert plain_outcomes(metrics, Outcome.DEAD) == 1
    assert await ready(amqp, names.dead_queue(HANDLER)) == 1

    rejecting = False  # the cause is fixed: the operator replays it, and it runs
    replay = await asyncio.create_subprocess_exec(
        *hookq("dlq", "replay", "--handler", HANDLER, "--all"), env=cli_env(settings)
    )
    assert await replay.wait() == 0
    await eventually(lambda: plain_outcomes(metrics, Outcome.PROCESSED) == 1)
    assert runs == Counter({"pEv_resent": 2})
    assert await ready(amqp, names.dead_queue(HANDLER)) == 0
    assert await ready(amqp, names.handler_queue(HANDLER)) == 0
