"""A Redis primary, its replica and three sentinels on this machine (ports 6401-6405), started
and removed with the test's fleet; ``fail_over`` SIGKILLs whichever server is the primary now
and waits until the sentinels name the other one.

The servers persist as an operator's must (append-only file, fsync always); replication is
asynchronous, as Redis's is: what the primary acknowledged and had not sent on when it died is
gone. ``Failover.unreplicated`` is how many bytes of the replication stream the replica lacked
at the kill, read just before it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from tests.reliability.procs import Fleet, ProcessFailed, Spawned, wait_for_port

HOST = "127.0.0.1"
SERVER_PORTS = (6401, 6402)  # the first starts as the primary
SENTINEL_PORTS = (6403, 6404, 6405)
SERVICE = "hookq-dedupe"
DOWN_AFTER_MS = 1000  # a primary silent this long is down for a sentinel; two agree: failover
FAILOVER_TIMEOUT_MS = 4000


@dataclass(frozen=True)
class Failover:
    killed_port: int
    at: float  # time.time() just before the SIGKILL
    seconds: float  # until the sentinels named the new primary
    unreplicated: int  # replication bytes the replica had not acknowledged at the kill (an upper
    # bound on what was lost: a replica acknowledges once a second)


class SentinelGroup:
    def __init__(self, fleet: Fleet, data_dir: Path) -> None:
        self.fleet, self.data_dir = fleet, data_dir
        self.servers: dict[int, Spawned] = {}
        self.failovers: list[Failover] = []

    @property
    def url(self) -> str:
        hosts = ",".join(f"{HOST}:{port}" for port in SENTINEL_PORTS)
        return f"redis+sentinel://{hosts}/{SERVICE}/0"

    async def start(self) -> None:
        primary, replica = SERVER_PORTS
        self._server(primary)
        self._server(replica, "--replicaof", HOST, str(primary))
        await self._until_replicating(replica)
        # After the replica is in sync: a sentinel's first look at the primary lists it.
        for port in SENTINEL_PORTS:
            self._sentinel(port, primary)
        await self._until_sentinels_ready()

    async def primary_port(self) -> int:
        port = await self._primary_seen_by(SENTINEL_PORTS[0])
        assert port is not None, "the sentinels name no primary"
        return port

    async def fail_over(self) -> Failover:
        """SIGKILL the primary; returns once every sentinel names the other server."""
        old = await self.primary_port()
        unreplicated = await self._replication_lag(old)
        at = time.time()
        server = self.servers.pop(old)
        server.proc.kill()
        server.proc.wait(10)
        deadline = time.monotonic() + 30
        while True:
            ports = {await self._primary_seen_by(port) for port in SENTINEL_PORTS}
            if ports == {self._other(old)}:
                break
            if time.monotonic() > deadline:
                raise ProcessFailed(f"no failover 30 s after killing {old}: sentinels see {ports}")
            await asyncio.sleep(0.1)
        failover = Failover(old, at, time.time() - at, unreplicated)
        self.failovers.append(failover)
        return failover

    async def values(self, keys: list[str]) -> list[bytes | str | None]:
        """The values of ``keys`` on the primary now."""
        client = aioredis.Redis(host=HOST, port=await self.primary_port())
        async with client:
            found: list[bytes | str | None] = await client.mget(keys)
        return found

    async def bring_back(self, port: int) -> None:
        """The killed server restarted from its own data: the sentinels make it a replica of
        the new primary; returns once it is in sync and the sentinels know it again."""
        self._server(port)
        await self._until_replicating(port, timeout=30)
        await self._until_sentinels_ready(primary=self._other(port))
        self.fleet.restarts += 1

    def _other(self, port: int) -> int:
        return SERVER_PORTS[1] if port == SERVER_PORTS[0] else SERVER_PORTS[0]

    def _server(self, port: int, *options: str) -> None:
        directory = self.data_dir / f"redis-{port}"
        directory.mkdir(exist_ok=True)
        self.servers[port] = self.fleet.redis_server(port, directory, *options)

    def _sentinel(self, port: int, primary: int) -> None:
        directory = self.data_dir / f"sentinel-{port}"
        directory.mkdir(exist_ok=True)
        config = directory / "sentinel.conf"  # a sentinel rewrites its file: one each
        config.write_text(
            f"port {port}\nbind {HOST}\ndir {directory}\n"
            f"sentinel monitor {SERVICE} {HOST} {primary} 2\n"
            f"sentinel down-after-milliseconds {SERVICE} {DOWN_AFTER_MS}\n"
            f"sentinel failover-timeout {SERVICE} {FAILOVER_TIMEOUT_MS}\n"
        )
        spawned = self.fleet.spawn(
            "sentinel", ["redis-server", str(config), "--sentinel"], self.fleet.env()
        )
        wait_for_port(port, 15, spawned.proc)

    async def _primary_seen_by(self, sentinel: int) -> int | None:
        client = aioredis.Redis(host=HOST, port=sentinel, decode_responses=True)
        async with client:
            found = await client.sentinel_get_master_addr_by_name(SERVICE)
        return int(found[1]) if isinstance(found, tuple) else None

    async def _replication_lag(self, primary: int) -> int:
        client = aioredis.Redis(host=HOST, port=primary, decode_responses=True)
        async with client:
            info = await client.info("replication")
        replicas = [value for key, value in info.items() if key.startswith("slave")]
        offsets = [int(r["offset"]) for r in replicas if isinstance(r, dict)]
        return int(info["master_repl_offset"]) - max(offsets, default=0)

    async def _until_replicating(self, port: int, timeout: float = 15.0) -> None:
        client = aioredis.Redis(host=HOST, port=port, decode_responses=True)
        async with client:
            deadline = time.monotonic() + timeout
            while True:
                info = await client.info("replication")
                if info.get("role") == "slave" and info.get("master_link_status") == "up":
                    return
                if time.monotonic() > deadline:
                    raise ProcessFailed(f"redis {port} not replicating: {info}")
                await asyncio.sleep(0.1)

    async def _until_sentinels_ready(
        self, primary: int | None = None, timeout: float = 30.0
    ) -> None:
        """Every sentinel sees the primary, one healthy replica and the two other sentinels:
        a failover can then happen."""
        deadline = time.monotonic() + timeout
        while True:
            states = [await self._state(port) for port in SENTINEL_PORTS]
            if all(self._ready(state, primary) for state in states):
                return
            if time.monotonic() > deadline:
                raise ProcessFailed(f"sentinels not ready: {states}")
            await asyncio.sleep(0.2)

    async def _state(self, sentinel: int) -> dict[str, Any]:
        client = aioredis.Redis(host=HOST, port=sentinel, decode_responses=True)
        async with client:
            state = await client.sentinel_master(SERVICE)
            replicas = await client.sentinel_slaves(SERVICE)
        assert isinstance(state, dict), state
        state["healthy_replicas"] = sum(
            1 for r in replicas if not r.get("is_sdown") and r.get("master-link-status") == "ok"
        )
        return state

    @staticmethod
    def _ready(state: dict[str, Any], primary: int | None) -> bool:
        return (
            state.get("num-other-sentinels") == 2
            and state.get("healthy_replicas") == 1
            and (primary is None or state.get("port") == primary)
        )
