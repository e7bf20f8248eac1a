"""Talking to PostgreSQL: the URL the settings give, the worker's pool, and what "down" looks like.

Every session hookq opens carries the statement timeout of the settings, and an idle-in-
transaction timeout of ``HOOKQ_CLAIM_LEASE``: a worker that vanished without closing its
connection (a host lost, not a process killed: the kernel closes a killed process's sockets)
holds its inbox row no longer than a Redis claim would hold its lease. The worker refuses
handler timeouts at or above the lease, so a live run is never cut by it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import asyncpg

from hookq.connecting import until_reachable
from hookq.settings import Settings, SettingsError, env_name

CONNECT_TIMEOUT = 5.0  # seconds to open one connection: an outage is noticed in seconds

# The server going away, refusing connections for now, or shutting us down: an outage to wait
# out, never an answer about the event. (QueryCanceledError shares a base class with the
# shutdown errors but is a statement timeout: the handler's business.)
_DOWN = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
)


def postgres_down(exc: BaseException) -> bool:
    """Is ``exc`` PostgreSQL being unreachable (here, or anywhere in what caused it)?"""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _DOWN):
            return True
        if (
            isinstance(current, asyncpg.InterfaceError)
            and "connection" in str(current)
            and ("closed" in str(current) or "lost" in str(current))
        ):
            return True
        suppressed = current.__suppress_context__
        current = current.__cause__ or (None if suppressed else current.__context__)
    return False


def postgres_url(settings: Settings) -> str:
    """``HOOKQ_POSTGRES_URL``, or a ``SettingsError`` naming it."""
    if not settings.postgres_url:
        raise SettingsError(
            f"{env_name('postgres_url')} is not set: transactional handlers and `hookq db` "
            "need PostgreSQL (e.g. postgresql://hookq:PASSWORD@127.0.0.1:5432/hookq)"
        )
    return settings.postgres_url


def server_settings(settings: Settings) -> dict[str, str]:
    return {
        "application_name": "hookq",
        "statement_timeout": str(_ms(settings.postgres_statement_timeout)),
        "idle_in_transaction_session_timeout": str(_ms(settings.claim_lease)),
    }


async def connect(settings: Settings) -> asyncpg.Connection:
    """One connection with hookq's session settings (``hookq db``, the gate's probe)."""
    return await asyncpg.connect(
        postgres_url(settings),
        timeout=CONNECT_TIMEOUT,
        server_settings=server_settings(settings),
    )


async def create_pool(settings: Settings) -> asyncpg.Pool:
    """The worker's pool: connections are opened on demand (none at creation, so a pool can be
    made while PostgreSQL is down), at most ``HOOKQ_POSTGRES_POOL_SIZE``."""
    return await asyncpg.create_pool(
        postgres_url(settings),
        min_size=0,
        max_size=settings.postgres_pool_size,
        timeout=CONNECT_TIMEOUT,
        # A client-side bound above the server's: a server that vanished (no answer, no reset)
        # fails a statement instead of hanging the run.
        command_timeout=settings.postgres_statement_timeout + CONNECT_TIMEOUT,
        server_settings=server_settings(settings),
    )


def why_unreachable(exc: BaseException, url: str) -> str:
    parts = urlsplit(url)
    where = f"{parts.hostname or '?'}:{parts.port or 5432}"
    if isinstance(
        exc, asyncpg.InvalidPasswordError | asyncpg.InvalidAuthorizationSpecificationError
    ):
        return f"PostgreSQL at {where} refused the credentials: {exc}"
    if isinstance(exc, asyncpg.InvalidCatalogNameError):
        return f"PostgreSQL at {where}: {exc}"
    if isinstance(exc, ConnectionRefusedError):
        return f"connection refused at {where} (is PostgreSQL running there?)"
    if isinstance(exc, TimeoutError):
        return f"no answer from {where}"
    return f"{type(exc).__name__}: {exc}"


async def wait_for_postgres(settings: Settings) -> None:
    """Until PostgreSQL accepts a connection, with a log line every few seconds saying why not."""

    async def try_once() -> None:
        connection = await connect(settings)
        await connection.close()

    await until_reachable(
        try_once,
        service="postgresql",
        url=postgres_url(settings),
        failures=(*_DOWN, asyncpg.PostgresError),
        explain=why_unreachable,
    )


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))
