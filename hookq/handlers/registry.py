"""Handler discovery: which handlers this deployment runs, found once at start-up.

In this order:

1. the built-ins named in ``HOOKQ_BUILTIN_HANDLERS`` (``handlers.builtin``);
2. every module in ``HOOKQ_HANDLER_MODULES`` (comma-separated import paths);
3. every installed entry point in the group ``hookq.handlers``; one names a module
   (``my_team.hooks``) or a single handler (``my_team.hooks:on_chat``);
4. every HTTP destination of ``HOOKQ_DESTINATIONS_FILE`` (``hookq.destinations``).

From a module, every attribute that carries an ``@handler`` spec is collected, wherever it was
defined; the same function found twice (re-exported, or listed twice) counts once.

Everything that would make the worker misbehave later fails here instead, as ``RegistryError``
naming the culprit: a module that does not import, an entry point that does not load, a module
with no handler, an invalid name or pattern (raised by ``@handler`` while the module imports),
two functions claiming one name, a handler the worker could not call, and a handler whose
event annotation cannot receive every event its patterns bind (``hookq.handlers.annotations``).
Each is an error rather than a warning: a handler that is not an ``async def`` taking
``(event, ctx)`` would fail on every event, turning the whole stream into retries and dead
letters, and one typed for events it does not get would fail on some.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterable
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType

from hookq.handlers import builtin
from hookq.handlers.annotations import AnnotationMismatch, check_annotation
from hookq.handlers.api import HandlerSpec, spec_of
from hookq.settings import Settings, env_name

ENTRY_POINT_GROUP = "hookq.handlers"


class RegistryError(Exception):
    """Discovery failed; the message names the module, entry point or function to fix."""


def discover(settings: Settings) -> dict[str, HandlerSpec]:
    """Every handler to run, by name, in discovery order."""
    found = _Found()
    available = _builtin_specs()
    for name in settings.builtin_handlers:
        if name not in available:
            raise RegistryError(
                f"unknown built-in handler {name!r} in {env_name('builtin_handlers')}; "
                f"known: {', '.join(sorted(available))}"
            )
        found.add(available[name], via="built-in")
    for path in settings.handler_modules:
        via = f"{env_name('handler_modules')} module {path!r}"
        found.add_all(specs_in(_import(path, via), via), via)
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        via = _describe(entry_point)
        found.add_all(_entry_point_specs(entry_point, via), via)
    if settings.destinations_file:
        via = f"{env_name('destinations_file')} {settings.destinations_file!r}"
        found.add_all(_destination_specs(settings), via)
    return found.specs


def _destination_specs(settings: Settings) -> list[HandlerSpec]:
    """Each HTTP destination of the file, a handler like any other (``hookq.destinations``)."""
    from hookq.destinations.config import DestinationsError, load_destinations
    from hookq.destinations.delivery import destination_specs
    from hookq.privacy import Privacy
    from hookq.topology import Names

    assert settings.destinations_file is not None
    try:
        destinations = load_destinations(settings.destinations_file)
    except DestinationsError as exc:
        raise RegistryError(str(exc)) from None
    # A refusing destination's answer, kept in the failure record, is masked like a log line.
    secrets = [value for d in destinations for value in d.secret_values()]
    privacy = Privacy.from_settings(settings, secrets)
    return destination_specs(destinations, Names(settings.namespace), settings.redis_url, privacy)


def specs_in(module: ModuleType, via: str) -> list[HandlerSpec]:
    """The handler specs a module exposes; a module without any is a configuration mistake."""
    specs = [
        spec
        for attribute, obj in vars(module).items()
        if (spec := _spec_of_attribute(obj, f"{module.__name__}:{attribute}")) is not None
    ]
    if not specs:
        raise RegistryError(
            f"{via} defines no @handler function (a package's submodules count only if its "
            "__init__ imports them)"
        )
    return specs


def _spec_of_attribute(obj: object, where: str) -> HandlerSpec | None:
    spec = spec_of(obj)
    if spec is not None and obj is not spec.func:
        # functools.wraps copies the spec onto a wrapper, but the worker calls spec.func:
        # the wrapper (tracing, say) would be silently skipped.
        raise RegistryError(
            f"{where} wraps the handler {spec.origin}: "
            "a decorator was applied over @handler; put @handler outermost"
        )
    return spec


class _Found:
    """Specs by name, remembering how each was found so that conflicts name both ends."""

    def __init__(self) -> None:
        self.specs: dict[str, HandlerSpec] = {}
        self._via: dict[str, str] = {}

    def add_all(self, specs: Iterable[HandlerSpec], via: str) -> None:
        for spec in specs:
            self.add(spec, via)

    def add(self, spec: HandlerSpec, via: str) -> None:
        existing = self.specs.get(spec.name)
        if existing is spec:
            return
        if existing is not None:
            raise RegistryError(
                f"duplicate handler name {spec.name!r}: {existing.origin} "
                f"({self._via[spec.name]}) and {spec.origin} ({via}); "
                "give one of them another name= (it names its queues)"
            )
        _check_callable(spec)
        try:
            check_annotation(spec)
        except AnnotationMismatch as exc:
            raise RegistryError(str(exc)) from None
        self.specs[spec.name] = spec
        self._via[spec.name] = via


def _check_callable(spec: HandlerSpec) -> None:
    func = spec.func
    # Unwrapping accepts functools.wraps decorators around an async def.
    if not (inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(inspect.unwrap(func))):
        raise RegistryError(
            f"handler {spec.name!r} ({spec.origin}) is not an async def: "
            "the worker awaits it with (event, ctx)"
        )
    try:
        inspect.signature(func).bind(object(), object())
    except (TypeError, ValueError):
        raise RegistryError(
            f"handler {spec.name!r} ({spec.origin}) cannot be called as (event, ctx): "
            f"its signature is {_signature(spec)}"
        ) from None


def _signature(spec: HandlerSpec) -> str:
    try:
        return f"{spec.func.__name__}{inspect.signature(spec.func)}"
    except (TypeError, ValueError):
        return "not inspectable"


def _builtin_specs() -> dict[str, HandlerSpec]:
    specs: dict[str, HandlerSpec] = {}
    for path in builtin.MODULES:
        for spec in specs_in(_import(path, f"built-in module {path!r}"), path):
            specs[spec.name] = spec
    return specs


def _import(path: str, via: str) -> ModuleType:
    try:
        return importlib.import_module(path)
    except Exception as exc:  # whatever a team's module raises while importing
        raise RegistryError(f"cannot import {via}: {type(exc).__name__}: {exc}") from exc


def _describe(entry_point: EntryPoint) -> str:
    dist = entry_point.dist
    owner = (
        f"distribution {dist.name} {dist.version}" if dist is not None else "unknown distribution"
    )
    return (
        f"entry point {entry_point.name!r} = {entry_point.value!r} ({ENTRY_POINT_GROUP}, {owner})"
    )


def _entry_point_specs(entry_point: EntryPoint, via: str) -> list[HandlerSpec]:
    try:
        obj = entry_point.load()
    except Exception as exc:  # whatever a plugin raises while importing
        raise RegistryError(f"cannot load {via}: {type(exc).__name__}: {exc}") from exc
    if isinstance(obj, ModuleType):
        return specs_in(obj, via)
    spec = _spec_of_attribute(obj, entry_point.value)
    if spec is None:
        raise RegistryError(f"{via} names neither a module nor an @handler function")
    return [spec]


__all__ = ["ENTRY_POINT_GROUP", "RegistryError", "discover", "specs_in"]
