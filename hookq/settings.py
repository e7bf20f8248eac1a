"""The one settings object, built once at start-up from ``HOOKQ_*`` variables and passed down.

Nothing else in hookq reads the environment: tests build a ``Settings`` directly. The settings
of each provider are its own (``HOOKQ_<SOURCE>_...``, declared in its package and listed by
``hookq.sources.registry``): ``load_settings`` reads those of the enabled sources into
``Settings.source_settings``, and this module names no provider.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from hookq.redis_url import check_redis_url
from hookq.sources.base import SourceSettings, split_commas
from hookq.sources.registry import PROVIDERS, settings_type

ENV_PREFIX = "HOOKQ_"

CommaList = Annotated[list[str], NoDecode]
MIN_CONSOLE_TOKEN = 16  # characters of an operator's token
MIN_CONSOLE_SECRET = 32  # characters of the console's signing key


class SettingsError(Exception):
    """A setting is missing or wrong; the message names the environment variable."""


def env_name(field: str) -> str:
    return f"{ENV_PREFIX}{field.upper()}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    # Connections
    # One RabbitMQ node, or the nodes of one cluster separated by commas (hookq.amqp).
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    redis_url: str = "redis://127.0.0.1:6379/0"
    # Prefix of every exchange, queue and Redis key: lets several deployments (or tests) share
    # one broker without seeing each other's messages.
    namespace: str = "hookq"

    # Ingress
    ingress_host: str = "0.0.0.0"  # noqa: S104 - a server inside a container listens on all
    ingress_port: int = Field(8080, ge=1, le=65535)
    max_body_bytes: int = Field(1024 * 1024, ge=1024)
    publish_timeout: float = Field(5.0, gt=0, description="seconds to wait for a broker confirm")
    publish_channels: int = Field(4, ge=1, le=64)
    retry_after: int = Field(5, ge=1, description="Retry-After seconds on a 503")
    # Request bodies held at once (being read or waiting for the broker's confirm): over it the
    # ingress answers 503. Sized so that bodies add at most a few tens of MB to the ingress's
    # ~80 MB; one body is always admitted, whatever the bound.
    max_bodies_in_flight_bytes: int = Field(16 * 1024 * 1024, ge=1024)
    ingress_keepalive_timeout: float = Field(
        15.0, gt=0, description="seconds an idle connection, or a request's headers, may take"
    )
    ingress_body_timeout: float = Field(15.0, gt=0, description="seconds to receive a body")

    # Sources (each provider's own settings: source_settings, filled by load_settings)
    sources: CommaList = Field(default_factory=lambda: list(PROVIDERS))
    insecure_sources: CommaList = Field(default_factory=list)
    timestamp_tolerance: float = Field(300.0, gt=0, description="replay window, seconds")
    source_settings: dict[str, SourceSettings] = Field(default_factory=dict, exclude=True)

    # Worker
    handler_modules: CommaList = Field(default_factory=list)
    builtin_handlers: CommaList = Field(default_factory=lambda: ["event-log"])  # empty: none
    worker_metrics_host: str = "0.0.0.0"  # noqa: S104 - scraped from outside the container
    worker_metrics_port: int = Field(9101, ge=0, le=65535)
    hooks: CommaList = Field(default_factory=list)  # module:attribute of a team's hooks
    prefetch: int = Field(32, ge=1, le=10_000)
    dedupe_ttl: float = Field(7 * 24 * 3600.0, gt=0, description="seconds a done mark is kept")
    claim_lease: float = Field(
        120.0, gt=0, description="seconds a claim blocks other workers; exceeds handler timeouts"
    )
    delivery_limit: int = Field(
        10, ge=1, description="deliveries before the broker dead-letters a crash-looping message"
    )
    shutdown_grace: float = Field(20.0, ge=0)

    # Console (hookq console): operators' tokens, sessions, and where it reads what it plots
    console_host: str = "0.0.0.0"  # noqa: S104 - a server inside a container listens on all
    console_port: int = Field(8081, ge=1, le=65535)
    console_tokens: CommaList = Field(default_factory=list)  # secret: masked like the sources'
    console_token_names: CommaList = Field(default_factory=list)  # who each token is, in order
    # Signs the session cookies; empty: a random key per process (sessions end on a restart).
    console_secret: str = ""
    console_insecure: bool = False  # no token: anyone who reaches the port is an operator
    console_session_ttl: float = Field(8 * 3600.0, gt=0, description="seconds a login lasts")
    # Behind a TLS-terminating proxy: trust its X-Forwarded-Proto for the cookie's Secure flag.
    console_trust_forwarded_proto: bool = False
    console_ingress_metrics_url: str = ""  # an ingress's /metrics: accepted and refused rates
    console_broker_api_url: str = ""  # RabbitMQ's management API: in flight, events per minute
    console_sample_interval: float = Field(10.0, ge=0.5, description="seconds between samples")
    # PostgreSQL: the transactional inbox (hookq.inbox), used only by transactional handlers
    # and `hookq db`. None: no transactional handler may run.
    postgres_url: str | None = None
    postgres_pool_size: int = Field(
        10, ge=1, le=1000, description="connections per worker: transactional runs at once"
    )
    postgres_statement_timeout: float = Field(
        30.0, gt=0, description="seconds any one statement may take, handlers' own included"
    )

    # HTTP destinations (hookq.destinations): a TOML file of [[destination]] tables, each a
    # handler forwarding its events to a URL. None: no destination.
    destinations_file: str | None = None
    # Event archive (hookq.events, issue 14): every accepted event also kept in the stream
    # <namespace>.archive, routed by the ingress's one confirmed publish. The retention
    # arguments are fixed when the stream is first declared; change them later with a policy
    # (docs/operators.md, "The event archive").
    archive: bool = True  # HOOKQ_ARCHIVE=off: the ingress publishes as it did before
    archive_max_age: str = Field("7D", description="RabbitMQ's x-max-age: 7D, 12h, 30m, 90s")
    archive_max_bytes: int | None = Field(None, ge=1, description="the stream's size bound")
    # Size of one stream segment file: retention drops whole segments, so small ones (tests)
    # trim close to the bound. None: RabbitMQ's default (500 MB).
    archive_segment_bytes: int | None = Field(None, ge=4096)

    @field_validator("archive_max_age")
    @classmethod
    def _rabbitmq_age(cls, value: str) -> str:
        if not re.fullmatch(r"[1-9][0-9]*[YMDhms]", value):
            raise ValueError("a number and a unit, as RabbitMQ reads it: Y, M, D, h, m or s")
        return value

    # Logs
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["auto", "json", "console"] = "auto"

    # Tracing: OpenTelemetry's own variables turn it on (its SDK reads the rest of them).
    otel_traces_exporter: str = Field(
        "none", validation_alias=AliasChoices("OTEL_TRACES_EXPORTER", "otel_traces_exporter")
    )

    _split = field_validator(
        "sources",
        "insecure_sources",
        "handler_modules",
        "builtin_handlers",
        "hooks",
        "console_tokens",
        "console_token_names",
        mode="before",
    )(split_commas)

    @field_validator("namespace")
    @classmethod
    def _namespace_is_a_name(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", value):
            raise ValueError("lowercase letters, digits, '_' and '-' only")
        return value

    @field_validator("sources", "insecure_sources")
    @classmethod
    def _sources_are_known(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(PROVIDERS))
        if unknown:
            raise ValueError(f"unknown source(s) {unknown}; known: {', '.join(PROVIDERS)}")
        return value

    @field_validator("otel_traces_exporter")
    @classmethod
    def _known_exporters(cls, value: str) -> str:
        names = [name.strip().lower() for name in value.split(",") if name.strip()] or ["none"]
        unknown = sorted(set(names) - {"otlp", "console", "none"})
        if unknown:
            raise ValueError(f"unknown exporter(s) {unknown}: hookq supports otlp, console, none")
        return ",".join(names)

    @field_validator("console_tokens")
    @classmethod
    def _tokens_are_long(cls, value: list[str]) -> list[str]:
        # A short token can be guessed through the login form: refuse it rather than serve it.
        if any(len(token) < MIN_CONSOLE_TOKEN for token in value):
            raise ValueError(f"each token needs at least {MIN_CONSOLE_TOKEN} characters")
        return value

    @field_validator("console_secret")
    @classmethod
    def _secret_is_long(cls, value: str) -> str:
        if value and len(value) < MIN_CONSOLE_SECRET:
            raise ValueError(f"at least {MIN_CONSOLE_SECRET} characters (or empty: per process)")
        return value

    @field_validator("console_ingress_metrics_url", "console_broker_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @model_validator(mode="after")
    def _one_name_per_token(self) -> Settings:
        if self.console_token_names and len(self.console_token_names) != len(self.console_tokens):
            raise ValueError(
                f"{env_name('console_token_names')} names {len(self.console_token_names)} "
                f"operator(s) for {len(self.console_tokens)} token(s) in "
                f"{env_name('console_tokens')}: one name per token, in the same order"
            )
        return self

    @field_validator("amqp_url")
    @classmethod
    def _amqp_scheme(cls, value: str) -> str:
        # One node, or several separated by commas: the nodes of one cluster (hookq.amqp).
        if not all(node.strip().startswith(("amqp://", "amqps://")) for node in value.split(",")):
            raise ValueError(
                "must start with amqp:// or amqps:// (several nodes: each one, separated by "
                "commas; a comma in a password is written %2C)"
            )
        return value

    # Redis: one server, or a primary with replicas behind Sentinel (redis+sentinel://h:p,h:p/
    # service/db): the forms and their checks are hookq.redis_url's, masked by safe_url.
    @field_validator("redis_url")
    @classmethod
    def _redis_form(cls, value: str) -> str:
        return check_redis_url(value)  # a RedisURLError is a ValueError: names the variable

    @field_validator("postgres_url")
    @classmethod
    def _postgres_scheme(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("must start with postgresql:// or postgres://")
        return value

    @property
    def tracing_enabled(self) -> bool:
        return self.otel_traces_exporter.strip().lower() not in ("", "none")

    def source(self, name: str) -> SourceSettings:
        """The settings of one provider (its defaults when they were not loaded)."""
        found = self.source_settings.get(name)
        return found if found is not None else settings_type(name)()

    def secret_values(self) -> list[str]:
        """Every configured secret of every enabled source, and the console's tokens and
        signing key: masked wherever they appear."""
        sources = [value for name in self.sources for value in self.source(name).secret_values()]
        console = [*self.console_tokens, *([self.console_secret] if self.console_secret else [])]
        return sources + console

    def require_source_secrets(self) -> None:
        """Fail closed: an enabled source with no secret refuses to start, unless insecure."""
        missing = [
            f"{ENV_PREFIX}{name.upper()}_SECRETS"
            for name in self.sources
            if not self.source(name).secrets and name not in self.insecure_sources
        ]
        if missing:
            raise SettingsError(
                f"{', '.join(missing)} not set: each enabled source needs at least one secret "
                f"(or list it in {env_name('insecure_sources')} for local development only)"
            )


def load_settings(**overrides: object) -> Settings:
    """Build the settings from the environment, each enabled provider's own included; errors
    name the variable to fix."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(_explain(exc, ENV_PREFIX)) from None
    loaded = dict(settings.source_settings)
    for name in settings.sources:
        if name in loaded:
            continue
        prefix = f"{ENV_PREFIX}{name.upper()}_"
        try:
            loaded[name] = settings_type(name)()
        except ValidationError as exc:
            raise SettingsError(_explain(exc, prefix)) from None
    return settings.model_copy(update={"source_settings": loaded})


def _explain(exc: ValidationError, prefix: str) -> str:
    lines = [f"{_variable(err['loc'], prefix)}: {err['msg']}" for err in exc.errors()]
    return "invalid settings:\n  " + "\n  ".join(lines)


def _variable(loc: tuple[int | str, ...], prefix: str) -> str:
    """The environment variable of an error's field: its own name where it has one (the
    ``OTEL_*`` variables), else the prefix and the field."""
    if not loc:
        return prefix
    name = str(loc[0])
    return name if name.isupper() else f"{prefix}{name.upper()}"
