"""Where the inbox lives and the statements that use it.

Each namespace (``HOOKQ_NAMESPACE``) has a PostgreSQL schema of the same name, holding its
``inbox`` table and the ``schema_version`` of its migrations: deployments (and tests) sharing a
database never see each other's rows. A row is keyed by a digest of (handler, source, event type,
replay generation, delivery id), the same parts as a Redis dedupe key: the index stays small
whatever a provider's delivery id is (a signed Standard Webhooks id may be kilobytes, over
PostgreSQL's limit for an index entry), and the parts are kept beside it for operators.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import orjson

from hookq.settings import SettingsError, env_name

MAX_IDENTIFIER = 63  # bytes: PostgreSQL truncates longer names


def schema_name(namespace: str) -> str:
    """The schema of a namespace; ``SettingsError`` when PostgreSQL cannot name it."""
    if len(namespace.encode()) > MAX_IDENTIFIER:
        raise SettingsError(
            f"{env_name('namespace')}: at most {MAX_IDENTIFIER} characters for a namespace with "
            f"transactional handlers (it names the inbox's PostgreSQL schema)"
        )
    return namespace


def quoted(identifier: str) -> str:
    """A double-quoted identifier (a namespace may hold '-'; ``schema_name`` checked the rest)."""
    return '"' + identifier.replace('"', '""') + '"'


def inbox_key(
    handler: str, source: str, event_type: str, generation: str, delivery_id: str
) -> bytes:
    """The row's key: unambiguous (a JSON array, not a separator a part may contain)."""
    return hashlib.sha256(
        orjson.dumps([handler, source, event_type, generation, delivery_id])
    ).digest()


@dataclass(frozen=True, slots=True)
class InboxSql:
    """The statements of one namespace's inbox."""

    schema: str

    @property
    def table(self) -> str:
        return f"{quoted(self.schema)}.inbox"

    @property
    def version_table(self) -> str:
        return f"{quoted(self.schema)}.schema_version"

    @property
    def claim(self) -> str:
        # The lock timeout is set for this transaction in the same round trip as the insert
        # (set_config(..., true) is SET LOCAL): an insert that meets another transaction's
        # uncommitted row waits for it, as long as the handler's timeout at most. A row already
        # committed (done or dead) makes it insert nothing: a duplicate.
        return (
            f"INSERT INTO {self.table} (key, handler, source, event_type, generation, delivery_id)"
            " SELECT $1, $2, $3, $4, $5, $6"
            " FROM (SELECT set_config('lock_timeout', $7, true)) AS hookq_lock_timeout"
            " ON CONFLICT (key) DO NOTHING RETURNING true"
        )

    @property
    def mark_dead(self) -> str:
        return f"UPDATE {self.table} SET state = 'dead' WHERE key = $1"

    @property
    def insert_dead(self) -> str:
        # After the run's transaction was lost: a row of its own; one already there (done or
        # dead) stays as it is.
        return (
            f"INSERT INTO {self.table} (key, handler, source, event_type, generation, delivery_id,"
            " state) VALUES ($1, $2, $3, $4, $5, $6, 'dead') ON CONFLICT (key) DO NOTHING"
        )

    @property
    def prune(self) -> str:
        # The oldest rows first, a batch at a time, through the created_at index; rows another
        # pruner (another worker) holds are skipped, not waited for.
        return (
            f"DELETE FROM {self.table} WHERE ctid = ANY(ARRAY("
            f"SELECT ctid FROM {self.table} WHERE created_at < now() - make_interval(secs => $1)"
            " ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED))"
        )
