"""Valid JSON that orjson and pydantic's parser refuse goes through a real ingress and worker
to its handlers (issue 12, items 22 and 25): a lone surrogate escape, and unknown fields nested
200, 1,024 and ``MAX_JSON_DEPTH`` levels deep (Plain's models keep unknown fields as they
are). One level deeper is a 400 at the ingress.

Not covered: a model field of a recursive type (Standard's ``data: JsonValue``) is validated
level by level, and pydantic stops at 254 levels (docs/reliability.md)."""

from __future__ import annotations

import asyncio
import time

import orjson
import redis.asyncio as aioredis

from hookq.settings import Settings
from hookq.sources.jsonbody import MAX_JSON_DEPTH
from hookq.topology import Names
from tests.reliability import rawhttp, senders
from tests.reliability.load import RECORDER_NAMES, RECORDERS, leftover_messages, wait_for_effects
from tests.reliability.procs import Fleet
from tests.reliability.scenario import worker_env
from tests.reliability.summary import SUMMARY


def plain(value: bytes) -> senders.Request:
    """A signed Plain event whose payload's ``unknown`` field is the given JSON text, as is."""
    request = senders.plain("thread.rel_json", {"unknown": "MARK"})
    body = request.body.replace(b'"MARK"', value)
    headers = dict(request.headers, **{"Plain-Request-Signature": senders.plain_signature(body)})
    return senders.Request("plain", body, headers, request.delivery_id)


def nested(depth: int) -> bytes:
    return b'{"u":' * depth + b"1" + b"}" * depth


def test_valid_json_beyond_the_parsers_reaches_the_handlers(
    fleet: Fleet, settings: Settings, names: Names
) -> None:
    _ingress, port = fleet.ingress()
    fleet.worker(worker_env())
    # Levels around the unknown field: the event object and its payload.
    deepest = MAX_JSON_DEPTH - 2
    bodies = {
        "lone surrogate": b'"truncated \\ud83d, \\udc00"',
        "200 levels": nested(200),
        "1,024 levels": nested(1024),
        f"{deepest} levels": nested(deepest),
    }
    acked: dict[str, str] = {}
    for name, value in bodies.items():
        request = plain(value)
        status, answer = rawhttp.post(port, request.path, request.body, request.headers)
        assert status == 200, (name, answer)
        acked[name] = orjson.loads(answer)["delivery_id"]
    too_deep = plain(nested(deepest + 1))
    status, answer = rawhttp.post(port, too_deep.path, too_deep.body, too_deep.headers)
    assert status == 400, answer
    SUMMARY.events += len(acked)

    async def effects() -> set[tuple[str, str]]:
        async with aioredis.from_url(settings.redis_url) as client:
            found = await wait_for_effects(
                client, names.redis_key("effects"), set(acked.values()), RECORDER_NAMES, 60
            )
        return {(e.handler, e.delivery_id) for e in found if e.kind == "effect"}

    done = asyncio.run(effects())
    missing = {
        (handler, name)
        for name, delivery_id in acked.items()
        for handler in RECORDER_NAMES
        if (handler, delivery_id) not in done
    }
    assert not missing, f"no effect (dead-lettered?) for {sorted(missing)}"
    time.sleep(0.5)
    assert not asyncio.run(leftover_messages(settings.amqp_url, names, RECORDERS))
