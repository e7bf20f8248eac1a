"""AMQP frames read in two reads each instead of three.

aiormq's ``FrameReceiver`` reads a frame's type byte, then the rest of its 7-byte header, then
its payload and end marker, through a lock and a ``BytesIO``: 46 us per delivered message (its
three frames: the delivery, the content header, the body), 26 of them pamqp's decoding (timeit,
issue 18). ``FrameReader`` reads the whole header, then the payload and end marker: 33 us. One
task reads a connection's frames (aiormq's handshake, then its reader), so nothing needs the
lock. The frames it returns and every error it raises are aiormq's.

A message's headers are an AMQP field table, which pamqp decodes value by value through a
lookup and a copy of the rest of the table each: 18 us for the content header of an event
Plain sent (its provider headers a table inside the table). ``field_table`` decodes the values
hookq writes (strings, integers and tables) in place and hands every other kind to pamqp: 11 us,
with what pamqp returns and raises (tests/hookq/test_amqp_frames.py compares the two on
generated tables and on arbitrary bytes).

The three frames of a delivered message are decoded here too (``unmarshal``). pamqp decodes a
method or a set of properties field by field, through a lookup of each field's type name: 8 to
15 us for a ``Basic.Deliver`` and 11 to 12 for a Plain event's content header, its headers
table included (timeit, on a shared host); the layouts written out take 3 to 4.5 and 7 to 8.5.
A frame that does not decode exactly, to its last byte, is handed to pamqp, so what is
returned and raised is pamqp's (the tests compare the two on valid and damaged frames).

``install`` makes aiormq use the reader for every connection it opens in this process
afterwards, and pamqp the table decoder; where aiormq lacks the class the reader extends, it
leaves aiormq alone.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Callable
from typing import Any

import aiormq.connection
import pamqp.decode
import pamqp.frame
from aiormq.exceptions import (
    AMQPConnectionError,
    InvalidFrameError,
    ProtocolSyntaxError,
)
from pamqp import commands, constants
from pamqp.body import ContentBody
from pamqp.common import FieldTable, FieldValue
from pamqp.exceptions import PAMQPException
from pamqp.header import ContentHeader

PROTOCOL_HEADER = b"AMQP"  # what a broker sends back when it refuses our protocol version
SIZE = struct.Struct(">I")  # a size in bytes: a frame's payload, a table, a long string
DELIVER = commands.Basic.Deliver
DELIVER_INDEX = struct.pack(">I", DELIVER.index)
# The delivery tag (signed, as pamqp reads it), then the octet holding ``redelivered``.
DELIVERY_TAG = struct.Struct(">qB")
CONTENT_HEADER = struct.Struct(">HHQH")  # class, weight, body size, the first flag word
PROPERTIES = commands.Basic.Properties
Decoder = Callable[[bytes, int], tuple[int, Any]]  # (data, offset) -> (new offset, value)

# pamqp's own decoder of one typed value (``<type byte><value>``): every kind but those below.
pamqp_value = pamqp.decode.embedded_value
# The integers of a table, by type byte, in the layouts pamqp reads them with (its ``L`` is
# signed too). hookq's own headers hold one (``hookq-received-at``).
INTEGERS = {
    b"b": struct.Struct(">b"),
    b"B": struct.Struct(">B"),
    b"s": struct.Struct(">h"),
    b"u": struct.Struct(">H"),
    b"I": struct.Struct(">l"),
    b"i": struct.Struct(">L"),
    b"l": struct.Struct(">q"),
    b"L": struct.Struct(">q"),
}


class FrameReader(aiormq.connection.FrameReceiver):
    async def get_frame(self) -> aiormq.connection.ReceivedFrame:
        reader = self.reader
        if reader.at_eof():
            del self.reader
            raise StopAsyncIteration
        try:
            # type (1 byte), channel (2), payload size (4)
            header = await reader.readexactly(constants.FRAME_HEADER_SIZE)
            if not self.started and header.startswith(PROTOCOL_HEADER):
                raise ProtocolSyntaxError("Unexpected AMQP protocol header")
            self.started = True
            # The payload's size (the frame is parsed whole by ``unmarshal``).
            size = SIZE.unpack_from(header, 3)[0]
            payload = await reader.readexactly(size + 1)
        except asyncio.IncompleteReadError as exc:
            raise AMQPConnectionError(
                "Server connection unexpectedly closed. "
                f"Read {len(exc.partial)} bytes but {exc.expected} bytes expected"
            ) from exc
        except ConnectionRefusedError as exc:
            raise AMQPConnectionError(f"Server connection refused: {exc!r}") from exc
        except ConnectionResetError as exc:
            raise AMQPConnectionError(f"Server connection reset: {exc!r}") from exc
        except ConnectionError as exc:
            raise AMQPConnectionError(f"Server connection error: {exc!r}") from exc
        except OSError as exc:
            raise AMQPConnectionError(f"Server communication error: {exc!r}") from exc
        try:
            return unmarshal(header, payload)
        except PAMQPException as exc:
            raise InvalidFrameError(str(exc)) from exc


def unmarshal(header: bytes, payload: bytes) -> aiormq.connection.ReceivedFrame:
    """``pamqp.frame.unmarshal(header + payload)``: a frame from its 7-byte header and the rest
    (its payload and end marker)."""
    kind, channel, size = pamqp.frame.frame_parts(header)
    if size and size == len(payload) - 1 and payload[-1] == constants.FRAME_END:
        data = payload[:-1]  # decoded without the end marker, as pamqp decodes it
        frame: Any = None
        try:
            if kind == constants.FRAME_METHOD and data.startswith(DELIVER_INDEX):
                frame = _deliver(data)
            elif kind == constants.FRAME_HEADER:
                frame = _content_header(data)
            elif kind == constants.FRAME_BODY:
                frame = ContentBody(data)
        except (IndexError, ValueError, struct.error):
            frame = None  # pamqp's to decode, or to refuse as it does
        if frame is not None:
            return len(header) + len(payload), channel, frame
    return pamqp.frame.unmarshal(header + payload)


def _deliver(data: bytes) -> DELIVER | None:
    """consumer tag (short string), delivery tag, redelivered (bit 0 of an octet), exchange,
    routing key (short strings); None unless that is exactly what ``data`` holds."""
    offset = 4
    offset, consumer_tag = _short_string(data, offset)
    delivery_tag, bits = DELIVERY_TAG.unpack_from(data, offset)
    offset, exchange = _short_string(data, offset + DELIVERY_TAG.size)
    offset, routing_key = _short_string(data, offset)
    if offset != len(data):
        return None
    # As pamqp builds it: the defaults, then each field set (no check of the values).
    deliver = DELIVER()
    deliver.consumer_tag = consumer_tag
    deliver.delivery_tag = delivery_tag
    deliver.redelivered = bool(bits & 1)
    deliver.exchange = exchange
    deliver.routing_key = routing_key
    return deliver


def _content_header(data: bytes) -> ContentHeader | None:
    """The class, weight, body size and properties; None unless exactly that, in one flag word."""
    class_id, weight, body_size, flags = CONTENT_HEADER.unpack_from(data)
    if flags & 1:  # another flag word follows: pamqp's
        return None
    properties = PROPERTIES()
    offset = CONTENT_HEADER.size
    for name, decode in _decoders(flags):
        offset, value = decode(data, offset)
        setattr(properties, name, value)
    if offset != len(data):
        return None
    content_header = ContentHeader(weight, body_size, properties)
    content_header.class_id = class_id
    return content_header


def _short_string(data: bytes, offset: int) -> tuple[int, str]:
    end = offset + 1 + data[offset]
    if end > len(data):
        raise ValueError("short string past the end")
    return end, data[offset + 1 : end].decode("utf-8")


def _octet(data: bytes, offset: int) -> tuple[int, int]:
    return offset + 1, data[offset]


def _table(data: bytes, offset: int) -> tuple[int, FieldTable]:
    taken, table = field_table(data[offset:])
    return offset + taken, table


def _by_pamqp(kind: str) -> Decoder:
    def decode(data: bytes, offset: int) -> tuple[int, Any]:
        taken, value = pamqp.decode.by_type(data[offset:], kind)
        return offset + taken, value

    return decode


_DECODERS = {"shortstr": _short_string, "octet": _octet, "table": _table}
# Each property in the order of its flag bits (pamqp's slots), with its decoder.
_PROPERTY_DECODERS = [
    (name, PROPERTIES.flags[name], _DECODERS.get(kind) or _by_pamqp(kind))
    for name in PROPERTIES.__slots__
    for kind in [PROPERTIES.amqp_type(name)]
]
_KNOWN_FLAGS = sum(flag for _name, flag, _decode in _PROPERTY_DECODERS)
_decoders_by_flags: dict[int, list[tuple[str, Decoder]]] = {}


def _decoders(flags: int) -> list[tuple[str, Decoder]]:
    """The properties a flag word says are present, with their decoders (once per flag word:
    at most one per combination of the fourteen properties, and a publisher uses a few)."""
    flags &= _KNOWN_FLAGS  # pamqp ignores the others
    decoders = _decoders_by_flags.get(flags)
    if decoders is None:
        decoders = _decoders_by_flags[flags] = [
            (name, decode) for name, flag, decode in _PROPERTY_DECODERS if flags & flag
        ]
    return decoders


def field_table(value: bytes) -> tuple[int, FieldTable]:
    """``pamqp.decode.field_table``: the bytes the table takes, and the table."""
    try:
        size = SIZE.unpack_from(value)[0]
    except struct.error as exc:
        raise ValueError("Could not unpack data") from exc
    end = 4 + size
    if end > len(value):
        raise ValueError("Field table length exceeds available data")
    table: FieldTable = {}
    offset = 4
    while offset < end:
        key_size = value[offset]
        offset += 1
        if offset + key_size > end:
            raise ValueError("Field table key length exceeds data")
        key = value[offset : offset + key_size].decode("utf-8")
        offset += key_size
        kind = value[offset : offset + 1]
        item: FieldValue
        if kind == b"S" and offset + 5 <= end:  # a long string, its size there to read
            start = offset + 5
            offset = start + SIZE.unpack_from(value, offset + 1)[0]
            raw = value[start:offset]
            try:
                item = raw.decode("utf-8")
            except UnicodeDecodeError:  # as pamqp: the bytes
                item = raw
        elif kind == b"F":
            taken, item = field_table(value[offset + 1 :])
            offset += 1 + taken
        elif (layout := INTEGERS.get(kind)) and offset + 1 + layout.size <= len(value):
            item = layout.unpack_from(value, offset + 1)[0]
            offset += 1 + layout.size
        else:
            taken, item = pamqp_value(value[offset:])
            offset += taken
        table[key] = item
    return end, table


def install() -> bool:
    """aiormq's connections opened from now on read their frames with ``FrameReader``, and
    pamqp decodes field tables with ``field_table`` (idempotent); False where aiormq has no
    ``FrameReceiver`` to replace."""
    pamqp.decode.METHODS["table"] = field_table
    pamqp.decode.TABLE_MAPPING[b"F"] = field_table
    current = getattr(aiormq.connection, "FrameReceiver", None)
    if current is FrameReader:
        return True
    if not isinstance(current, type) or not hasattr(current, "get_frame"):
        return False
    aiormq.connection.FrameReceiver = FrameReader  # type: ignore[misc]
    return True
