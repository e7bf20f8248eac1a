"""The handler plugin API: what a team writes, and what the worker reads.

    from hookq import HandlerContext, handler
    from hookq.sources.plain import ThreadChatSent

    @handler("plain.thread.chat_sent", name="support-sync", max_attempts=8)
    async def sync_thread(event: ThreadChatSent, ctx: HandlerContext) -> None:
        ctx.log.info("synced", thread=event.payload.thread.id)

A handler whose effects are writes to PostgreSQL can make them exactly once: with
``transactional=True`` it gets ``ctx.db``, a connection inside the transaction that also holds
the event's inbox row (``hookq.inbox``); what it writes through ``ctx.db`` commits with that row
when it returns, and is rolled back when it fails or times out.

    @handler("plain.thread.created", transactional=True)
    async def record_thread(event: ThreadCreated, ctx: HandlerContext) -> None:
        assert ctx.db is not None
        await ctx.db.execute("INSERT INTO threads (id) VALUES ($1)", event.payload.thread.id)

The decorator does not register anything globally: it attaches a ``HandlerSpec`` to the
function (``SPEC_ATTRIBUTE``), and discovery (``hookq.handlers.registry``) collects the specs of
the modules it imports. Importing a module twice, or from two places, therefore never registers
twice.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from structlog.typing import FilteringBoundLogger

from hookq.topology import check_handler_name, check_pattern

if TYPE_CHECKING:
    # Only named in annotations: asyncpg is imported where a transactional handler runs.
    from asyncpg import Connection, Record

    Database = Connection[Record]

SPEC_ATTRIBUTE = "__hookq_handler__"

DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_TIMEOUT = 30.0


class Retry(Exception):
    """Raise to run the event again later: after ``delay`` seconds (rounded up to a delay tier),
    or after the handler's backoff when ``delay`` is None. Counts as an attempt."""

    def __init__(self, reason: str = "retry requested", *, delay: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.delay = delay


class Reject(Exception):
    """Raise when running again cannot help: the event goes to the dead-letter queue at once."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff over fixed delay tiers.

    Retry ``n`` (after the ``n``-th run failed) waits about ``base * factor**(n-1)`` seconds,
    capped at ``max_delay``. Each distinct delay is one fixed-TTL queue (a tier); jitter picks
    a random tier between the one below and the nominal one, so a burst of failures does not
    come back all at once.
    """

    base: float = 1.0
    factor: float = 4.0
    max_delay: float = 3600.0
    jitter: bool = True

    def __post_init__(self) -> None:
        if self.base <= 0 or self.factor < 1 or self.max_delay < self.base:
            raise ValueError("backoff needs base > 0, factor >= 1 and max_delay >= base")

    def nominal(self, retry: int) -> float:
        """The delay before retry ``retry`` (1 = after the first failure), before jitter."""
        return float(min(self.base * self.factor ** (retry - 1), self.max_delay))

    def tiers(self, max_attempts: int) -> tuple[float, ...]:
        """Every delay this policy can ask for: the TTLs of the handler's retry queues. Never
        empty (one tier even when ``max_attempts`` is 1), so ``tier_at_least`` always answers."""
        return tuple(sorted({self.nominal(n) for n in range(1, max(max_attempts, 2))}))

    def delay(self, retry: int, rng: random.Random | None = None) -> float:
        """The tier to wait in before retry ``retry``."""
        nominal = self.nominal(retry)
        if not self.jitter or retry == 1:
            return nominal
        lower = self.nominal(retry - 1)
        return (rng or random).choice((lower, nominal)) if lower < nominal else nominal

    def tier_at_least(self, seconds: float, max_attempts: int) -> float:
        """The shortest tier that waits at least ``seconds`` (the longest if none does)."""
        tiers = self.tiers(max_attempts)
        return next((t for t in tiers if t >= seconds), tiers[-1])


EventT = TypeVar("EventT")
HandlerFunc = Callable[[Any, "HandlerContext"], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class HandlerSpec:
    name: str
    patterns: tuple[str, ...]
    func: HandlerFunc
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    backoff: Backoff = field(default_factory=Backoff)
    timeout: float = DEFAULT_TIMEOUT
    # Its writes through ctx.db commit with its inbox row in PostgreSQL (exactly once), instead
    # of being deduped in Redis (once, but for a worker killed after the effect).
    transactional: bool = False

    def __post_init__(self) -> None:
        check_handler_name(self.name)
        if not self.patterns:
            raise ValueError(f"handler {self.name!r} has no pattern")
        for pattern in self.patterns:
            try:
                check_pattern(pattern)
            except ValueError as exc:
                raise ValueError(f"handler {self.name!r}: {exc}") from None
        if self.max_attempts < 1 or self.timeout <= 0:
            raise ValueError(f"handler {self.name!r}: max_attempts >= 1 and timeout > 0")

    @property
    def retry_delays(self) -> tuple[float, ...]:
        return self.backoff.tiers(self.max_attempts)

    @property
    def origin(self) -> str:
        """Where the handler is defined, ``module:function``: what errors and listings name."""
        return origin_of(self.func)


@dataclass(frozen=True, slots=True)
class HandlerContext:
    """What a handler knows about the delivery besides the event itself."""

    handler: str
    delivery_id: str
    source: str
    event_type: str
    attempt: int  # 1 on the first run; the handler runs at most max_attempts times
    max_attempts: int
    received_at: datetime
    headers: Mapping[str, str]  # the provider's signed HTTP headers the ingress kept, if any
    log: FilteringBoundLogger  # bound to handler, delivery id, source, event type, attempt
    # A transactional handler's connection, inside the transaction that holds the event's inbox
    # row: commits when the handler returns, rolls back when it fails. Never COMMIT or ROLLBACK
    # it yourself; `async with ctx.db.transaction():` nests a savepoint. None for the others.
    db: Database | None = None
    # The event's JSON body as queued (what the provider sent; LiveChat's secret_key cut out):
    # for handlers that pass the event on as it came (hookq.destinations).
    body: bytes = b""


def origin_of(func: Callable[..., Any]) -> str:
    """``module:function``; a callable object without a qualified name shows its class."""
    qualname = getattr(func, "__qualname__", None) or type(func).__qualname__
    return f"{getattr(func, '__module__', None) or '?'}:{qualname}"


def default_name(func: Callable[..., Any]) -> str:
    """``module.function`` as a queue-safe handler name: ``billing.hooks.OnChat`` becomes
    ``billing-hooks-onchat`` (lowercased; anything but ASCII letters, digits, ``_`` and ``-``
    becomes ``-``). Renaming the module renames the queue: pass ``name=`` to keep it stable."""
    raw = f"{func.__module__}.{func.__qualname__}".lower()
    return "".join(
        ch if ch.isascii() and (ch.isalnum() or ch in "_-") else "-" for ch in raw
    ).strip("-_")


def handler(
    *patterns: str,
    name: str | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    backoff: Backoff | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    transactional: bool = False,
) -> Callable[
    [Callable[[EventT, HandlerContext], Awaitable[None]]],
    Callable[[EventT, HandlerContext], Awaitable[None]],
]:
    """Declare an async function as a handler of the events whose routing key
    (``<source>.<event type>``) matches any of ``patterns`` (``*`` one word, ``#`` any).
    ``transactional``: run it inside a PostgreSQL transaction with its inbox row (``ctx.db``)."""

    def decorate(
        func: Callable[[EventT, HandlerContext], Awaitable[None]],
    ) -> Callable[[EventT, HandlerContext], Awaitable[None]]:
        try:
            spec = HandlerSpec(
                name=name or default_name(func),
                patterns=tuple(patterns),
                func=func,
                max_attempts=max_attempts,
                backoff=backoff or Backoff(),
                timeout=timeout,
                transactional=transactional,
            )
        except ValueError as exc:
            # Raised while the team's module is imported: name the function, not just the spec.
            raise ValueError(f"@handler on {origin_of(func)}: {exc}") from None
        setattr(func, SPEC_ATTRIBUTE, spec)
        return func

    return decorate


def spec_of(obj: object) -> HandlerSpec | None:
    spec = getattr(obj, SPEC_ATTRIBUTE, None)
    return spec if isinstance(spec, HandlerSpec) else None
