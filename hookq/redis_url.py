"""The forms of ``HOOKQ_REDIS_URL``: one Redis server, or a primary found through Sentinel.

``redis://[[user]:password@]host[:port][/db]`` (also ``rediss://``, ``unix://``): one server.

``redis+sentinel://[[user]:password@]host:port[,host:port...]/service[/db]``: the sentinels to
ask (any one that answers will do) and the name they monitor the primary under (their
``sentinel monitor <service> ...``). The credentials are the Redis servers' (the sentinels are
reached without them); the port of a sentinel defaults to 26379, the database to 0.

Parsing only, no connection and no heavy import: the settings validate the URL with it at
start-up, ``hookq.redis_client`` connects with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote

SENTINEL_SCHEME = "redis+sentinel://"
SINGLE_SCHEMES = ("redis://", "rediss://", "unix://")
SENTINEL_PORT = 26379

_HOST = re.compile(r"(?P<host>\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+)(?::(?P<port>\d{1,5}))?")


class RedisURLError(ValueError):
    """The URL is neither form; the message says what is wrong (never the password)."""


@dataclass(frozen=True)
class SentinelTarget:
    sentinels: tuple[tuple[str, int], ...]
    service: str
    db: int = 0
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    def where(self) -> str:
        """The sentinels and service, for messages (no credentials)."""
        hosts = ",".join(f"{host}:{port}" for host, port in self.sentinels)
        return f"service {self.service!r} via sentinels {hosts}"


def is_sentinel(url: str) -> bool:
    return url.startswith(SENTINEL_SCHEME)


def check_redis_url(url: str) -> str:
    """``url`` when it is a form hookq connects to; ``RedisURLError`` otherwise."""
    if is_sentinel(url):
        parse_sentinel(url)
    elif not url.startswith(SINGLE_SCHEMES):
        raise RedisURLError(
            "must start with redis://, rediss://, unix:// or redis+sentinel:// "
            "(redis+sentinel://host:port,host:port/service/db)"
        )
    return url


def parse_sentinel(url: str) -> SentinelTarget:
    rest = url.removeprefix(SENTINEL_SCHEME).split("?", 1)[0]
    netloc, _, path = rest.partition("/")
    userinfo, _, hosts = netloc.rpartition("@")
    sentinels = tuple(_host_port(part) for part in hosts.split(","))
    service, _, db = path.partition("/")
    if not service:
        raise RedisURLError("redis+sentinel:// needs the service name after the sentinels")
    if db.strip("/") and not db.strip("/").isdigit():
        raise RedisURLError(f"redis+sentinel://: database must be a number, not {db!r}")
    username, _, password = userinfo.partition(":") if userinfo else ("", "", "")
    return SentinelTarget(
        sentinels,
        unquote(service),
        int(db.strip("/") or 0),
        unquote(username) or None,
        unquote(password) or None,
    )


def _host_port(text: str) -> tuple[str, int]:
    found = _HOST.fullmatch(text.strip())
    if found is None:
        raise RedisURLError(f"redis+sentinel://: {text!r} is not host:port (sentinels: a,b,c)")
    port = int(found["port"] or SENTINEL_PORT)
    if not 1 <= port <= 65535:
        raise RedisURLError(f"redis+sentinel://: port {port} out of range")
    return found["host"].strip("[]"), port
