"""Reading a service's ``GET /metrics`` from outside, as Prometheus would."""
from __future__ import annotations

import http.client
from urllib.parse import urlsplit

from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, frozenset], float]


def fetch_metrics(url: str, *, source: str | None = None) -> tuple[int, str]:
    """``GET <url>/metrics`` on a connection of its own (so any worker may answer), from the
    local address ``source`` when given (127.0.0.2, say): (status, body)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(
        parts.hostname, parts.port, timeout=10, source_address=(source, 0) if source else None
    )
    try:
        connection.request("GET", "/metrics", headers={"Connection": "close"})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def parse(text: str) -> Samples:
    """Every sample: (name, its labels) -> value."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(url: str) -> Samples:
    status, body = fetch_metrics(url)
    assert status == 200, f"{url}/metrics answered {status}: {body[:300]}"
    return parse(body)


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)
