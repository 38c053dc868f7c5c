"""The library's metrics in Prometheus, with prometheus-client (the ``prometheus`` extra):

    MS_TOKEN = {..., "METRICS": "ms_token.contrib.prometheus.PrometheusMetrics"}

    ms_token_verifications_total{outcome, code, caller}      every decision on a token
    ms_token_verification_duration_seconds{outcome}          one admission: checks and replay claim
    ms_token_replay_claim_duration_seconds{store, outcome}   the replay store's claim alone
    ms_token_jwks_fetches_total{issuer, outcome}             fetches of a peer's keys: ok, failed
    service_calls_total{peer, outcome}                       calls through ServiceClient
    service_call_duration_seconds{peer, outcome}             the same, timed (retries included)

They live in prometheus-client's default registry; expose it as your project does (a view with
``generate_latest``, django-prometheus). Under a server with several worker processes
(gunicorn), use prometheus-client's multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``), or each
worker answers with its own counts. Label values are bounded (``ms_token.observability``).
"""
from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Histogram

# Buckets for an admission and a replay claim, and for a call to a peer (up to its timeouts):
# their usual durations are in the README ("Speed").
FAST_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
CALL_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

VERIFICATIONS = Counter(
    "ms_token_verifications", "X-MS-TOKEN decisions: accepted, refused (by code) or unavailable.",
    ["outcome", "code", "caller"],
)
VERIFICATION_SECONDS = Histogram(
    "ms_token_verification_duration_seconds", "Time to admit or refuse one X-MS-TOKEN, replay claim included.",
    ["outcome"], buckets=FAST_BUCKETS,
)
REPLAY_CLAIM_SECONDS = Histogram(
    "ms_token_replay_claim_duration_seconds", "Time of one replay-store claim: claimed, replayed or unavailable.",
    ["store", "outcome"], buckets=FAST_BUCKETS,
)
JWKS_FETCHES = Counter("ms_token_jwks_fetches", "Fetches of a peer's JWKS: ok or failed.", ["issuer", "outcome"])
SERVICE_CALLS = Counter("service_calls", "Calls to peer services (ServiceClient), by outcome.", ["peer", "outcome"])
SERVICE_CALL_SECONDS = Histogram(
    "service_call_duration_seconds", "Time of one call to a peer service, retries included.",
    ["peer", "outcome"], buckets=CALL_BUCKETS,
)


class PrometheusMetrics:
    """``ms_token.observability.Metrics`` recorded with prometheus-client."""

    def __init__(self) -> None:
        # Each label set's child, kept: prometheus-client's labels() takes a lock on every call.
        self._children: dict[tuple[Any, ...], Any] = {}

    def _child(self, metric: Counter | Histogram, *labels: str) -> Any:
        key = (metric, *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def verification(self, outcome: str, code: str, caller: str) -> None:
        self._child(VERIFICATIONS, outcome, code, caller).inc()

    def verification_seconds(self, outcome: str, seconds: float) -> None:
        self._child(VERIFICATION_SECONDS, outcome).observe(seconds)

    def replay_claim(self, store: str, outcome: str, seconds: float) -> None:
        self._child(REPLAY_CLAIM_SECONDS, store, outcome).observe(seconds)

    def service_call(self, peer: str, outcome: str, seconds: float) -> None:
        self._child(SERVICE_CALLS, peer, outcome).inc()
        self._child(SERVICE_CALL_SECONDS, peer, outcome).observe(seconds)

    def jwks_fetch(self, issuer: str, outcome: str) -> None:
        self._child(JWKS_FETCHES, issuer, outcome).inc()
