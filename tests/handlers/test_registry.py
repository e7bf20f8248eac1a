"""Handler discovery: built-ins, HOOKQ_HANDLER_MODULES and entry points, and its failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from hookq.handlers.builtin.event_log import log_event
from hookq.handlers.registry import RegistryError, discover
from hookq.settings import Settings, load_settings
from tests.handlers.plugins import (
    handler_source,
    unique,
    write_distribution,
    write_handler_module,
    write_module,
    write_plugin_package,
)


def make_settings(*modules: str, builtins: tuple[str, ...] = ()) -> Settings:
    return Settings(handler_modules=list(modules), builtin_handlers=list(builtins))


def test_default_settings_enable_the_event_log_builtin() -> None:
    specs = discover(Settings(handler_modules=[]))

    assert list(specs) == ["event-log"]
    assert specs["event-log"].func is log_event
    assert specs["event-log"].patterns == ("#",)


def test_empty_builtin_setting_enables_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOKQ_BUILTIN_HANDLERS", "")
    monkeypatch.delenv("HOOKQ_HANDLER_MODULES", raising=False)
    settings = load_settings()

    assert settings.builtin_handlers == []
    assert discover(settings) == {}


def test_unknown_builtin_fails_naming_it() -> None:
    with pytest.raises(RegistryError, match=r"unknown built-in handler 'audit-trail'.*event-log"):
        discover(make_settings(builtins=("event-log", "audit-trail")))


def test_module_outside_the_repo_is_found_through_handler_modules(plugin_dir: Path) -> None:
    module = write_handler_module(plugin_dir, unique("team_hooks"), "team-sync", "plain.thread.*")

    specs = discover(make_settings(module, builtins=("event-log",)))

    assert list(specs) == ["event-log", "team-sync"]  # built-ins first
    assert specs["team-sync"].patterns == ("plain.thread.*",)
    assert specs["team-sync"].origin == f"{module}:handle"


@pytest.mark.parametrize("point_at_function", [False, True], ids=["module", "function"])
def test_entry_point_of_an_installed_distribution_is_found(
    plugin_dir: Path, point_at_function: bool
) -> None:
    module = unique("billing_hooks")
    write_plugin_package(
        plugin_dir,
        unique("billing-plugin"),
        module,
        "billing",
        "livechat.#",
        point_at_function=point_at_function,
    )
    listed = write_handler_module(plugin_dir, unique("listed"), "listed")

    specs = discover(make_settings(listed))

    assert list(specs) == ["listed", "billing"]  # modules before entry points
    assert specs["billing"].origin == f"{module}:handle"
    assert specs["billing"].patterns == ("livechat.#",)


def test_same_function_found_twice_counts_once(plugin_dir: Path) -> None:
    origin = write_handler_module(plugin_dir, unique("origin"), "shared")
    again = unique("reexport")
    write_module(plugin_dir, again, f"from {origin} import handle as also_handle\n")
    write_distribution(plugin_dir, unique("reexporter"), {"shared": origin})

    specs = discover(make_settings(origin, again, origin))

    assert list(specs) == ["shared"]
    assert specs["shared"].origin == f"{origin}:handle"


def test_duplicate_names_fail_naming_both_origins(plugin_dir: Path) -> None:
    first = write_handler_module(plugin_dir, unique("first"), "support-sync", function="sync_a")
    second = unique("second")
    write_plugin_package(plugin_dir, unique("second-dist"), second, "support-sync")

    with pytest.raises(RegistryError) as caught:
        discover(make_settings(first))

    message = str(caught.value)
    assert "duplicate handler name 'support-sync'" in message
    assert f"{first}:sync_a" in message
    assert f"{second}:handle" in message
    assert "entry point" in message


def test_duplicate_of_a_builtin_name_fails(plugin_dir: Path) -> None:
    module = write_handler_module(plugin_dir, unique("shadow"), "event-log")

    with pytest.raises(RegistryError, match=r"handlers\.builtin\.event_log:log_event.*built-in"):
        discover(make_settings(module, builtins=("event-log",)))


def test_invalid_pattern_fails_naming_the_function(plugin_dir: Path) -> None:
    module = unique("bad_pattern")
    write_module(plugin_dir, module, handler_source("fine-name", "plain..thread", function="oops"))

    with pytest.raises(RegistryError) as caught:
        discover(make_settings(module))

    message = str(caught.value)
    assert f"{module}:oops" in message
    assert "invalid pattern 'plain..thread'" in message


def test_invalid_name_fails_naming_the_function(plugin_dir: Path) -> None:
    module = unique("bad_name")
    write_module(plugin_dir, module, handler_source("Support Sync", "#", function="sync"))

    with pytest.raises(RegistryError, match=rf"{module}:sync.*invalid handler name 'Support Sync'"):
        discover(make_settings(module))


def test_module_that_does_not_exist_fails_naming_it() -> None:
    with pytest.raises(
        RegistryError, match=r"HOOKQ_HANDLER_MODULES module 'no_such_team\.hooks'.*No module"
    ):
        discover(make_settings("no_such_team.hooks"))


def test_module_that_raises_on_import_fails_with_the_error(plugin_dir: Path) -> None:
    module = unique("broken")
    write_module(plugin_dir, module, "raise RuntimeError('missing API_TOKEN')\n")

    with pytest.raises(RegistryError, match=rf"'{module}'.*RuntimeError: missing API_TOKEN"):
        discover(make_settings(module))


def test_module_without_handlers_fails(plugin_dir: Path) -> None:
    module = unique("empty")
    write_module(plugin_dir, module, "")

    with pytest.raises(RegistryError, match=rf"'{module}' defines no @handler function"):
        discover(make_settings(module))


def test_entry_point_that_does_not_load_names_it_and_its_distribution(plugin_dir: Path) -> None:
    dist = unique("ghost-plugin")
    write_distribution(plugin_dir, dist, {"ghost": "no_such_plugin_module:handle"})

    with pytest.raises(RegistryError) as caught:
        discover(make_settings())

    message = str(caught.value)
    assert "entry point 'ghost'" in message
    assert f"distribution {dist} 1.0" in message
    assert "ModuleNotFoundError" in message


def test_entry_point_naming_a_plain_function_fails(plugin_dir: Path) -> None:
    module = unique("helpers")
    write_module(plugin_dir, module, "def helper() -> None:\n    pass\n")
    write_distribution(plugin_dir, unique("helpers-dist"), {"helper": f"{module}:helper"})

    with pytest.raises(RegistryError, match="neither a module nor an @handler function"):
        discover(make_settings())


SYNC_HANDLER = """
@handler("#", name="sync-one")
def handle(event: Any, ctx: HandlerContext) -> None:
    pass
"""

ONE_ARGUMENT = """
@handler("#", name="one-arg")
async def handle(event: Any) -> None:
    pass
"""

WRAPPED_INSIDE = """
import functools

def traced(func):
    @functools.wraps(func)
    async def wrapper(event, ctx):
        return await func(event, ctx)
    return wrapper

@handler("#", name="traced")
@traced
async def handle(event: Any, ctx: HandlerContext) -> None:
    pass
"""

WRAPPED_OUTSIDE = WRAPPED_INSIDE.replace(
    '@handler("#", name="traced")\n@traced', '@traced\n@handler("#", name="traced")'
)


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (SYNC_HANDLER, r"'sync-one' \({module}:handle\) is not an async def"),
        (ONE_ARGUMENT, r"'one-arg' \({module}:handle\) cannot be called as \(event, ctx\)"),
        (WRAPPED_OUTSIDE, r"{module}:handle wraps the handler .*put @handler outermost"),
    ],
    ids=["sync", "one-argument", "decorator-over-handler"],
)
def test_handler_the_worker_cannot_call_fails_at_discovery(
    plugin_dir: Path, body: str, error: str
) -> None:
    module = unique("uncallable")
    write_module(plugin_dir, module, body)

    with pytest.raises(RegistryError, match=error.format(module=module)):
        discover(make_settings(module))


def test_async_handler_under_a_wrapping_decorator_is_accepted(plugin_dir: Path) -> None:
    module = unique("traced")
    write_module(plugin_dir, module, WRAPPED_INSIDE)

    assert list(discover(make_settings(module))) == ["traced"]
