"""Fixtures of the transactional inbox's tests: PostgreSQL (the test's own schema, migrated) and
handlers that write their effects through ``ctx.db``.

Every test's namespace names its schema (``hookq.inbox.schema``); the session's schemas are
dropped when it ends (tests/conftest.py). ``effects`` is a table of the test's schema with no
unique key: an effect written twice shows as two rows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from hookq.inbox.migrations import migrate
from hookq.inbox.schema import quoted
from hookq.settings import Settings
from tests.worker.conftest import channel, start_worker

__all__ = ["channel", "start_worker"]  # the worker tests' fixtures, here too


@pytest.fixture
def pg_settings(settings: Settings, postgres_url: str) -> Settings:
    return settings.model_copy(update={"postgres_url": postgres_url})


@pytest.fixture
async def db(postgres_url: str) -> AsyncIterator[asyncpg.Connection]:
    """The test's own connection (autocommit): what it reads is what was committed."""
    connection = await asyncpg.connect(postgres_url)
    try:
        yield connection
    finally:
        await connection.close()


@pytest.fixture
async def migrated(pg_settings: Settings, db: asyncpg.Connection) -> Settings:
    """``pg_settings`` with its schema migrated and an ``effects`` table beside the inbox."""
    await migrate(db, pg_settings.namespace)
    await create_effects(db, pg_settings.namespace)
    return pg_settings


async def create_effects(db: asyncpg.Connection, namespace: str) -> None:
    """``effects`` (written through ctx.db) and ``starts`` (a handler's runs, committed apart)."""
    await db.execute(
        f"CREATE TABLE IF NOT EXISTS {quoted(namespace)}.effects ("
        " handler text NOT NULL, delivery_id text NOT NULL, attempt integer NOT NULL,"
        " pid integer NOT NULL, note text, at timestamptz NOT NULL DEFAULT clock_timestamp());"
        f"CREATE TABLE IF NOT EXISTS {quoted(namespace)}.starts ("
        " delivery_id text NOT NULL, pid integer NOT NULL, attempt integer NOT NULL,"
        " at timestamptz NOT NULL DEFAULT clock_timestamp())"
    )
