"""Traces across the shop: a W3C ``traceparent`` received is continued, and passed on with every
call to a peer (ms_token injects the current context into each); spans are exported as the
standard ``OTEL_*`` variables say.

- ``OTEL_TRACES_EXPORTER`` unset or ``none`` (the shop's default; OpenTelemetry's own is
  ``otlp``): no SDK, no span. ``TraceContextMiddleware`` still makes a received trace context
  the request's, so log lines carry its trace id and calls to peers pass it on unchanged. The
  Django instrumentation is not installed then: with nothing to record it would still cost more
  than a small request's own work (docs/decisions.md).
- ``otlp`` (OTLP over HTTP/protobuf to ``OTEL_EXPORTER_OTLP_ENDPOINT``, default
  ``http://localhost:4318``), ``console``, or any exporter installed under OpenTelemetry's entry
  points, comma-separated: the SDK (resource from ``OTEL_SERVICE_NAME``, default the service's
  name, and ``OTEL_RESOURCE_ATTRIBUTES``; sampler from ``OTEL_TRACES_SAMPLER``; batching from
  ``OTEL_BSP_*``) with OpenTelemetry's Django and requests instrumentations: a server span per
  request, a client span per call to a peer, and ms_token's verification and replay-claim spans.

No span holds a token: headers are recorded only when ``OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_*``
ask for them, and the credential headers (``SENSITIVE_HEADERS``) are then always redacted.
"""
from __future__ import annotations

import logging
import os
from importlib.metadata import entry_points
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from opentelemetry import context, propagate, trace

logger = logging.getLogger(__name__)

# Never recorded as they are: X-MS-TOKEN, user tokens, transaction tokens, session cookies.
SENSITIVE_HEADERS = ("x-ms-token", "authorization", "txn-token", "cookie", "set-cookie")
SANITIZE_VARIABLE = "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SANITIZE_FIELDS"
# Probes and scrapes are no requests worth a trace.
DEFAULT_EXCLUDED_URLS = "/healthz$,/readyz$,/metrics$"
OTLP_PROTOCOLS = {"http/protobuf": "otlp_proto_http", "grpc": "otlp_proto_grpc"}


def exporter_names() -> list[str]:
    """The span exporters ``OTEL_TRACES_EXPORTER`` names, as entry point names; empty for none.
    ``otlp`` takes its protocol from ``OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL``, default
    ``http/protobuf`` (OpenTelemetry's specified default; the shop installs that exporter)."""
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    names = [name.strip() for name in os.environ.get("OTEL_TRACES_EXPORTER", "none").split(",") if name.strip()]
    found = []
    for name in names:
        if name == "none":
            continue
        if name == "otlp":
            protocol = (os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
                        or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL") or "http/protobuf").strip()
            if protocol not in OTLP_PROTOCOLS:
                raise ImproperlyConfigured(f"OTEL_EXPORTER_OTLP_PROTOCOL: {protocol!r} is not one of {sorted(OTLP_PROTOCOLS)}")
            name = OTLP_PROTOCOLS[protocol]
        found.append(name)
    return found


def _exporter(name: str) -> Any:
    try:
        (point,) = entry_points(group="opentelemetry_traces_exporter", name=name)
    except ValueError:
        raise ImproperlyConfigured(
            f"OTEL_TRACES_EXPORTER: no span exporter {name!r} is installed "
            "(the shop installs otlp over http/protobuf and console)"
        ) from None
    return point.load()()


def configure_tracing(service: str) -> None:
    """Install the SDK and the instrumentations when an exporter is configured (once per
    process: each gunicorn worker, after the fork, so the exporter's thread is its own)."""
    names = exporter_names()
    if not names or isinstance(trace.get_tracer_provider(), _sdk_provider_class()):
        return
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.requests import RequestsInstrumentor
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    redact_sensitive_headers()
    # Resource.create reads OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME; the service's own
    # name when neither names one.
    attributes = {} if os.environ.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: service}
    provider = TracerProvider(resource=Resource.create(attributes))
    for name in names:
        provider.add_span_processor(BatchSpanProcessor(_exporter(name)))
    trace.set_tracer_provider(provider)
    excluded = (os.environ.get("OTEL_PYTHON_DJANGO_EXCLUDED_URLS") or os.environ.get("OTEL_PYTHON_EXCLUDED_URLS")
                or DEFAULT_EXCLUDED_URLS)
    DjangoInstrumentor().instrument(excluded_urls=excluded)
    RequestsInstrumentor().instrument()
    logger.info("tracing: spans exported by %s", ", ".join(names))


def _sdk_provider_class() -> type:
    from opentelemetry.sdk.trace import TracerProvider

    return TracerProvider


def redact_sensitive_headers() -> None:
    """Add the credential headers to the instrumentations' list of headers whose captured value
    is replaced by ``[REDACTED]``, keeping whatever the operator listed."""
    given = [item.strip() for item in os.environ.get(SANITIZE_VARIABLE, "").split(",") if item.strip()]
    missing = [header for header in SENSITIVE_HEADERS if header not in {item.lower() for item in given}]
    os.environ[SANITIZE_VARIABLE] = ",".join([*given, *missing])


class TraceContextMiddleware:
    """Continue a received trace context when no instrumentation has (``OTEL_TRACES_EXPORTER``
    none): it becomes the request's, for log lines and for the calls to peers. Either way the
    request keeps its span context (``request.span_context``) for the lines Django logs after
    the middleware has returned."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = None
        current = trace.get_current_span().get_span_context()
        if not current.is_valid and "HTTP_TRACEPARENT" in request.META:
            token = context.attach(propagate.extract(request.headers))
            current = trace.get_current_span().get_span_context()
        request.span_context = current
        try:
            return self.get_response(request)
        finally:
            if token is not None:
                context.detach(token)


class TraceContextLogFilter(logging.Filter):
    """``trace_id`` and ``span_id`` (hex, or None) on every record, from the current span or, for
    a line Django logs after the middleware, the request's."""

    def filter(self, record: logging.LogRecord) -> bool:
        span_context = trace.get_current_span().get_span_context()
        if not span_context.is_valid:
            span_context = getattr(getattr(record, "request", None), "span_context", None) or span_context
        if span_context.is_valid:
            record.trace_id = format(span_context.trace_id, "032x")
            record.span_id = format(span_context.span_id, "016x")
        else:
            record.trace_id = record.span_id = None
        return True
