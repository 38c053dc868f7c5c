"""Spans through OpenTelemetry's API: the admission and the replay claim are spans of their own,
children of the request's; every call to a peer (ServiceClient, the JWKS fetch) carries the
current trace context; no token is ever an attribute. Without an SDK nothing is recorded."""
import re

import pytest
import responses
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from ms_token.client import ServiceClient
from ms_token.jwks import RemoteKeySet
from ms_token.keys import load_key_ring
from ms_token.sources import SelfSignedTokenSource

from .conftest import assert_refused, configure, free_port

pytestmark = pytest.mark.django_db

JWS = re.compile(r"[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{20,}")
_exporter = InMemorySpanExporter()


@pytest.fixture
def spans():
    """The SDK installed once for the rest of this process (OpenTelemetry allows one global
    provider), its finished spans kept in memory; emptied for each test."""
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(_exporter))
        trace.set_tracer_provider(provider)
    _exporter.clear()
    yield _exporter
    _exporter.clear()


def attribute_values(finished):
    for span in finished:
        yield from (str(value) for value in span.attributes.values())
        for event in span.events:
            yield from (str(value) for value in event.attributes.values())


def test_the_admission_and_the_claim_are_spans_under_the_request(call, make_token, spans):
    tracer = trace.get_tracer("test")
    token = make_token()
    with tracer.start_as_current_span("request") as request_span:
        assert call(token).status_code == 200
        assert_refused(call(token), "token_replayed")
    finished = {span.name: span for span in spans.get_finished_spans()}
    names = [span.name for span in spans.get_finished_spans()]
    assert names.count("ms_token verify") == 2 and names.count("ms_token replay claim") == 2
    verify_spans = [s for s in spans.get_finished_spans() if s.name == "ms_token verify"]
    claim_spans = [s for s in spans.get_finished_spans() if s.name == "ms_token replay claim"]
    trace_id = request_span.get_span_context().trace_id
    assert all(s.context.trace_id == trace_id for s in verify_spans + claim_spans)
    assert all(s.parent.span_id == request_span.get_span_context().span_id for s in verify_spans)
    assert [s.parent.span_id for s in claim_spans] == [s.context.span_id for s in verify_spans]
    assert [dict(s.attributes) for s in verify_spans] == [
        {"ms_token.outcome": "accepted", "ms_token.code": "-", "ms_token.caller": "billing"},
        {"ms_token.outcome": "refused", "ms_token.code": "token_replayed", "ms_token.caller": "billing"},
    ]
    assert [s.attributes["ms_token.replay_outcome"] for s in claim_spans] == ["claimed", "replayed"]
    assert finished["ms_token replay claim"].attributes["ms_token.replay_store"] == "database"
    assert token not in set(attribute_values(spans.get_finished_spans()))


def test_an_unavailable_replay_store_marks_the_spans_as_errors(call, make_token, settings, spans):
    configure(settings, REPLAY_CACHE=f"redis://127.0.0.1:{free_port()}/0")
    assert call(make_token()).status_code == 503
    by_name = {span.name: span for span in spans.get_finished_spans()}
    assert by_name["ms_token verify"].status.status_code == trace.StatusCode.ERROR
    assert by_name["ms_token replay claim"].status.status_code == trace.StatusCode.ERROR
    assert by_name["ms_token replay claim"].attributes["ms_token.replay_outcome"] == "unavailable"


def test_no_attribute_or_event_of_any_span_holds_a_token(call, make_token, spans):
    for token in (make_token(), make_token(iss="mallory"), make_token(aud="user"), "x.y.z" * 10):
        call(token)
    values = list(attribute_values(spans.get_finished_spans()))
    assert values and not [value for value in values if JWS.search(value)]


def test_a_service_call_carries_the_current_trace_context(peer, billing_key, spans):
    server = peer([(200, {"ok": True})])
    client = ServiceClient("product", token_source=SelfSignedTokenSource(issuer="billing", key=billing_key),
                           base_url=server.url)
    with trace.get_tracer("test").start_as_current_span("serving") as span:
        client.get("/api/products/", scope="products:read")
    context = span.get_span_context()
    version, trace_id, parent_id, flags = server.received[0]["headers"]["traceparent"].split("-")
    assert (trace_id, parent_id) == (f"{context.trace_id:032x}", f"{context.span_id:016x}")
    assert int(flags, 16) & 1  # sampled


def test_the_jwks_fetch_carries_the_current_trace_context(spans):
    url = "http://billing.test/.well-known/jwks.json"
    with responses.RequestsMock() as mocked, trace.get_tracer("test").start_as_current_span("serving") as span:
        mocked.get(url, json=load_key_ring("billing").jwks())
        RemoteKeySet(url)._fetch()
        sent = mocked.calls[0].request.headers["traceparent"]
    assert sent.split("-")[1] == f"{span.get_span_context().trace_id:032x}"


def test_without_a_trace_nothing_is_sent(peer, billing_key):
    server = peer([(200, {"ok": True})])
    client = ServiceClient("product", token_source=SelfSignedTokenSource(issuer="billing", key=billing_key),
                           base_url=server.url)
    client.get("/api/products/", scope="products:read")
    assert "traceparent" not in {name.lower() for name in server.received[0]["headers"]}


def test_with_no_trace_context_inject_is_not_even_called(monkeypatch):
    # No SDK's span, no trace continued from the caller: nothing for inject to write, and it
    # would cost time on every call to a peer.
    from opentelemetry import context
    from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, set_span_in_context

    from ms_token.transport import peer_headers

    injected = []
    monkeypatch.setattr("ms_token.transport.propagate.inject", lambda carrier: injected.append(carrier))
    assert peer_headers()["Accept"] == "application/json"
    assert injected == []
    # A trace continued without an SDK (a received traceparent, as service_kit's middleware
    # does) is passed on: there is something to inject.
    continued = SpanContext(trace_id=1, span_id=2, is_remote=True, trace_flags=TraceFlags(1))
    token = context.attach(set_span_in_context(NonRecordingSpan(continued)))
    try:
        peer_headers()
    finally:
        context.detach(token)
    assert len(injected) == 1
