"""compose.yaml is safe to run as it is: no secret or password has a default (compose refuses to
start until each is set), the broker and Redis are not reachable from the network, RabbitMQ runs
without its guest user, and .env.example lists what must be set without giving a value.

compose.yaml is read as YAML (anchors resolved) and its ``${...}`` interpolations checked as
compose applies them: ``${VAR:?message}`` fails when VAR is unset or empty, ``${VAR:-default}``
falls back to the default, and a bare ``${VAR}`` becomes empty.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
ENV_EXAMPLE = (ROOT / ".env.example").read_text()
README = (ROOT / "README.md").read_text()
DOCKERFILE = (ROOT / "Dockerfile").read_text()

INTERPOLATION = re.compile(r"\$\{(?P<name>\w+)(?P<op>:?[-?])?(?P<arg>[^}]*)\}")
REQUIRED_ONLY = re.compile(r"\$\{\w+:\?[^}]*\}")
USER_AND_PASSWORD = re.compile(rf"{REQUIRED_ONLY.pattern}:{REQUIRED_ONLY.pattern}")
SECRET_NAME = re.compile(r"SECRET|PASS|TOKEN|KEY|USER", re.IGNORECASE)
# Ports nothing outside this machine may reach: AMQP, management UI, clustering, Redis,
# PostgreSQL.
PRIVATE_PORTS = {5672, 15672, 4369, 25672, 6379, 5432}
LOOPBACK = {"127.0.0.1", "::1", "[::1]", "localhost"}
EVERY_ADDRESS = "0.0.0.0"  # noqa: S104  # where compose publishes a port without an address


def strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from strings(key)
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)


def environments() -> Iterator[tuple[str, str, str]]:
    """(service, variable, value) of every service's environment, in either syntax."""
    for service, spec in SERVICES.items():
        environment = spec.get("environment") or {}
        if isinstance(environment, list):
            environment = dict(item.partition("=")[::2] for item in environment)
        for name, value in environment.items():
            yield service, name, "" if value is None else str(value)


def published(port: Any) -> tuple[str, int | None, int]:
    """(host address, host port, container port) of one ``ports`` entry, in either syntax."""
    if isinstance(port, dict):
        return str(port.get("host_ip", EVERY_ADDRESS)), port.get("published"), int(port["target"])
    parts = str(port).split("/")[0].rsplit(":", 2)
    target = int(parts[-1])
    host_port = int(parts[-2]) if len(parts) >= 2 and parts[-2] else None
    host_ip = parts[0] if len(parts) == 3 else EVERY_ADDRESS
    return host_ip, host_port, target


def required_variables() -> set[str]:
    return {
        match["name"]
        for text in strings(COMPOSE)
        for match in INTERPOLATION.finditer(text)
        if match["op"] == ":?"
    }


def test_no_interpolation_falls_back_to_a_value() -> None:
    # A default in the repository is a value anyone can read: only an empty one is allowed, and
    # only for a variable that is not a secret.
    fallbacks = [
        match[0]
        for text in strings(COMPOSE)
        for match in INTERPOLATION.finditer(text)
        if match["op"] != ":?" and (match["arg"] or SECRET_NAME.search(match["name"]))
    ]
    assert fallbacks == []


def test_every_secret_and_password_must_be_set() -> None:
    secrets = [(s, n, v) for s, n, v in environments() if SECRET_NAME.search(n)]
    assert {n for _, n, _ in secrets} >= {
        *("HOOKQ_PLAIN_SECRETS", "HOOKQ_LIVECHAT_SECRETS", "HOOKQ_STARYA_SECRETS"),
        *("HOOKQ_STANDARD_SECRETS", "RABBITMQ_DEFAULT_USER", "RABBITMQ_DEFAULT_PASS"),
        *("POSTGRES_USER", "POSTGRES_PASSWORD"),
    }
    assert [(s, n, v) for s, n, v in secrets if not REQUIRED_ONLY.fullmatch(v)] == []


def test_credentials_in_urls_must_be_set() -> None:
    with_credentials = []
    for service, name, value in environments():
        for userinfo in re.findall(r"://([^@/]*)@", value):
            assert USER_AND_PASSWORD.fullmatch(userinfo), (service, name, value)
            with_credentials.append((service, name))
    assert {("worker", "HOOKQ_AMQP_URL"), ("ingress", "HOOKQ_AMQP_URL")} <= set(with_credentials)
    assert {("worker", "HOOKQ_POSTGRES_URL"), ("migrate", "HOOKQ_POSTGRES_URL")} <= set(
        with_credentials
    )


def test_rabbitmq_runs_without_its_guest_user() -> None:
    environment = {n: v for s, n, v in environments() if s == "rabbitmq"}
    assert REQUIRED_ONLY.fullmatch(environment["RABBITMQ_DEFAULT_USER"])
    assert REQUIRED_ONLY.fullmatch(environment["RABBITMQ_DEFAULT_PASS"])
    assert [text for text in strings(COMPOSE) if "guest" in text.lower()] == []


def test_the_broker_and_redis_are_published_on_loopback_at_most() -> None:
    exposed = [
        (service, port)
        for service, spec in SERVICES.items()
        for port in spec.get("ports", [])
        if published(port)[2] in PRIVATE_PORTS and published(port)[0] not in LOOPBACK
    ]
    assert exposed == []
    assert [published(p) for p in SERVICES["ingress"]["ports"]] == [(EVERY_ADDRESS, 8080, 8080)]


def test_the_worker_is_healthy_when_ready() -> None:
    check = " ".join(SERVICES["worker"]["healthcheck"]["test"])
    assert "http://127.0.0.1:9101/readyz" in check


def test_env_example_lists_every_required_variable_without_a_value() -> None:
    assigned = dict(
        line.partition("=")[::2]
        for line in ENV_EXAMPLE.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    )
    assert required_variables() <= set(assigned)
    # Copied unchanged, it must leave compose refusing to start, not running on known values.
    assert {name: value for name, value in assigned.items() if value} == {}


def test_the_readmes_handler_image_builds_on_the_image_compose_builds() -> None:
    recipes = re.findall(r"```dockerfile\n(.*?)```", README, flags=re.DOTALL)
    assert len(recipes) == 1
    lines = recipes[0].splitlines()
    assert lines[0] == f"FROM {SERVICES['worker']['image']}"
    assert SERVICES["worker"]["image"] == SERVICES["ingress"]["image"]
    # It installs as root, then runs as the image's own user again.
    image_user = re.findall(r"^USER (\S+)$", DOCKERFILE, flags=re.MULTILINE)[-1]
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users[-1] == image_user != "root"
    assert any(line.startswith("ENV HOOKQ_HANDLER_MODULES=") for line in lines)


def test_the_worker_starts_after_the_inbox_schema_is_migrated() -> None:
    assert SERVICES["migrate"]["command"] == ["db", "migrate"]
    assert SERVICES["migrate"]["image"] == SERVICES["worker"]["image"]
    migrated = SERVICES["worker"]["depends_on"]["migrate"]
    assert migrated == {"condition": "service_completed_successfully"}
    assert "postgres-data:/var/lib/postgresql/data" in SERVICES["postgres"]["volumes"]


def test_the_port_parser_reads_every_syntax() -> None:
    assert published("5672:5672") == (EVERY_ADDRESS, 5672, 5672)
    assert published("127.0.0.1:15672:15672/tcp") == ("127.0.0.1", 15672, 15672)
    assert published("5672") == (EVERY_ADDRESS, None, 5672)
    assert published({"target": 5672, "published": 5672}) == (EVERY_ADDRESS, 5672, 5672)
