"""``hookq db migrate`` and ``hookq db status``: the transactional inbox's schema in PostgreSQL.

Exit codes: 0 done (``status``: the schema is current), 1 PostgreSQL unreachable or refusing
(``status``: a migration is needed), 2 usage (``HOOKQ_POSTGRES_URL`` unset, a namespace too long
for a schema name, a schema newer than this hookq).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from hookq.cli import EXIT_FAILED, EXIT_OK

if TYPE_CHECKING:
    import asyncpg

    from hookq.settings import Settings


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "db", help="the transactional inbox's tables in PostgreSQL: migrate, status"
    )
    commands = parser.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    migrate = commands.add_parser(
        "migrate",
        help="create or upgrade the inbox tables of HOOKQ_NAMESPACE (safe to run again)",
    )
    migrate.set_defaults(run=_migrate)
    status = commands.add_parser(
        "status", help="the schema's version against the one this hookq needs (exit 1: migrate)"
    )
    status.set_defaults(run=_status)


def _migrate(_args: argparse.Namespace, settings: Settings) -> int:
    from hookq.runtime import run

    return run(_with_connection(settings, _apply))


def _status(_args: argparse.Namespace, settings: Settings) -> int:
    from hookq.runtime import run

    return run(_with_connection(settings, _report))


async def _apply(connection: asyncpg.Connection, schema: str) -> int:
    from hookq.inbox.migrations import latest, migrate

    applied = await migrate(connection, schema)
    if applied:
        names = ", ".join(f"{m.version} {m.name}" for m in applied)
        print(
            f"schema {schema!r}: applied {len(applied)} migration(s) ({names}); now at version "
            f"{latest()}"
        )
    else:
        print(f"schema {schema!r}: up to date (version {latest()})")
    return EXIT_OK


async def _report(connection: asyncpg.Connection, schema: str) -> int:
    from hookq.inbox.migrations import SchemaError, check, current_version, latest

    version = await current_version(connection, schema)
    shown = "none (never migrated)" if version is None else str(version)
    print(f"schema {schema!r}: version {shown}; this hookq needs {latest()}")
    try:
        await check(connection, schema)
    except SchemaError as exc:
        if version is not None and version > latest():
            raise
        print(f"hookq db: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


async def _with_connection(settings: Settings, action: Any) -> int:
    import asyncpg

    from hookq.connecting import safe_url
    from hookq.display import safe
    from hookq.inbox import connection as pg
    from hookq.inbox.schema import schema_name

    schema = schema_name(settings.namespace)  # a SettingsError: exit 2
    url = pg.postgres_url(settings)
    try:
        connection = await pg.connect(settings)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        reason = safe(pg.why_unreachable(exc, url))
        print(f"hookq db: cannot connect to {safe_url(url)}: {reason}", file=sys.stderr)
        return EXIT_FAILED
    try:
        result: int = await action(connection, schema)
    except asyncpg.PostgresError as exc:  # refused: a permission, a conflicting object
        print(
            f"hookq db: PostgreSQL refused: {safe(f'{type(exc).__name__}: {exc}')}", file=sys.stderr
        )
        return EXIT_FAILED
    finally:
        await connection.close()
    return result
