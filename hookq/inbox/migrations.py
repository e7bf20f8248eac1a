"""The inbox's schema, in numbered migrations, and the check a worker makes before it starts.

``hookq db migrate`` applies, in one transaction, every migration above the version recorded in
``<schema>.schema_version`` (none at all creates the schema); concurrent runs take turns on an
advisory lock. A worker with transactional handlers refuses to start (``SchemaError``, exit 2)
unless the recorded version is exactly the last one it knows: a missing or older schema needs
``hookq db migrate``, a newer one a newer hookq.

Adding a migration: append one ``Migration`` with the next number. Never edit one that shipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from hookq.inbox.schema import InboxSql, quoted
from hookq.settings import SettingsError


class SchemaError(SettingsError):
    """The inbox's schema is missing, older or newer than this hookq (exit 2, saying which)."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str  # with {schema}: the quoted schema name


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "inbox",
        """
        CREATE TABLE {schema}.inbox (
            key bytea PRIMARY KEY,
            handler text NOT NULL,
            source text NOT NULL,
            event_type text NOT NULL,
            generation text NOT NULL,
            delivery_id text NOT NULL,
            state text NOT NULL DEFAULT 'done' CHECK (state IN ('done', 'dead')),
            created_at timestamptz NOT NULL DEFAULT now()
        );
        -- Pruning takes the oldest rows first, a small batch at a time: an index scan, however
        -- large the table.
        CREATE INDEX inbox_created_at ON {schema}.inbox (created_at);
        """,
    ),
)


def latest(migrations: Sequence[Migration] = MIGRATIONS) -> int:
    return migrations[-1].version if migrations else 0


async def current_version(connection: asyncpg.Connection, schema: str) -> int | None:
    """The version recorded in ``schema``; None when it has no version table (never migrated)."""
    sql = InboxSql(schema)
    exists = await connection.fetchval("SELECT to_regclass($1) IS NOT NULL", sql.version_table)
    if not exists:
        return None
    version = await connection.fetchval(f"SELECT max(version) FROM {sql.version_table}")
    return int(version or 0)


async def migrate(
    connection: asyncpg.Connection, schema: str, migrations: Sequence[Migration] = MIGRATIONS
) -> list[Migration]:
    """Bring ``schema`` to the last migration; returns those applied (none: up to date)."""
    sql = InboxSql(schema)
    async with connection.transaction():
        # One migration run at a time per schema (two operators, or two starting containers).
        await connection.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"hookq:{schema}")
        await connection.execute(f"CREATE SCHEMA IF NOT EXISTS {quoted(schema)}")
        await connection.execute(
            f"CREATE TABLE IF NOT EXISTS {sql.version_table} ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        version = await current_version(connection, schema) or 0
        _refuse_newer(schema, version, migrations)
        applied = [m for m in migrations if m.version > version]
        for migration in applied:
            await connection.execute(migration.sql.format(schema=quoted(schema)))
            await connection.execute(
                f"INSERT INTO {sql.version_table} (version, name) VALUES ($1, $2)",
                migration.version,
                migration.name,
            )
    return applied


async def check(
    connection: asyncpg.Connection, schema: str, migrations: Sequence[Migration] = MIGRATIONS
) -> int:
    """The schema's version if it is the one this hookq needs, else ``SchemaError``."""
    version = await current_version(connection, schema)
    needed = latest(migrations)
    if version is None:
        raise SchemaError(
            f"the inbox schema {quoted(schema)} is missing in PostgreSQL: "
            "run `hookq db migrate` (with the same HOOKQ_NAMESPACE and HOOKQ_POSTGRES_URL)"
        )
    _refuse_newer(schema, version, migrations)
    if version < needed:
        raise SchemaError(
            f"the inbox schema {quoted(schema)} is at version {version}, this hookq needs "
            f"version {needed}: run `hookq db migrate`"
        )
    return version


def _refuse_newer(schema: str, version: int, migrations: Sequence[Migration]) -> None:
    if version > latest(migrations):
        raise SchemaError(
            f"the inbox schema {quoted(schema)} is at version {version}, newer than this hookq "
            f"knows (version {latest(migrations)}): run a newer hookq"
        )
