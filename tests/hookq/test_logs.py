"""Logs never carry secrets or personal data, whatever a caller passes."""

from __future__ import annotations

import json

import pytest
import structlog

from hookq.logs import MASK, configure_logging
from hookq.settings import Settings


def test_sensitive_keys_are_masked_at_any_depth(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(Settings(log_format="json"))
    try:
        structlog.get_logger("t").warning(
            "oops",
            delivery_id="d1",
            secret_key="lc-secret",
            customer={
                "email": "ana@example.com",
                "phone": "+5511999999999",
                "name": "Ana",
                "plan": "x",
            },
            rows=[{"cpf": "123.456.789-00"}],
            Authorization="Bearer tok",
        )
        line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    finally:
        structlog.reset_defaults()
    assert line["delivery_id"] == "d1"
    assert line["secret_key"] == MASK
    assert line["Authorization"] == MASK
    # "name" is personal data: the providers' models mark it so.
    assert line["customer"] == {"email": MASK, "phone": MASK, "name": MASK, "plan": "x"}
    assert line["rows"] == [{"cpf": MASK}]
    for value in ("lc-secret", "ana@example.com", "5511999999999", "123.456.789-00", "tok"):
        assert value not in json.dumps(line)


def test_aiohttp_parse_errors_are_logged_without_the_request(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import logging

    configure_logging(Settings(log_format="json"))
    try:
        raise ValueError("Invalid header: Authorization: Bearer super-secret-token")
    except ValueError:
        logging.getLogger("aiohttp.server").exception("Error handling request %s", "Bearer tok2")
    finally:
        structlog.reset_defaults()
    [record] = [r for r in caplog.records if r.name == "aiohttp.server"]
    assert record.getMessage() == "request refused (ValueError)"
    assert isinstance(record.refused_error, ValueError)  # type: ignore[attr-defined]
    assert "super-secret-token" not in caplog.text
    assert "tok2" not in caplog.text


def test_a_bound_message_is_on_every_line_and_masked_like_the_rest(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import logging

    from hookq import log_context

    configure_logging(Settings(log_format="json"))
    try:
        structlog.contextvars.bind_contextvars(child=2)
        outer = log_context.bind({"delivery_id": "d-outer", "source": "plain"})
        inner = log_context.bind({"delivery_id": "d-1", "handler": "h", "email": "ana@x.io"})
        structlog.get_logger("t").warning("ours")
        structlog.get_logger("t").warning("given", handler="given-here")
        logging.getLogger("aiormq.test").warning("a library's")
        log_context.unbind(inner)
        structlog.get_logger("t").warning("after")
        log_context.unbind(outer)
        structlog.get_logger("t").warning("unbound")
        lines = [json.loads(x) for x in capsys.readouterr().err.strip().splitlines()[-5:]]
    finally:
        structlog.contextvars.clear_contextvars()
        structlog.reset_defaults()
    ours, given, library, after, unbound = lines
    for line in (ours, given, library):
        assert (line["delivery_id"], line["child"], line["email"]) == ("d-1", 2, MASK)
        assert "source" not in line  # the inner binding replaced the outer one
    assert ours["handler"] == "h"
    assert library["handler"] == "h"
    assert given["handler"] == "given-here"  # a field on the line wins
    assert (after["delivery_id"], after["source"]) == ("d-outer", "plain")
    assert "delivery_id" not in unbound
    assert unbound["child"] == 2
