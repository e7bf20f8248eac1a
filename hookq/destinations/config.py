"""The destinations file (``HOOKQ_DESTINATIONS_FILE``): TOML, one ``[[destination]]`` table each.

    [[destination]]
    name = "crm"                         # the handler's name: queue <namespace>.crm
    url = "http://crm.internal:9000/hooks"
    patterns = ["plain.thread.#"]
    secrets = ["whsec_..."]              # outbound signing; several during a rotation
    timeout = 10                         # seconds per request
    max_attempts = 8
    rate_limit = "10/s"                  # or "600/m", "3600/h"; omitted: unlimited
    [destination.headers]
    Authorization = "Bearer ..."

Everything is checked when the file is read: a mistake stops the process with a message naming
the file, the destination and the key (``DestinationsError``).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)

from hookq.sources.standard.config import check_secrets, decode_secret
from hookq.topology import check_handler_name, check_pattern

DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_ATTEMPTS = 8
# Headers hookq sets on every delivery: a destination's own headers may not replace them (the
# signature would no longer verify, or the receiver would misread the body).
RESERVED_HEADERS = frozenset(
    {
        "content-type",
        "content-length",
        "host",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
    }
)
_RATE = re.compile(r"\s*(\d+)\s*/\s*(s|m|h)\s*")
_PERIODS = {"s": 1.0, "m": 60.0, "h": 3600.0}


class DestinationsError(Exception):
    """The destinations file cannot be used; the message names the destination and the key."""


@dataclass(frozen=True, slots=True)
class RateLimit:
    count: int
    period: float  # seconds

    @property
    def interval(self) -> float:
        """Seconds between two requests at the limit's pace."""
        return self.period / self.count

    def __str__(self) -> str:
        unit = {1.0: "s", 60.0: "m", 3600.0: "h"}[self.period]
        return f"{self.count}/{unit}"


def parse_rate(text: str) -> RateLimit:
    match = _RATE.fullmatch(text)
    if match is None or int(match.group(1)) < 1:
        raise ValueError("a rate is '<count>/s', '<count>/m' or '<count>/h', count at least 1")
    return RateLimit(int(match.group(1)), _PERIODS[match.group(2)])


class Destination(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    url: str
    patterns: list[str] = Field(min_length=1)
    secrets: list[SecretStr] = Field(min_length=1)
    timeout: float = Field(DEFAULT_TIMEOUT, gt=0, le=300)
    max_attempts: int = Field(DEFAULT_MAX_ATTEMPTS, ge=1, le=100)
    rate_limit: RateLimit | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    # The circuit breaker: this many failures in a row (5xx, 408, 429, timeouts, refused
    # connections) stop the destination's consumption for circuit_cooldown seconds.
    circuit_failures: int = Field(5, ge=1, le=1000)
    circuit_cooldown: float = Field(30.0, gt=0, le=3600)

    @field_validator("name")
    @classmethod
    def _handler_name(cls, value: str) -> str:
        check_handler_name(value)
        return value

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.fullmatch(r"https?://[^\s/?#]+[^\s]*", value):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("patterns")
    @classmethod
    def _patterns(cls, value: list[str]) -> list[str]:
        for pattern in value:
            check_pattern(pattern)
        return value

    @field_validator("secrets")
    @classmethod
    def _whsec(cls, value: list[SecretStr]) -> list[SecretStr]:
        return check_secrets(value)

    @field_validator("rate_limit", mode="before")
    @classmethod
    def _rate(cls, value: Any) -> Any:
        if isinstance(value, str):
            return parse_rate(value)
        if value is None or isinstance(value, RateLimit):
            return value
        raise ValueError("a rate is a string: '<count>/s', '<count>/m' or '<count>/h'")

    @field_validator("headers")
    @classmethod
    def _own_headers(cls, value: dict[str, str]) -> dict[str, str]:
        taken = sorted(name for name in value if name.lower() in RESERVED_HEADERS)
        if taken:
            raise ValueError(f"{', '.join(taken)} is set by hookq on every delivery")
        for name, text in value.items():
            if not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", name) or re.search(r"[\r\n]", text):
                raise ValueError(f"{name!r} is not a valid header (name or value)")
        return value

    def keys(self) -> tuple[bytes, ...]:
        return tuple(decode_secret(secret.get_secret_value()) for secret in self.secrets)

    def secret_values(self) -> list[str]:
        """What privacy masks wherever it appears: the secrets and the headers' values."""
        return [s.get_secret_value() for s in self.secrets] + list(self.headers.values())


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    destination: list[Destination] = Field(default_factory=list)


def load_destinations(path: str | Path) -> list[Destination]:
    """Every destination of the file, in its order; ``DestinationsError`` names what is wrong."""
    where = f"destinations file {str(path)!r}"
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise DestinationsError(f"cannot read {where}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DestinationsError(f"{where} is not valid TOML: {exc}") from None
    try:
        destinations = _File.model_validate(raw).destination
    except ValidationError as exc:
        raise DestinationsError(_explain(where, raw, exc)) from None
    seen: set[str] = set()
    for destination in destinations:
        if destination.name in seen:
            raise DestinationsError(f"{where}: two destinations are named {destination.name!r}")
        seen.add(destination.name)
    return destinations


def _explain(where: str, raw: dict[str, Any], exc: ValidationError) -> str:
    lines = []
    tables = raw.get("destination")
    for error in exc.errors():
        loc = error["loc"]
        message = str(error["msg"]).removeprefix("Value error, ")
        if len(loc) >= 2 and loc[0] == "destination" and isinstance(loc[1], int):
            table = tables[loc[1]] if isinstance(tables, list) else None
            name = table.get("name") if isinstance(table, dict) else None
            who = f"destination {name!r}" if isinstance(name, str) else f"destination #{loc[1] + 1}"
            key = ".".join(str(part) for part in loc[2:]) or "(table)"
            lines.append(f"{who}: key {key!r}: {message}")
        else:
            lines.append(f"key {'.'.join(str(p) for p in loc)!r}: {message}")
    return f"{where}:\n  " + "\n  ".join(lines)


__all__ = ["Destination", "DestinationsError", "RateLimit", "load_destinations", "parse_rate"]
