"""Which hooks a worker runs: the built-ins (tracing, when the ``OTEL_*`` variables turn it on;
metrics, always), and a team's, found once at start-up.

A team's hooks come from ``HOOKQ_HOOKS`` (comma-separated ``module:attribute``) and from the
entry points of the group ``hookq.hooks``, in that order. The attribute is a ``Hook`` instance,
a ``Hook`` subclass (built with the settings if its constructor takes an argument, else with
none) or a function taking the settings and returning a ``Hook``. Anything else fails discovery
with a message naming it (``HookError``, exit 2).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from hookq.settings import Settings, env_name
from hookq.worker.hooks import Hook

if TYPE_CHECKING:
    from hookq.handlers.api import HandlerSpec
    from hookq.worker.inflight import InFlight
    from hookq.worker.metrics import WorkerMetrics

ENTRY_POINT_GROUP = "hookq.hooks"


class HookError(Exception):
    """A hook could not be loaded; the message names it."""


def team_hooks(settings: Settings) -> list[Hook]:
    hooks = [
        _build(_import(path), settings, f"{env_name('hooks')} entry {path!r}")
        for path in settings.hooks
    ]
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        via = f"entry point {entry_point.name!r} = {entry_point.value!r} ({ENTRY_POINT_GROUP})"
        try:
            loaded = entry_point.load()
        except Exception as exc:  # whatever a plugin raises while importing
            raise HookError(f"cannot load {via}: {type(exc).__name__}: {exc}") from exc
        hooks.append(_build(loaded, settings, via))
    return hooks


def builtin_hooks(
    settings: Settings,
    specs: Mapping[str, HandlerSpec] | None = None,
    metrics: WorkerMetrics | None = None,
    in_flight: InFlight | None = None,
) -> list[Hook]:
    """The destinations' gate when ``specs`` hold destinations (outermost: a message held at it
    is not yet being processed), then tracing when it is on (its spans then enclose every
    other hook's work)."""
    hooks: list[Hook] = []
    from hookq.destinations.delivery import forwarders

    if found := forwarders(specs or {}):
        from hookq.destinations.hook import DestinationHook

        hooks.append(DestinationHook(found, metrics, in_flight))
    if settings.tracing_enabled:
        from hookq.worker.tracing import TracingHook  # OpenTelemetry: only when it is on

        hooks.append(TracingHook(settings))
    return hooks


def hook_names(settings: Settings, specs: Mapping[str, HandlerSpec] | None = None) -> list[str]:
    """What a worker with these settings runs, outermost first (``hookq handlers``)."""
    hooks = (*builtin_hooks(settings, specs), *team_hooks(settings))
    return [hook.name for hook in hooks] + ["metrics"]


def _import(path: str) -> object:
    module_name, _, attribute = path.partition(":")
    if not module_name or not attribute:
        raise HookError(f"{env_name('hooks')}: {path!r} is not 'module:attribute'")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # whatever a team's module raises while importing
        raise HookError(f"cannot import hook module {module_name!r}: {exc}") from exc
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise HookError(f"module {module_name!r} has no attribute {attribute!r}") from None


def _build(obj: object, settings: Settings, via: str) -> Hook:
    if isinstance(obj, Hook):
        return obj
    try:
        if isinstance(obj, type) and issubclass(obj, Hook):
            takes_settings = bool(inspect.signature(obj).parameters)
            return obj(settings) if takes_settings else obj()  # type: ignore[call-arg]
        if callable(obj):
            built = obj(settings)
            if isinstance(built, Hook):
                return built
    except Exception as exc:
        raise HookError(f"{via}: building the hook failed: {type(exc).__name__}: {exc}") from exc
    raise HookError(
        f"{via} is not a hook: give a Hook instance, a Hook subclass, or a function of the "
        "settings returning a Hook (from hookq.worker.hooks import Hook)"
    )
