"""StaryaAI: nothing unsigned decides dedupe, and a signed timestamp closes the replay window
(issue 12, items 6 and 9). Through the real ingress (aiohttp, publishing to the real broker)
and an in-process worker.

Before, with ``HOOKQ_STARYA_ID_HEADER`` and HMAC authentication the id header was not signed:
a captured body re-sent with new ids ran again, five times, and a different later event sent
with an id already seen was acked as a duplicate and never ran. Now the HMAC covers the id
(``{id}.{body}``), the event type is part of the dedupe identity, and a bearer request (which
signs nothing) dedupes on its body whatever id header it carries. With
``HOOKQ_STARYA_TIMESTAMP_HEADER`` the timestamp is signed too and must be within the window.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient
from pydantic import BaseModel

from hookq.handlers.api import HandlerContext, HandlerSpec
from hookq.settings import Settings
from hookq.sources.starya.config import StaryaSettings
from hookq.worker.runner import Worker
from tests.conftest import STARYA_SECRET
from tests.ingress.signing import iso
from tests.ingress.test_ingress import running_ingress
from tests.support.events import eventually
from tests.worker.conftest import StartWorker

ID_HEADER = "X-Starya-Delivery"
TIME_HEADER = "X-Starya-Timestamp"
SIGNATURE_HEADER = "X-Starya-Signature"


@dataclass
class Runs:
    seen: list[tuple[str, str]] = field(default_factory=list)  # (delivery id, event type)

    async def record(self, _event: BaseModel, ctx: HandlerContext) -> None:
        self.seen.append((ctx.delivery_id, ctx.event_type))


def body(event: str, **data: Any) -> bytes:
    return orjson.dumps({"event": event, "timestamp": iso(time.time()), "data": data})


def signed(payload: bytes, *prefix: str) -> dict[str, str]:
    """The sender's HMAC of ``{prefix...}.{body}`` (hex, ``sha256=``)."""
    message = b"".join(part.encode() + b"." for part in prefix) + payload
    mac = hmac.new(STARYA_SECRET.encode(), message, hashlib.sha256).hexdigest()
    return {SIGNATURE_HEADER: f"sha256={mac}"}


def with_starya(settings: Settings, **starya: str) -> Settings:
    sources = dict(settings.source_settings)
    sources["starya"] = StaryaSettings(secrets=[STARYA_SECRET], **starya)  # type: ignore[arg-type]
    return settings.model_copy(update={"source_settings": sources})


@dataclass
class Stack:
    ingress: TestClient[Any, Any]
    worker: Worker
    runs: Runs

    async def post(self, payload: bytes, headers: dict[str, str]) -> tuple[int, str]:
        answer = await self.ingress.post("/webhooks/starya", data=payload, headers=headers)
        data = await answer.json()
        return answer.status, str(data.get("delivery_id", data.get("error")))

    def settled(self) -> float:
        return sum(
            sample.value
            for family in self.worker.metrics.registry.collect()
            for sample in family.samples
            if sample.name == "hookq_worker_events_total"
        )


async def stack(
    settings: Settings, start_worker: StartWorker, **starya: str
) -> AsyncIterator[Stack]:
    configured = with_starya(settings, **starya)
    runs = Runs()
    spec = HandlerSpec(name="starya-sync", patterns=("starya.#",), func=runs.record, timeout=5.0)
    worker = await start_worker(configured, spec)
    async with running_ingress(configured) as ingress:
        yield Stack(ingress, worker, runs)


@pytest.fixture
async def signed_ids(settings: Settings, start_worker: StartWorker) -> AsyncIterator[Stack]:
    async for running in stack(settings, start_worker, id_header=ID_HEADER):
        yield running


@pytest.fixture
async def signed_times(settings: Settings, start_worker: StartWorker) -> AsyncIterator[Stack]:
    async for running in stack(
        settings, start_worker, id_header=ID_HEADER, timestamp_header=TIME_HEADER
    ):
        yield running


async def test_a_captured_request_resent_with_new_ids_is_refused(signed_ids: Stack) -> None:
    captured = body("campaign.sent", campaign="c-1")
    headers = {ID_HEADER: "dlv-1", **signed(captured, "dlv-1")}
    assert await signed_ids.post(captured, headers) == (200, "dlv-1")
    for n in range(2, 7):
        assert (await signed_ids.post(captured, headers | {ID_HEADER: f"dlv-{n}"}))[0] == 401
    # A signature of the body alone does not vouch for an id header beside it.
    unsigned_id = {ID_HEADER: "dlv-0", **signed(captured)}
    assert (await signed_ids.post(captured, unsigned_id))[0] == 401
    await eventually(lambda: signed_ids.settled() == 1)
    assert signed_ids.runs.seen == [("dlv-1", "campaign.sent")]


async def test_a_different_event_with_an_id_already_seen_still_runs(signed_ids: Stack) -> None:
    first = body("campaign.sent", campaign="c-2")
    assert await signed_ids.post(first, {ID_HEADER: "dlv-7", **signed(first, "dlv-7")}) == (
        200,
        "dlv-7",
    )
    # Another body under that id needs a signature of its own: a forger's is refused...
    forged = body("campaign.cancelled", campaign="c-2")
    assert (await signed_ids.post(forged, {ID_HEADER: "dlv-7", **signed(first, "dlv-7")}))[0] == (
        401
    )
    # ...and the sender's own, for an event of another type, runs: it is another event.
    later = body("campaign.cancelled", campaign="c-2")
    assert await signed_ids.post(later, {ID_HEADER: "dlv-7", **signed(later, "dlv-7")}) == (
        200,
        "dlv-7",
    )
    await eventually(lambda: len(signed_ids.runs.seen) == 2)
    assert sorted(signed_ids.runs.seen) == [
        ("dlv-7", "campaign.cancelled"),
        ("dlv-7", "campaign.sent"),
    ]


async def test_bearer_requests_dedupe_on_their_body_whatever_id_they_carry(
    signed_ids: Stack,
) -> None:
    bearer = {"Authorization": f"Bearer {STARYA_SECRET}"}
    payload = body("campaign.sent", campaign="c-3")
    digest = f"sha256:{hashlib.sha256(payload).hexdigest()}"
    # An id already used by a signed event: not trusted, so it swallows nothing.
    signed_first = body("campaign.sent", campaign="c-0")
    await signed_ids.post(signed_first, {ID_HEADER: "dlv-8", **signed(signed_first, "dlv-8")})
    assert await signed_ids.post(payload, bearer | {ID_HEADER: "dlv-8"}) == (200, digest)
    # The same body under other ids is the same delivery: a duplicate, not a second run.
    for n in range(3):
        assert await signed_ids.post(payload, bearer | {ID_HEADER: f"other-{n}"}) == (200, digest)
    await eventually(lambda: signed_ids.settled() == 5)
    assert sorted(signed_ids.runs.seen) == sorted(
        [("dlv-8", "campaign.sent"), (digest, "campaign.sent")]
    )


async def test_a_signed_timestamp_outside_the_window_is_refused(signed_times: Stack) -> None:
    tolerance = 300  # HOOKQ_TIMESTAMP_TOLERANCE's default
    payload = body("campaign.sent", campaign="c-4")
    now = str(int(time.time()))
    fresh = {ID_HEADER: "dlv-9", TIME_HEADER: now, **signed(payload, "dlv-9", now)}
    assert await signed_times.post(payload, fresh) == (200, "dlv-9")

    old = str(int(time.time()) - tolerance - 60)
    replayed = {ID_HEADER: "dlv-10", TIME_HEADER: old, **signed(payload, "dlv-10", old)}
    assert (await signed_times.post(payload, replayed))[0] == 401
    # Its time moved into the window without a new signature: refused as well.
    assert (await signed_times.post(payload, replayed | {TIME_HEADER: now}))[0] == 401
    # Unsigned times are not accepted at all once the header is configured.
    assert (await signed_times.post(payload, {ID_HEADER: "dlv-11", **signed(payload, "dlv-11")}))[
        0
    ] == 401
    await eventually(lambda: signed_times.settled() == 1)
    assert signed_times.runs.seen == [("dlv-9", "campaign.sent")]
