"""The benchmark's handler: does nothing but note when it was called, for which delivery.

Loaded by the worker under test through ``HOOKQ_HANDLER_MODULES=bench.noop_handler``. Each call
notes ``<delivery id>\\t<Unix time>`` in memory, as the ack-only consumer it is compared with
notes its ack times; the notes are appended to the file named by ``BENCH_RECORD_FILE`` 20 ms
after the first unwritten one (one ``write`` per batch, not a system call per event), and the
benchmark reads the calls back from there.
"""

from __future__ import annotations

import asyncio
import os
import time

from hookq.handlers.api import HandlerContext, handler

NAME = "bench-noop"
RECORD_ENV = "BENCH_RECORD_FILE"
FLUSH_AFTER = 0.02  # seconds

_record_fd: int | None = None
_unwritten: list[str] = []


def _fd() -> int | None:
    global _record_fd
    if _record_fd is None and os.environ.get(RECORD_ENV):
        _record_fd = os.open(os.environ[RECORD_ENV], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    return _record_fd


def _flush() -> None:
    fd = _fd()
    lines = "".join(_unwritten)
    _unwritten.clear()
    if fd is not None and lines:
        os.write(fd, lines.encode())


@handler("plain.#", "livechat.#", name=NAME, max_attempts=1, timeout=10.0)
async def noop(event: object, ctx: HandlerContext) -> None:
    note_call(ctx)


def note_call(ctx: HandlerContext) -> None:
    if not _unwritten:
        asyncio.get_running_loop().call_later(FLUSH_AFTER, _flush)
    _unwritten.append(f"{ctx.delivery_id}\t{time.time():.6f}\n")


def read_records(path: str) -> dict[str, float]:
    """Delivery id -> first time, from a record file of ``<delivery id>\t<Unix time>`` lines
    (the no-op handler's calls, the destination receiver's arrivals; missing file: none)."""
    calls: dict[str, float] = {}
    try:
        with open(path, encoding="utf-8") as lines:
            for line in lines:
                delivery_id, _, stamp = line.rstrip("\n").partition("\t")
                if stamp:
                    calls.setdefault(delivery_id, float(stamp))
    except FileNotFoundError:
        pass
    return calls
