"""A handler's event annotation is checked against what its patterns bind, at discovery."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pytest

from hookq.handlers.annotations import UNLISTED, AnnotationMismatch, bound_models, check_annotation
from hookq.handlers.api import HandlerContext, HandlerSpec
from hookq.sources.livechat import IncomingChat, LivechatWebhook
from hookq.sources.plain import PlainEvent, ThreadChatSent, ThreadCreated
from hookq.sources.standard import StandardEvent
from tests.handlers.plugins import unique, write_module
from tests.handlers.test_cli import run_hookq


def spec(func: Any, *patterns: str) -> HandlerSpec:
    return HandlerSpec(name="h", patterns=patterns, func=func)


async def chat_sent(event: ThreadChatSent, ctx: HandlerContext) -> None:
    return None


async def chat_or_created(event: ThreadChatSent | ThreadCreated, ctx: HandlerContext) -> None:
    return None


async def any_plain(event: PlainEvent, ctx: HandlerContext) -> None:
    return None


async def any_livechat(event: LivechatWebhook[Any], ctx: HandlerContext) -> None:
    return None


async def anything(event: Any, ctx: HandlerContext) -> None:
    return None


async def unannotated(event, ctx):  # type: ignore[no-untyped-def]
    return None


async def annotated_chat(event: Annotated[IncomingChat, "doc"], ctx: HandlerContext) -> None:
    return None


@pytest.mark.parametrize(
    ("func", "patterns"),
    [
        (chat_sent, ("plain.thread.chat_sent",)),
        (chat_or_created, ("plain.thread.chat_sent", "plain.thread.thread_created")),
        (any_plain, ("plain.#",)),
        (any_livechat, ("livechat.#",)),
        (anything, ("#",)),
        (unannotated, ("#",)),
        (annotated_chat, ("livechat.incoming_chat",)),
    ],
)
def test_annotations_that_receive_every_bound_event_pass(func: Any, patterns: tuple[str]) -> None:
    check_annotation(spec(func, *patterns))


def test_a_class_bound_to_other_types_fails_naming_the_pattern_and_the_types() -> None:
    with pytest.raises(AnnotationMismatch) as raised:
        check_annotation(spec(chat_sent, "plain.thread.chat_sent", "plain.thread.#"))
    message = str(raised.value)
    assert "handler 'h'" in message
    assert "takes ThreadChatSent" in message
    assert "pattern 'plain.thread.#' binds" in message
    assert "plain.thread.thread_created (ThreadCreated)" in message
    # What a wildcard may bring that the catalogue does not list: the envelope.
    assert f"plain.{UNLISTED} (PlainEvent)" in message
    assert "pattern 'plain.thread.chat_sent'" not in message  # that one fits


def test_a_union_must_cover_each_bound_type() -> None:
    with pytest.raises(AnnotationMismatch, match="thread_status_transitioned"):
        check_annotation(spec(chat_or_created, "plain.thread.*"))


def test_an_exact_pattern_for_an_uncatalogued_type_binds_the_envelope() -> None:
    bound = bound_models(("standard.invoice.paid", "livechat.no_such_action"))
    assert {(b.source, b.event_type, b.model) for b in bound} == {
        ("standard", UNLISTED, StandardEvent),
        ("livechat", UNLISTED, LivechatWebhook),
    }
    with pytest.raises(AnnotationMismatch, match=r"livechat\.<a type"):
        check_annotation(spec(annotated_chat, "livechat.no_such_action"))


def test_an_unresolvable_annotation_is_named() -> None:
    namespace: dict[str, Any] = {}
    exec(  # noqa: S102 - a team's module that imports its model only for type checkers
        "from __future__ import annotations\n"
        "async def handle(event: NotImported, ctx: object) -> None: ...\n",
        namespace,
    )
    with pytest.raises(AnnotationMismatch, match=r"cannot be resolved.*NotImported"):
        check_annotation(spec(namespace["handle"], "plain.#"))


def test_discovery_refuses_the_readme_mistake(tmp_path: Path) -> None:
    # The README's old example: a handler typed ThreadChatSent bound to other thread events.
    module = unique("mistyped")
    write_module(
        tmp_path,
        module,
        "from hookq.sources.plain import ThreadChatSent\n\n"
        "@handler('plain.thread.chat_sent', 'plain.thread.email_received', name='support-sync')\n"
        "async def sync(event: ThreadChatSent, ctx: HandlerContext) -> None: ...\n",
    )
    for command in (["handlers"], ["worker"]):
        env = {"PYTHONPATH": str(tmp_path), "HOOKQ_HANDLER_MODULES": module}
        result = run_hookq(*command, env=env)
        assert result.returncode == 2, result.stderr
        assert "handler 'support-sync'" in result.stderr
        assert "pattern 'plain.thread.email_received' binds" in result.stderr
        assert "ThreadEmailReceived" in result.stderr
