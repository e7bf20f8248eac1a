"""Closed-loop HTTP load at a fixed concurrency with wrk (C, epoll: never the bottleneck here).

A generated Lua script pre-formats every request once and cycles through them, and its
``done`` hook prints the exact figures as one JSON line, so nothing is parsed from wrk's
human-readable summary.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

from bench.payloads import WebhookRequest

MARKER = "BENCH-WRK-JSON "

LUA_TEMPLATE = """
local raw = {
%(requests)s
}
local requests = {}
local n = 0
init = function(args)
  for i, r in ipairs(raw) do
    requests[i] = wrk.format("POST", r.path, r.headers, r.body)
  end
end
request = function()
  n = n %% #requests + 1
  return requests[n]
end
done = function(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    '%(marker)s{"requests":%%d,"duration_us":%%d,"p50_us":%%d,"p99_us":%%d,'
    .. '"max_us":%%d,"connect":%%d,"read":%%d,"write":%%d,"status":%%d,"timeout":%%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


class WrkMissing(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class WrkResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int  # socket errors, timeouts and non-2xx/3xx answers

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def lua_string(data: bytes | str) -> str:
    """A Lua string literal: printable ASCII as is, every other byte as a decimal escape."""
    raw = data.encode() if isinstance(data, str) else data
    out = []
    for byte in raw:
        char = chr(byte)
        out.append(char if 32 <= byte < 127 and char not in '"\\' else f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


def lua_script(requests: Sequence[WebhookRequest]) -> str:
    entries = []
    for r in requests:
        headers = ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in r.headers.items())
        entries.append(
            f"  {{path = {lua_string(r.path)}, headers = {{{headers}}}, "
            f"body = {lua_string(r.body)}}},"
        )
    return LUA_TEMPLATE % {"requests": "\n".join(entries), "marker": MARKER}


def wrk_binary() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise WrkMissing("wrk is not installed: apt-get install -y wrk")
    return path


def run_wrk(
    base_url: str,
    requests: Sequence[WebhookRequest],
    *,
    seconds: float,
    connections: int,
    script_dir: Path,
    threads: int = 1,
) -> WrkResult:
    script = script_dir / "wrk-requests.lua"
    script.write_text(lua_script(requests))
    command = [
        wrk_binary(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        base_url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith(MARKER)), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    figures = orjson.loads(line[len(MARKER) :])
    errors = sum(figures[k] for k in ("connect", "read", "write", "status", "timeout"))
    return WrkResult(
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        max_ms=figures["max_us"] / 1000,
        errors=errors,
    )
