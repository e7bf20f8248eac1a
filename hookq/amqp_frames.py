"""AMQP frames read in two reads each instead of three.

aiormq's ``FrameReceiver`` reads a frame's type byte, then the rest of its 7-byte header, then
its payload and end marker, through a lock and a ``BytesIO``: 46 us per delivered message (its
three frames: the delivery, the content header, the body), 26 of them pamqp's decoding (timeit,
issue 18). ``FrameReader`` reads the whole header, then the payload and end marker: 33 us. One
task reads a connection's frames (aiormq's handshake, then its reader), so nothing needs the
lock. What is decoded, by pamqp as before, and every error raised are aiormq's.

A message's headers are an AMQP field table, which pamqp decodes value by value through a
lookup and a copy of the rest of the table each: 18 us for the content header of an event
Plain sent (its provider headers a table inside the table). ``field_table`` decodes the values
hookq writes most (strings and tables) in place and hands every other kind to pamqp: 11 us,
with what pamqp returns and raises (tests/hookq/test_amqp_frames.py compares the two on
generated tables and on arbitrary bytes).

``install`` makes aiormq use the reader for every connection it opens in this process
afterwards, and pamqp the table decoder; where aiormq lacks the class the reader extends, it
leaves aiormq alone.
"""

from __future__ import annotations

import asyncio
import struct

import aiormq.connection
import pamqp.decode
import pamqp.frame
from aiormq.exceptions import (
    AMQPConnectionError,
    InvalidFrameError,
    ProtocolSyntaxError,
)
from pamqp.common import FieldTable, FieldValue
from pamqp.exceptions import PAMQPException

FRAME_HEADER = 7  # type (1 byte), channel (2), payload size (4)
PROTOCOL_HEADER = b"AMQP"  # what a broker sends back when it refuses our protocol version
SIZE = struct.Struct(">I")  # a table's or a long string's size in bytes

# pamqp's own decoder of one typed value (``<type byte><value>``): every kind but the two below.
pamqp_value = pamqp.decode.embedded_value


class FrameReader(aiormq.connection.FrameReceiver):
    async def get_frame(self) -> aiormq.connection.ReceivedFrame:
        reader = self.reader
        if reader.at_eof():
            del self.reader
            raise StopAsyncIteration
        try:
            header = await reader.readexactly(FRAME_HEADER)
            if not self.started and header.startswith(PROTOCOL_HEADER):
                raise ProtocolSyntaxError("Unexpected AMQP protocol header")
            self.started = True
            _kind, _channel, size = pamqp.frame.frame_parts(header)
            if size is None:
                raise InvalidFrameError("No frame length")
            frame = header + await reader.readexactly(size + 1)
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
            return pamqp.frame.unmarshal(frame)
        except PAMQPException as exc:
            raise InvalidFrameError(str(exc)) from exc


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
