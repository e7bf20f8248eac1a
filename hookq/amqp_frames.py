"""AMQP frames read in two reads each instead of three.

aiormq's ``FrameReceiver`` reads a frame's type byte, then the rest of its 7-byte header, then
its payload and end marker, through a lock and a ``BytesIO``: 46 us per delivered message (its
three frames: the delivery, the content header, the body), 26 of them pamqp's decoding (timeit,
issue 18). ``FrameReader`` reads the whole header, then the payload and end marker: 33 us. One
task reads a connection's frames (aiormq's handshake, then its reader), so nothing needs the
lock. What is decoded, by pamqp as before, and every error raised are aiormq's.

``install`` makes aiormq use it for every connection it opens in this process afterwards;
where aiormq lacks the class this extends, it leaves aiormq alone.
"""

from __future__ import annotations

import asyncio

import aiormq.connection
import pamqp.frame
from aiormq.exceptions import (
    AMQPConnectionError,
    InvalidFrameError,
    ProtocolSyntaxError,
)
from pamqp.exceptions import PAMQPException

FRAME_HEADER = 7  # type (1 byte), channel (2), payload size (4)
PROTOCOL_HEADER = b"AMQP"  # what a broker sends back when it refuses our protocol version


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


def install() -> bool:
    """aiormq's connections opened from now on read their frames with ``FrameReader``
    (idempotent); False where aiormq has no ``FrameReceiver`` to replace."""
    current = getattr(aiormq.connection, "FrameReceiver", None)
    if current is FrameReader:
        return True
    if not isinstance(current, type) or not hasattr(current, "get_frame"):
        return False
    aiormq.connection.FrameReceiver = FrameReader  # type: ignore[misc]
    return True
