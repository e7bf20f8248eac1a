"""The ingress's accepted and refused requests, scraped from its ``/metrics``
(``HOOKQ_CONSOLE_INGRESS_METRICS_URL``): the counters ``hookq_ingress_requests_total`` by
status, summed as accepted (2xx: queued) and refused (every other answer). The sampler makes
rates of them. Several ingress processes behind one address answer in turn: give the console
the address of one, or of a Prometheus federation endpoint that sums them.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

SCRAPE_TIMEOUT = 3.0
MAX_BYTES = 4 * 1024 * 1024  # a metrics page is a few kB; anything larger is not ours
REQUESTS = "hookq_ingress_requests"


@dataclass(frozen=True, slots=True)
class IngressCounts:
    accepted: float  # cumulative
    refused: float


def parse(text: str) -> IngressCounts:
    accepted = refused = 0.0
    for family in text_string_to_metric_families(text):
        if family.name != REQUESTS:
            continue
        for sample in family.samples:
            if not sample.name.endswith("_total"):
                continue  # the counter's _created timestamp
            if sample.labels.get("status", "").startswith("2"):
                accepted += sample.value
            else:
                refused += sample.value
    return IngressCounts(accepted, refused)


async def scrape(session: aiohttp.ClientSession, url: str) -> IngressCounts:
    timeout = aiohttp.ClientTimeout(total=SCRAPE_TIMEOUT)
    async with session.get(url, timeout=timeout) as response:
        response.raise_for_status()
        body = await response.content.read(MAX_BYTES + 1)
    if len(body) > MAX_BYTES:
        raise ValueError(f"{url} answered more than {MAX_BYTES} bytes: not an ingress's metrics")
    return parse(body.decode("utf-8", "replace"))
