"""The overview, ``/`` and ``/api/overview``: each handler's queue depth, messages in flight,
events per minute, retrying and dead counts with a plot of the last hour; the ingress's
accepted and refused rates; the archive's size. All from the sampler's ring buffer."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from aiohttp import web

from hookq.console.plot import Plot, plot
from hookq.console.sampler import Sample, per_minute
from hookq.console.views.common import api_json, console_of, render


@dataclass(frozen=True, slots=True)
class HandlerRow:
    name: str
    depth: int | None
    consumers: int | None
    in_flight: int | None
    per_minute: float | None
    retrying: int | None
    dead: int | None
    curve: str  # what the plot shows
    plot: Plot


@dataclass(frozen=True, slots=True)
class IngressRow:
    accepted: float | None
    refused: float | None
    plot: Plot


Reading = Callable[[Sample], float | None]


def rates(samples: Sequence[Sample], counter: Reading) -> list[tuple[float, float | None]]:
    """A counter's rate per minute between each sample and the one before it."""
    return [
        (later.at, per_minute(counter(earlier), counter(later), later.at - earlier.at))
        for earlier, later in itertools.pairwise(samples)
    ]


def handler_rows(samples: Sequence[Sample], names: Sequence[str], now: float) -> list[HandlerRow]:
    rows = []
    latest = samples[-1] if samples else None
    for name in names:

        def acked(sample: Sample, name: str = name) -> float | None:
            point = sample.handlers.get(name)
            return None if point is None or point.api is None else float(point.api.acked)

        def depth(sample: Sample, name: str = name) -> float | None:
            point = sample.handlers.get(name)
            queues = None if point is None else point.queues
            return None if queues is None or queues.depth is None else float(queues.depth)

        handled = rates(samples, acked)
        point = latest.handlers.get(name) if latest else None
        queues = point.queues if point else None
        api = point.api if point else None
        has_rate = any(v is not None for _, v in handled)
        rows.append(
            HandlerRow(
                name=name,
                depth=queues.depth if queues else None,
                consumers=queues.consumers if queues else None,
                in_flight=api.in_flight if api else None,
                per_minute=handled[-1][1] if handled else None,
                retrying=queues.retrying if queues else None,
                dead=queues.dead if queues else None,
                curve="events per minute" if has_rate else "queue depth",
                plot=plot(handled if has_rate else [(s.at, depth(s)) for s in samples], now),
            )
        )
    return rows


def ingress_row(samples: Sequence[Sample], now: float) -> IngressRow | None:
    if not samples or all(s.ingress is None for s in samples):
        return None
    accepted = rates(samples, lambda s: s.ingress.accepted if s.ingress else None)
    refused = rates(samples, lambda s: s.ingress.refused if s.ingress else None)
    return IngressRow(
        accepted=accepted[-1][1] if accepted else None,
        refused=refused[-1][1] if refused else None,
        plot=plot(accepted, now),
    )


def _overview(request: web.Request) -> dict[str, Any]:
    console = console_of(request)
    samples = list(console.sampler.samples)
    now = time.time()
    latest = samples[-1] if samples else None
    return {
        "sampled_at": latest.at if latest else None,
        "interval": console.sampler.interval,
        "handlers": handler_rows(samples, console.sampler.handlers, now),
        "unrouted": latest.unrouted if latest else None,
        "ingress": ingress_row(samples, now),
        "ingress_configured": bool(console.settings.console_ingress_metrics_url),
        "api_configured": bool(console.settings.console_broker_api_url),
        "archive": latest.archive if latest else None,
        "problems": list(latest.problems) if latest else [],
    }


async def overview_page(request: web.Request) -> web.Response:
    return render(request, "overview.html", "overview", **_overview(request))


async def overview_body(request: web.Request) -> web.Response:
    """The page's body alone: what it fetches to refresh itself."""
    return render(request, "_overview_body.html", "overview", **_overview(request))


async def api_overview(request: web.Request) -> web.Response:
    data = _overview(request)
    data["handlers"] = [_without_plot(asdict(row)) for row in data["handlers"]]
    ingress = data["ingress"]
    data["ingress"] = None if ingress is None else _without_plot(asdict(ingress))
    return api_json(data)


def _without_plot(row: dict[str, Any]) -> dict[str, Any]:
    row.pop("plot", None)
    return row
