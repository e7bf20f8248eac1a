"""hookq's AMQP frame reader: the frames aiormq's own reader gives, from the same bytes, and the
same errors for what is not a frame; and the connections hookq opens use it."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import re
from collections.abc import Callable, Iterator

import aio_pika
import aiormq.connection
import pamqp.decode
import pamqp.encode
import pamqp.frame
import pytest
from aiormq.exceptions import AMQPConnectionError, InvalidFrameError, ProtocolSyntaxError
from hypothesis import given, settings
from hypothesis import strategies as st
from pamqp import commands
from pamqp.body import ContentBody
from pamqp.common import FieldTable
from pamqp.header import ContentHeader
from pamqp.heartbeat import Heartbeat

from hookq import amqp_frames
from hookq.amqp import connect_robust
from hookq.amqp_frames import FrameReader

# aiormq's own reader: the class ours extends (``install`` puts ours in its place in aiormq's
# module, so that name may already be ours when this runs).
AIORMQ_READER = FrameReader.__bases__[0]
HEADERS: FieldTable = {"hookq-source": "plain", "hookq-attempt": 2, "nested": {"a": [1, "b"]}}


def delivery(tag: int, body: bytes) -> bytes:
    """The three frames of one delivered message on channel 1."""
    properties = commands.Basic.Properties(headers=HEADERS, message_id=f"m{tag}")
    return b"".join(
        [
            pamqp.frame.marshal(
                commands.Basic.Deliver("ctag", tag, False, "ex", "plain.thread"), 1
            ),
            pamqp.frame.marshal(ContentHeader(0, len(body), properties), 1),
            pamqp.frame.marshal(ContentBody(body), 1),
        ]
    )


async def frames_of(
    kind: type[aiormq.connection.FrameReceiver], data: bytes
) -> list[aiormq.connection.ReceivedFrame]:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return [frame async for frame in kind(reader)]


async def test_it_reads_what_aiormq_reads() -> None:
    assert AIORMQ_READER.__module__ == "aiormq.connection"
    data = delivery(1, b'{"id": 1}') + pamqp.frame.marshal(Heartbeat(), 0) + delivery(2, b"x" * 300)
    ours = await frames_of(FrameReader, data)
    theirs = await frames_of(AIORMQ_READER, data)
    assert len(ours) == 7
    assert [(size, channel, type(f), vars(f)) for size, channel, f in ours] == [
        (size, channel, type(f), vars(f)) for size, channel, f in theirs
    ]
    _size, _channel, header = ours[1]
    assert isinstance(header, ContentHeader)
    assert header.properties.headers == HEADERS


@pytest.mark.parametrize(
    ("data", "error", "says"),
    [
        (delivery(1, b"body")[:-5], AMQPConnectionError, "unexpectedly closed"),
        (b"AMQP\x00\x00\x09\x01", ProtocolSyntaxError, "protocol header"),
        # A method frame of 4 bytes whose end marker is wrong.
        (b"\x01\x00\x01\x00\x00\x00\x04\x00\x3c\x00\x28\x00", InvalidFrameError, None),
    ],
)
async def test_what_is_not_a_frame_raises_what_aiormq_raises(
    data: bytes, error: type[Exception], says: str | None
) -> None:
    with pytest.raises(error, match=says):
        await frames_of(FrameReader, data)
    with pytest.raises(error):
        await frames_of(AIORMQ_READER, data)


async def test_hookq_connections_read_frames_with_it(amqp_url: str) -> None:
    connection = await connect_robust(amqp_url, "test-frames")
    try:
        assert aiormq.connection.FrameReceiver is FrameReader
        assert amqp_frames.install()  # again: nothing changes
        assert aiormq.connection.FrameReceiver is FrameReader
        channel = await connection.channel()
        queue = await channel.declare_queue(exclusive=True)
        await channel.default_exchange.publish(
            aio_pika.Message(b"through it", headers={"k": "v"}), queue.name
        )
        async with asyncio.timeout(5):
            while (message := await queue.get(fail=False)) is None:
                await asyncio.sleep(0.05)
        assert message.body == b"through it"
        assert message.headers == {"k": "v"}
    finally:
        await connection.close()


@contextlib.contextmanager
def pamqp_alone() -> Iterator[None]:
    """pamqp's own table decoding, nested tables included, for the length of the block."""
    saved = dict(pamqp.decode.TABLE_MAPPING), dict(pamqp.decode.METHODS)
    pamqp.decode.TABLE_MAPPING[b"F"] = pamqp.decode.field_table
    pamqp.decode.METHODS["table"] = pamqp.decode.field_table
    try:
        yield
    finally:
        pamqp.decode.TABLE_MAPPING.update(saved[0])
        pamqp.decode.METHODS.update(saved[1])


def outcome(decode: Callable[[bytes], object], data: bytes) -> object:
    try:
        return decode(data)
    except Exception as exc:
        return type(exc), str(exc)


def by_pamqp(data: bytes) -> object:
    with pamqp_alone():
        return outcome(pamqp.decode.field_table, data)


keys = st.text(max_size=20).filter(lambda k: len(k.encode()) < 256)
values = st.recursive(
    st.one_of(
        st.text(max_size=40),
        st.integers(min_value=-(2**63), max_value=2**63 - 1),
        st.booleans(),
        st.none(),
        st.floats(allow_nan=False, width=32),
    ),
    lambda inner: st.dictionaries(keys, inner, max_size=4) | st.lists(inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(keys, values, max_size=8))
def test_tables_decode_as_pamqp_decodes_them(table: dict[str, object]) -> None:
    data = pamqp.encode.field_table(table)  # type: ignore[arg-type]
    assert outcome(amqp_frames.field_table, data) == by_pamqp(data)


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(keys, values, max_size=6), st.binary(max_size=12), st.integers(0, 80))
def test_damaged_tables_raise_or_decode_as_pamqp_does(
    table: dict[str, object], noise: bytes, cut: int
) -> None:
    data = pamqp.encode.field_table(table)  # type: ignore[arg-type]
    for damaged in (data[:cut], data[:cut] + noise + data[cut:], noise + data, data + noise):
        assert outcome(amqp_frames.field_table, damaged) == by_pamqp(damaged)


def test_headers_hookq_reads_are_decoded_by_it_once_installed() -> None:
    amqp_frames.install()
    properties = commands.Basic.Properties(headers=HEADERS)
    frame = pamqp.frame.marshal(ContentHeader(0, 1, properties), 1)
    decoded: list[bytes] = []
    real = amqp_frames.field_table

    def spying(value: bytes) -> tuple[int, FieldTable]:
        decoded.append(value)
        return real(value)

    pamqp.decode.METHODS["table"] = spying
    try:
        _size, _channel, header = pamqp.frame.unmarshal(frame)
    finally:
        amqp_frames.install()
    assert decoded
    assert isinstance(header, ContentHeader)
    assert header.properties.headers == HEADERS


# The three frames of a delivery, decoded by hookq's ``unmarshal`` and by pamqp.


def decoded(frame: object) -> object:
    """What a decoded frame holds, comparable with ==."""
    if isinstance(frame, ContentHeader):
        return ("header", frame.class_id, frame.weight, frame.body_size, dict(frame.properties))
    if isinstance(frame, ContentBody):
        return ("body", frame.value)
    if isinstance(frame, Heartbeat):
        return "heartbeat"
    assert isinstance(frame, commands.Basic.Deliver | commands.Basic.Ack)
    return (type(frame), dict(frame))


def unmarshalled(unmarshal: Callable[[bytes], object], data: bytes) -> object:
    try:
        result = unmarshal(data)
    except Exception as exc:  # pamqp's messages name the frame object by its address
        return type(exc), re.sub(r" at 0x[0-9a-f]+", "", str(exc))
    assert isinstance(result, tuple)
    size, channel, frame = result
    return size, channel, decoded(frame)


def ours(data: bytes) -> object:
    return unmarshalled(lambda d: amqp_frames.unmarshal(d[:7], d[7:]), data)


def pamqps(data: bytes) -> object:
    return unmarshalled(pamqp.frame.unmarshal, data)


short_strings = st.text(max_size=30).filter(lambda s: len(s.encode()) < 256)
delivers = st.builds(
    commands.Basic.Deliver,
    consumer_tag=short_strings,
    delivery_tag=st.integers(0, 2**63 - 1),  # what pamqp can write
    redelivered=st.booleans(),
    exchange=st.from_regex(r"[a-zA-Z0-9_.:-]{0,127}", fullmatch=True),
    routing_key=short_strings,
)
all_properties = st.builds(
    commands.Basic.Properties,
    content_type=st.none() | short_strings,
    content_encoding=st.none() | short_strings,
    headers=st.none() | st.dictionaries(keys, values, max_size=4),
    delivery_mode=st.none() | st.sampled_from([1, 2]),
    priority=st.none() | st.integers(0, 255),
    correlation_id=st.none() | short_strings,
    reply_to=st.none() | short_strings,
    expiration=st.none() | short_strings,
    message_id=st.none() | short_strings,
    timestamp=st.none()
    | st.datetimes(
        min_value=datetime.datetime(1970, 1, 2),
        max_value=datetime.datetime(2100, 1, 1),
        timezones=st.just(datetime.UTC),
    ).map(lambda t: t.replace(microsecond=0)),
    message_type=st.none() | short_strings,
    user_id=st.none() | short_strings,
    app_id=st.none() | short_strings,
)


def test_a_delivery_decodes_as_pamqp_decodes_it() -> None:
    data = delivery(7, b'{"id": 1}')
    offset, seen = 0, []
    while offset < len(data):
        size = 8 + int.from_bytes(data[offset + 3 : offset + 7], "big")
        frame = data[offset : offset + size]
        assert ours(frame) == pamqps(frame)
        seen.append(ours(frame))
        offset += size
    kinds = [entry[2][0] for entry in seen if isinstance(entry, tuple)]
    assert kinds == [commands.Basic.Deliver, "header", "body"]


@settings(max_examples=300, deadline=None)
@given(delivers, all_properties, st.binary(max_size=40), st.integers(0, 65535))
def test_generated_deliveries_decode_as_pamqp_decodes_them(
    deliver: commands.Basic.Deliver,
    properties: commands.Basic.Properties,
    body: bytes,
    channel: int,
) -> None:
    for frame in (
        pamqp.frame.marshal(deliver, channel),
        pamqp.frame.marshal(ContentHeader(0, len(body), properties), channel),
        pamqp.frame.marshal(ContentBody(body), channel),
    ):
        assert ours(frame) == pamqps(frame)


@settings(max_examples=500, deadline=None)
@given(
    delivers,
    all_properties,
    st.sampled_from([0, 1]),
    st.binary(min_size=1, max_size=6),
    st.integers(7, 120),
)
def test_damaged_deliveries_raise_or_decode_as_pamqp_does(
    deliver: commands.Basic.Deliver,
    properties: commands.Basic.Properties,
    which: int,
    noise: bytes,
    at: int,
) -> None:
    """Bytes replaced, inserted or cut inside the payload (the size in the frame's header
    fixed to match, or not), and the end marker lost."""
    frame = [
        pamqp.frame.marshal(deliver, 1),
        pamqp.frame.marshal(ContentHeader(0, 3, properties), 1),
    ][which]
    at = min(at, len(frame) - 1)
    payload = frame[7:-1]
    cut = at - 7
    variants = [
        payload[:cut] + noise + payload[cut + len(noise) :],  # replaced
        payload[:cut] + noise + payload[cut:],  # inserted
        payload[:cut],  # cut short
    ]
    for damaged in variants:
        fixed = frame[:3] + len(damaged).to_bytes(4, "big") + damaged + b"\xce"
        unfixed = frame[:7] + damaged + b"\xce"
        for data in (fixed, unfixed, fixed[:-1] + b"\x00"):
            assert ours(data) == pamqps(data)


def test_other_frames_are_pamqps() -> None:
    for frame in (
        pamqp.frame.marshal(Heartbeat(), 0),
        pamqp.frame.marshal(commands.Basic.Ack(delivery_tag=9, multiple=True), 3),
        # A content header with a second flag word (a property bit past the first sixteen).
        b"\x02\x00\x01\x00\x00\x00\x10\x00\x3c\x00\x00" + bytes(8) + b"\x00\x01\x00\x00\xce",
        # A delivery tag past 2**63, which pamqp reads as a negative number.
        b"\x01\x00\x01\x00\x00\x00\x11\x00\x3c\x00\x3c\x00" + b"\xff" * 8 + b"\x00\x00\x00\xce",
    ):
        assert ours(frame) == pamqps(frame)
