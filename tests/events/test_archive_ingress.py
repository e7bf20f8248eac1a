"""The archive at the ingress: one confirmed publish routes each accepted event to the archive
stream and to the events exchange; unrouted events still reach the unrouted keeper; with
``HOOKQ_ARCHIVE=off`` nothing is archived."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from aio_pika.abc import AbstractRobustConnection

from hookq.events import Selection, search
from hookq.events.archive import ArchiveMissing
from hookq.settings import Settings, SettingsError, load_settings
from hookq.topology import Names, declare_handler, queue_state
from tests.conftest import LIVECHAT_SECRET
from tests.events.support import events_command
from tests.ingress import signing
from tests.ingress.test_ingress import LIVECHAT_FIXTURES, drain, post, running_ingress


async def test_accepted_events_are_archived_and_unrouted_still_kept(
    settings: Settings, amqp: AbstractRobustConnection, names: Names
) -> None:
    channel = await amqp.channel()
    # A handler bound to Starya's chats only: Plain's event is routed nowhere else.
    await declare_handler(channel, names, "chats", ["starya.chat.*"], [1.0], 5)
    chat = signing.starya_bearer({"event": "chat.created", "data": {"id": "c1"}})
    other = signing.starya_bearer({"event": "invoice.paid", "data": {"id": "i1"}})
    livechat = signing.livechat_request(orjson.loads(LIVECHAT_FIXTURES[0].read_bytes()))
    async with running_ingress(settings) as ingress:
        for source, request in (("starya", chat), ("starya", other), ("livechat", livechat)):
            response = await post(ingress, source, request)
            assert response.status == 200, await response.text()

    archived = await search(settings, Selection())
    assert [e.routing_key.split(".")[0] for e in archived] == ["starya", "starya", "livechat"]
    assert archived[0].body == chat[0]
    assert archived[1].body == other[0]
    # Exactly as queued: LiveChat's secret_key stripped before the publish.
    assert LIVECHAT_SECRET.encode() not in archived[2].body
    assert b"secret_key" not in archived[2].body

    handler_queue = await channel.declare_queue(names.handler_queue("chats"), passive=True)
    assert [m.body for m in await drain(handler_queue)] == [chat[0]]
    unrouted = await channel.declare_queue(names.unrouted_queue, passive=True)
    assert sorted(str(m.routing_key) for m in await drain(unrouted)) == sorted(
        ["starya.invoice.paid", archived[2].routing_key]
    )


async def test_archive_off_publishes_as_before(
    settings: Settings, amqp: AbstractRobustConnection, names: Names
) -> None:
    off = settings.model_copy(update={"archive": False})
    request = signing.starya_bearer({"event": "chat.created", "data": {"id": "c2"}})
    async with running_ingress(off) as ingress:
        assert (await post(ingress, "starya", request)).status == 200
    assert await queue_state(amqp, names.archive_stream) is None
    unrouted = await (await amqp.channel()).declare_queue(names.unrouted_queue, passive=True)
    assert [m.body for m in await drain(unrouted)] == [request[0]]
    with pytest.raises(ArchiveMissing):
        await search(off, Selection())
    code, _out, err = await events_command(off, "list")
    assert code == 2
    assert "HOOKQ_ARCHIVE on" in err


@pytest.mark.parametrize("age", ["7d", "0D", "7", "1w", " 7D"])
def test_archive_max_age_is_rabbitmq_syntax(age: str, monkeypatch: Any) -> None:
    monkeypatch.setenv("HOOKQ_ARCHIVE_MAX_AGE", age)
    with pytest.raises(SettingsError, match="HOOKQ_ARCHIVE_MAX_AGE"):
        load_settings()


def test_archive_settings_read_from_the_environment(monkeypatch: Any) -> None:
    monkeypatch.setenv("HOOKQ_ARCHIVE", "off")
    monkeypatch.setenv("HOOKQ_ARCHIVE_MAX_AGE", "12h")
    monkeypatch.setenv("HOOKQ_ARCHIVE_MAX_BYTES", "1000000")
    loaded = load_settings()
    assert (loaded.archive, loaded.archive_max_age, loaded.archive_max_bytes) == (
        False,
        "12h",
        1_000_000,
    )
