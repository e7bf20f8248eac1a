"""What counts as PostgreSQL being down (an outage to wait out), and what does not."""

from __future__ import annotations

import asyncpg

from hookq.inbox.connection import postgres_down


def _raised_from(
    error: BaseException, wrapper: BaseException, *, hide: bool = False
) -> BaseException:
    try:
        try:
            raise error
        except BaseException:
            if hide:
                raise wrapper from None
            raise wrapper  # noqa: B904 - the implicit context is what is tested
    except BaseException as exc:
        return exc


def test_unreachable_or_shutting_down_is_down() -> None:
    assert postgres_down(ConnectionRefusedError(111, "refused"))
    assert postgres_down(TimeoutError())
    assert postgres_down(asyncpg.ConnectionDoesNotExistError("connection was closed"))
    assert postgres_down(asyncpg.AdminShutdownError("terminating connection"))
    assert postgres_down(asyncpg.CannotConnectNowError("the database system is starting up"))
    assert postgres_down(asyncpg.InterfaceError("connection is closed"))


def test_answers_about_the_statement_are_not_down() -> None:
    assert not postgres_down(asyncpg.QueryCanceledError("canceling statement due to timeout"))
    assert not postgres_down(asyncpg.LockNotAvailableError("lock timeout"))
    assert not postgres_down(asyncpg.UniqueViolationError("duplicate key"))
    assert not postgres_down(asyncpg.InterfaceError("connection has been released to the pool"))
    assert not postgres_down(RuntimeError("a handler's own"))


def test_the_cause_counts_unless_it_was_hidden() -> None:
    lost = asyncpg.ConnectionDoesNotExistError("connection was closed in the middle")
    assert postgres_down(_raised_from(lost, RuntimeError("wrapped")))
    assert not postgres_down(_raised_from(lost, RuntimeError("replaced"), hide=True))
