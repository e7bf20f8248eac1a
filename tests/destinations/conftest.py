"""Destinations against the real broker and Redis, each test with its own receiver.

``write_file(url, **keys)`` writes a one-destination file (name ``crm``, patterns
``standard.#``, the test secret); ``start(path)`` runs an in-process worker over it (handlers
found by discovery, as ``hookq worker`` finds them) and stops it when the test ends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aio_pika.abc import AbstractChannel, AbstractRobustConnection

from hookq.handlers.registry import discover
from hookq.settings import Settings
from hookq.testing.signing import SECRETS
from hookq.worker.runner import Worker
from tests.support.receiver import Answer, Receiver

SECRET = SECRETS["standard"]
NAME = "crm"

WriteFile = Callable[..., Path]
Start = Callable[..., Awaitable[Worker]]


@pytest.fixture
async def channel(amqp: AbstractRobustConnection) -> AbstractChannel:
    return await amqp.channel(publisher_confirms=True)


def destination_toml(url: str, name: str = NAME, **keys: Any) -> str:
    fields = {"name": name, "url": url, "patterns": ["standard.#"], "secrets": [SECRET]} | keys
    headers = fields.pop("headers", None)
    lines = ["[[destination]]", *(f"{key} = {_toml(value)}" for key, value in fields.items())]
    if headers:
        lines += ["[destination.headers]", *(f'"{k}" = {_toml(v)}' for k, v in headers.items())]
    return "\n".join(lines) + "\n"


def _toml(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return str(value)


@pytest.fixture
def write_file(tmp_path: Path) -> WriteFile:
    def write(url: str, **keys: Any) -> Path:
        path = tmp_path / "destinations.toml"
        path.write_text(destination_toml(url, **keys))
        return path

    return write


@pytest.fixture
async def start(settings: Settings, request: pytest.FixtureRequest) -> AsyncIterator[Start]:
    workers: list[Worker] = []

    async def run(path: Path, **options: Any) -> Worker:
        configured = settings.model_copy(
            update={"destinations_file": str(path), "builtin_handlers": []}
        )
        worker = Worker(
            configured,
            discover(configured),
            connection_name=f"test-destinations:{request.node.name}",
            **options,
        )
        workers.append(worker)
        await worker.start()
        return worker

    yield run
    for worker in workers:
        await worker.stop()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver(SECRET)
    await found.start()
    yield found
    await found.stop()


__all__ = ["NAME", "SECRET", "Answer", "Receiver"]
