"""``hookq.testing.run_handler``: a handler run through the worker's own pipeline, each outcome as
the worker decides it, the typed event and context the handler got, hooks around every stage;
and its binding check, held to the real broker's topic routing."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import pytest
from aio_pika.abc import AbstractRobustConnection

import hookq.worker.pipeline
from hookq.handlers.annotations import AnnotationMismatch
from hookq.handlers.api import Backoff, HandlerContext, Reject, Retry, handler, spec_of
from hookq.sources.catalogue import example
from hookq.sources.livechat import IncomingChat
from hookq.sources.plain import ThreadChatSent
from hookq.sources.standard import StandardEvent
from hookq.testing import run_handler
from hookq.topology import topic_matches
from hookq.worker.hooks import Delivery, Hook, Stage
from hookq.worker.outcomes import Outcome
from hookq.worker.outcomes import after_run as worker_after_run

BACKOFF = Backoff(base=2, factor=5, max_delay=300, jitter=False)


@handler("plain.thread.chat_sent", name="kit-chat", max_attempts=4, backoff=BACKOFF)
async def on_chat(event: ThreadChatSent, ctx: HandlerContext) -> None:
    """Fails as its test asks (through the event's text: the kit gives any payload)."""
    text = event.payload.chat.text
    if text == "reject me":
        raise Reject("customer asked to be forgotten")
    if text == "retry in 30":
        raise Retry("rate limited", delay=30)
    if text == "crash":
        raise KeyError("missing")
    if text == "hang":
        await asyncio.sleep(5)


def chat(text: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(example("plain", "thread.chat_sent"))
    event["payload"]["chat"]["text"] = text
    return event


async def test_done_with_the_typed_event_and_its_context() -> None:
    result = await run_handler(on_chat, "plain", "thread.chat_sent")
    assert result.done
    assert result.outcome is Outcome.PROCESSED
    assert (result.delay, result.failure, result.error) == (None, None, None)
    assert isinstance(result.event, ThreadChatSent)
    assert result.event.payload.chat.text == "You are welcome!"
    ctx = result.context
    assert ctx is not None
    assert (ctx.handler, ctx.source, ctx.event_type) == ("kit-chat", "plain", "thread.chat_sent")
    assert (ctx.attempt, ctx.max_attempts) == (1, 4)
    assert ctx.delivery_id == "pEv_01HE8AM6GZVS1S3609PFGR30FE"  # Plain's event id


async def test_a_failure_is_retried_after_the_backoff_tier() -> None:
    first = await run_handler(on_chat, "plain", "thread.chat_sent", chat("crash"))
    assert first.retried
    assert first.delay == 2.0
    assert isinstance(first.error, KeyError)
    assert first.failure is not None
    assert first.failure.error_type == "KeyError"
    third = await run_handler(on_chat, "plain", "thread.chat_sent", chat("crash"), attempt=3)
    assert third.retried
    assert third.delay == 50.0
    assert third.context is not None
    assert third.context.attempt == 3


async def test_retry_with_a_delay_waits_in_the_tier_at_least_as_long() -> None:
    result = await run_handler(on_chat, "plain", "thread.chat_sent", chat("retry in 30"))
    assert result.retried
    assert result.reason == "rate limited"
    assert result.delay == 50.0  # tiers 2, 10, 50: the shortest of at least 30 s


async def test_jitter_picks_the_tier_below_or_the_nominal_one() -> None:
    @handler("plain.thread.chat_sent", name="kit-jitter", max_attempts=5)
    async def flaky(_event: ThreadChatSent, _ctx: HandlerContext) -> None:
        raise RuntimeError("down")

    delays = {
        (await run_handler(flaky, "plain", "thread.chat_sent", attempt=3)).delay for _ in range(30)
    }
    assert delays == {4.0, 16.0}  # Backoff(): 1, 4, 16, 64


async def test_reject_is_dead_at_once_with_the_reason() -> None:
    result = await run_handler(on_chat, "plain", "thread.chat_sent", chat("reject me"))
    assert result.dead
    assert result.reason == "customer asked to be forgotten"
    assert result.failure is not None
    assert result.failure.error_type == "Reject"


async def test_the_last_attempt_that_fails_is_dead() -> None:
    result = await run_handler(on_chat, "plain", "thread.chat_sent", chat("crash"), attempt=4)
    assert result.dead
    assert result.delay is None


async def test_a_run_over_its_timeout_is_a_timeout_failure() -> None:
    spec = spec_of(on_chat)
    assert spec is not None
    quick = dataclasses.replace(spec, timeout=0.05)
    result = await run_handler(quick, "plain", "thread.chat_sent", chat("hang"))
    assert result.retried
    assert result.failure is not None
    assert result.failure.error_type == "HandlerTimeout"


async def test_an_invalid_payload_never_reaches_the_handler() -> None:
    event = chat("hi")
    del event["payload"]["thread"]
    result = await run_handler(on_chat, "plain", "thread.chat_sent", event)
    assert result.invalid
    assert result.event is None
    assert result.context is None
    assert result.reason is not None
    assert "payload.thread: Field required" in result.reason


async def test_the_outcome_is_the_workers_own_after_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """No second implementation: the kit's verdict is the one the worker's pipeline asks."""
    calls: list[int] = []

    def spy(error: BaseException | None, spec: Any, attempt: int, **kw: Any) -> Any:
        calls.append(attempt)
        return worker_after_run(error, spec, attempt, **kw)

    monkeypatch.setattr(hookq.worker.pipeline, "after_run", spy)
    await run_handler(on_chat, "plain", "thread.chat_sent", attempt=2)
    assert calls == [2]


async def test_livechat_handler_never_sees_the_secret_and_gets_the_ingress_delivery_id() -> None:
    @handler("livechat.incoming_chat", name="kit-livechat")
    async def on_incoming(_event: IncomingChat, _ctx: HandlerContext) -> None:
        return None

    result = await run_handler(on_incoming, "livechat", "incoming_chat")
    assert isinstance(result.event, IncomingChat)
    assert "secret_key" not in (result.event.model_extra or {})
    assert result.context is not None
    assert result.context.delivery_id.startswith("sha256:")


async def test_standard_handler_gets_the_signed_headers() -> None:
    @handler("standard.#", name="kit-standard")
    async def on_any(_event: StandardEvent, _ctx: HandlerContext) -> None:
        return None

    payload = {"type": "invoice.paid", "data": {"amount": 1}}
    result = await run_handler(on_any, "standard", "invoice.paid", payload)
    assert result.done
    assert isinstance(result.event, StandardEvent)
    assert result.context is not None
    assert result.context.headers["webhook-id"] == result.context.delivery_id


class StageRecorder(Hook):
    def __init__(self, label: str, log: list[str]) -> None:
        self.label, self.log = label, log

    def around(
        self, stage: Stage, delivery: Delivery
    ) -> contextlib.AbstractAsyncContextManager[Any]:
        @contextlib.asynccontextmanager
        async def span() -> AsyncIterator[None]:
            self.log.append(f"{self.label}>{stage.value}")
            yield
            self.log.append(f"{self.label}<{stage.value}")

        return span()

    def settled(self, delivery: Delivery, outcome: Outcome) -> None:
        self.log.append(f"{self.label}:{outcome.value}:{delivery.failure is not None}")


async def test_hooks_wrap_every_stage_in_order_and_hear_the_outcome() -> None:
    log: list[str] = []
    hooks = [StageRecorder("a", log), StageRecorder("b", log)]
    await run_handler(on_chat, "plain", "thread.chat_sent", chat("crash"), hooks=hooks)
    stages = [entry for entry in log if entry.startswith("a>")]
    assert stages == ["a>message", "a>validate", "a>claim", "a>run", "a>settle"]
    assert log[:2] == ["a>message", "b>message"]  # the first registered is outermost
    assert [entry for entry in log if ":" in entry] == ["a:retried:True", "b:retried:True"]
    assert log[-2:] == ["b<message", "a<message"]


async def test_hooks_of_an_invalid_event_see_no_run() -> None:
    log: list[str] = []
    event = chat("hi")
    del event["workspaceId"]
    result = await run_handler(
        on_chat, "plain", "thread.chat_sent", event, hooks=[StageRecorder("h", log)]
    )
    assert result.invalid
    stages = [entry for entry in log if entry.startswith("h>")]
    assert stages == ["h>message", "h>validate", "h>claim", "h>settle"]


class Broken(Hook):
    def around(self, stage: Stage, delivery: Delivery) -> None:
        if stage is Stage.RUN:
            raise RuntimeError("hook bug")


async def test_a_failing_hook_requeues_as_in_the_worker() -> None:
    result = await run_handler(on_chat, "plain", "thread.chat_sent", hooks=[Broken()])
    assert result.outcome is Outcome.REQUEUED
    assert result.reason == "hook error"
    assert result.context is None  # the hook failed before the handler ran


async def test_an_event_the_handler_is_not_bound_to_is_refused() -> None:
    # A worker would never give it one: its patterns decide, as the broker's bindings do.
    with pytest.raises(ValueError, match=r"not bound to 'plain\.thread\.email_sent'"):
        await run_handler(on_chat, "plain", "thread.email_sent")


async def test_an_undecorated_function_or_an_attempt_out_of_range_is_refused() -> None:
    async def plain_function(_event: Any, _ctx: HandlerContext) -> None:
        return None

    with pytest.raises(TypeError, match="decorate it with @handler"):
        await run_handler(plain_function, "plain", "thread.chat_sent")
    for attempt in (0, 5):
        with pytest.raises(ValueError, match="attempt must be 1 to 4"):
            await run_handler(on_chat, "plain", "thread.chat_sent", attempt=attempt)


async def test_a_handler_discovery_would_refuse_is_refused() -> None:
    @handler("plain.thread.#", name="kit-too-wide")
    async def too_wide(_event: ThreadChatSent, _ctx: HandlerContext) -> None:
        return None

    with pytest.raises(AnnotationMismatch, match="takes ThreadChatSent"):
        await run_handler(too_wide, "plain", "thread.chat_sent")


# The binding check: the broker's topic rule ---------------------------------------------------

PATTERNS = ["plain.#", "plain.thread.*", "*.thread.chat_sent", "#", "#.chat_sent", "a.#.b", "a.*"]
KEYS = ["plain.thread.chat_sent", "plain", "plain.thread", "livechat.chat_sent", "a.b", "a.x.y.b"]
KEYS += ["a", "a.x", "plain.thread.chat_sent.x", "standard.invoice.paid"]


async def test_the_binding_check_routes_as_the_broker_does(
    amqp: AbstractRobustConnection, namespace: str
) -> None:
    channel = await amqp.channel()
    exchange = await channel.declare_exchange(
        f"{namespace}.topics", aio_pika.ExchangeType.TOPIC, auto_delete=True
    )
    queues = {}
    for number, pattern in enumerate(PATTERNS):
        queue = await channel.declare_queue(f"{namespace}.topics.{number}", auto_delete=True)
        await queue.bind(exchange, routing_key=pattern)
        queues[pattern] = queue
    for key in KEYS:
        await exchange.publish(aio_pika.Message(key.encode()), routing_key=key)
    for pattern, queue in queues.items():
        routed = set()
        while (message := await queue.get(no_ack=True, fail=False, timeout=5)) is not None:
            routed.add(message.body.decode())
        assert routed == {k for k in KEYS if topic_matches(pattern, k)}, pattern
