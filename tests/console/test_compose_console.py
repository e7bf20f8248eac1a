"""compose.yaml runs the console as a service: the hookq image's ``console`` command, with the
shared environment, tokens and signing key required (no default), reachable from this machine
only, healthy when ``/healthz`` answers."""

from __future__ import annotations

from tests.test_compose import (
    ENV_EXAMPLE,
    LOOPBACK,
    REQUIRED_ONLY,
    SERVICES,
    environments,
    published,
)


def test_compose_runs_the_console_with_its_secrets_required() -> None:
    console = SERVICES["console"]
    assert console["command"] == ["console"]
    assert console["image"] == SERVICES["worker"]["image"]
    env = {name: value for service, name, value in environments() if service == "console"}
    worker = {name: value for service, name, value in environments() if service == "worker"}
    assert {k: v for k, v in env.items() if k in worker} == worker  # the shared environment
    assert REQUIRED_ONLY.fullmatch(env["HOOKQ_CONSOLE_TOKENS"])
    assert REQUIRED_ONLY.fullmatch(env["HOOKQ_CONSOLE_SECRET"])
    assert "HOOKQ_CONSOLE_INSECURE" not in env
    assert env["HOOKQ_CONSOLE_INGRESS_METRICS_URL"] == "http://ingress:8080/metrics"
    assert env["HOOKQ_CONSOLE_BROKER_API_URL"].endswith("@rabbitmq:15672")
    for name in ("HOOKQ_CONSOLE_TOKENS", "HOOKQ_CONSOLE_SECRET"):
        assert f"\n{name}=\n" in ENV_EXAMPLE


def test_the_console_is_published_on_this_machine_only_and_checked_by_healthz() -> None:
    console = SERVICES["console"]
    assert [published(p) for p in console["ports"]] == [("127.0.0.1", 8081, 8081)]
    assert published(console["ports"][0])[0] in LOOPBACK
    check = " ".join(console["healthcheck"]["test"])
    assert "http://127.0.0.1:8081/healthz" in check
