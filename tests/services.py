"""Finding the real RabbitMQ, Redis and PostgreSQL the tests run against.

Order: ``HOOKQ_TEST_AMQP_URL`` / ``HOOKQ_TEST_REDIS_URL`` / ``HOOKQ_TEST_POSTGRES_URL``; else
the local defaults if they answer; else testcontainers if a Docker engine answers; else a
failure that says what to do. Never a skip: integration tests that did not run must not look green.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

LOCAL_AMQP = "amqp://guest:guest@127.0.0.1:5672/"
LOCAL_REDIS = "redis://127.0.0.1:6379/0"
LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


class ServiceUnavailable(RuntimeError):
    pass


def answers(url: str, timeout: float = 1.0) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), timeout):
            return True
    except OSError:
        return False


def docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


@contextlib.contextmanager
def rabbitmq_url() -> Iterator[str]:
    env = os.environ.get("HOOKQ_TEST_AMQP_URL")
    if env:
        yield env
    elif answers(LOCAL_AMQP):
        yield LOCAL_AMQP
    elif docker_answers():
        from testcontainers.rabbitmq import RabbitMqContainer

        with RabbitMqContainer("rabbitmq:3.13-management") as container:
            params = container.get_connection_params()
            yield f"amqp://guest:guest@{params.host}:{params.port}/"
    else:
        raise ServiceUnavailable(
            "no RabbitMQ for the integration tests: set HOOKQ_TEST_AMQP_URL, start one on "
            "127.0.0.1:5672 (rabbitmq-server -detached), or run a Docker engine"
        )


@contextlib.contextmanager
def redis_url() -> Iterator[str]:
    env = os.environ.get("HOOKQ_TEST_REDIS_URL")
    if env:
        yield env
    elif answers(LOCAL_REDIS):
        yield LOCAL_REDIS
    elif docker_answers():
        from testcontainers.redis import RedisContainer

        with RedisContainer("redis:7") as container:
            host, port = container.get_container_host_ip(), container.get_exposed_port(6379)
            yield f"redis://{host}:{port}/0"
    else:
        raise ServiceUnavailable(
            "no Redis for the integration tests: set HOOKQ_TEST_REDIS_URL, start one on "
            "127.0.0.1:6379 (redis-server --daemonize yes), or run a Docker engine"
        )


@contextlib.contextmanager
def postgres_url() -> Iterator[str]:
    env = os.environ.get("HOOKQ_TEST_POSTGRES_URL")
    if env:
        yield env
    elif answers(LOCAL_POSTGRES):
        yield LOCAL_POSTGRES
    elif docker_answers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:15", driver=None) as container:
            yield container.get_connection_url()
    else:
        raise ServiceUnavailable(
            "no PostgreSQL for the integration tests: set HOOKQ_TEST_POSTGRES_URL, start one on "
            "127.0.0.1:5432 (database test, trust authentication), or run a Docker engine"
        )
