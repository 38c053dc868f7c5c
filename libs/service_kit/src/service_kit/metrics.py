"""``GET /metrics``: every worker's counts in Prometheus's text format, to allowed networks only.

What is measured: the HTTP requests of every view (django-prometheus's middleware, ``django_http_*``)
and ms_token's decisions, replay claims, JWKS fetches and calls to peers (``ms_token_*``,
``service_calls_total``, ``service_call_duration_seconds``; ``ms_token.contrib.prometheus``).

Under gunicorn every worker is a process of its own: prometheus-client's multiprocess mode keeps
each worker's values in files of one directory, which the gunicorn configuration
(``service_kit.gunicorn_conf``) makes before the workers start and removes when the server
stops; this view sums them. A single process (runserver, tests) answers from its own memory.
"""
from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django_prometheus import middleware

from .conf import Network
from .decorators import plain_get_view
from .errors import error_body


def is_allowed(address: str, networks: list[Network]) -> bool:
    try:
        client = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    if isinstance(client, ipaddress.IPv6Address) and client.ipv4_mapped is not None:
        client = client.ipv4_mapped
    return any(client in network for network in networks)


@never_cache
@plain_get_view
def metrics(request: HttpRequest) -> HttpResponse:
    # The socket's peer, never X-Forwarded-For: scrapers connect directly, and any pod that can
    # reach the service could write that header (proxies must not route /metrics).
    if not is_allowed(request.META.get("REMOTE_ADDR", ""), settings.METRICS_ALLOWED_NETWORKS):
        return JsonResponse(
            error_body("Metrics are served to the networks in METRICS_ALLOWED_CIDRS only.", "permission_denied"),
            status=403,
        )
    from django_prometheus.exports import ExportToDjangoView

    response: HttpResponse = ExportToDjangoView(request)
    return response


class PrometheusAfterMiddleware(middleware.PrometheusAfterMiddleware):
    """django-prometheus's, with every ``method`` label one of HTTP's methods (or ``<invalid
    method>``): it labels its latency histogram with the method as sent, so that each made-up
    method a client sends would add series for as long as the process lives."""

    def label_metric(self, metric, request, response=None, **labels):
        if "method" in labels:
            labels["method"] = self._method(request)
        return super().label_metric(metric, request, response, **labels)
