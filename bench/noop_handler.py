"""The benchmark's handler: does nothing but note when it was called, for which delivery.

Loaded by the worker under test through ``HOOKQ_HANDLER_MODULES=bench.noop_handler``. Each call
appends ``<delivery id>\\t<Unix time>`` to the file named by ``BENCH_RECORD_FILE``: one
``write`` on an append-only descriptor (atomic for a line this short), so the record costs a
few microseconds and no round trip, and the benchmark reads the calls back afterwards.
"""

from __future__ import annotations

import os
import time

from handlers.api import HandlerContext, handler

NAME = "bench-noop"
RECORD_ENV = "BENCH_RECORD_FILE"

_record_fd: int | None = None


def _fd() -> int | None:
    global _record_fd
    if _record_fd is None and os.environ.get(RECORD_ENV):
        _record_fd = os.open(os.environ[RECORD_ENV], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    return _record_fd


@handler("plain.#", "livechat.#", name=NAME, max_attempts=1, timeout=10.0)
async def noop(event: object, ctx: HandlerContext) -> None:
    fd = _fd()
    if fd is not None:
        os.write(fd, f"{ctx.delivery_id}\t{time.time():.6f}\n".encode())


def read_records(path: str) -> dict[str, float]:
    """Delivery id -> first call time, from a record file (missing file: no calls)."""
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
