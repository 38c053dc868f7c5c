"""An OTLP trace receiver on 127.0.0.1 (OTLP over HTTP, protobuf: what the services export with
``OTEL_TRACES_EXPORTER=otlp``): the system tests read the spans it collects, the bench only
counts them. Point a service at it with ``receiver.env``."""
from __future__ import annotations

import gzip
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TRACES_PATH = "/v1/traces"


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    name: str
    kind: int
    trace_id: str  # 32 hex digits
    span_id: str  # 16 hex digits
    parent_id: str  # "" for a root span
    attributes: dict = field(hash=False)
    event_attributes: list = field(hash=False)  # one dict per event


def _value(any_value):
    which = any_value.WhichOneof("value")
    if which == "array_value":
        return [_value(item) for item in any_value.array_value.values]
    if which == "kvlist_value":
        return {item.key: _value(item.value) for item in any_value.kvlist_value.values}
    return getattr(any_value, which) if which else None


def _attributes(key_values) -> dict:
    return {item.key: _value(item.value) for item in key_values}


def decode(body: bytes) -> list[ReceivedSpan]:
    """The spans of one ExportTraceServiceRequest."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    spans = []
    for resource_spans in request.resource_spans:
        service = str(_attributes(resource_spans.resource.attributes).get("service.name", ""))
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(ReceivedSpan(
                    service=service, name=span.name, kind=span.kind, trace_id=span.trace_id.hex(),
                    span_id=span.span_id.hex(), parent_id=span.parent_span_id.hex(),
                    attributes=_attributes(span.attributes),
                    event_attributes=[_attributes(event.attributes) for event in span.events],
                ))
    return spans


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        receiver: OTLPReceiver = self.server.receiver  # type: ignore[attr-defined]
        status = 200 if self.path == TRACES_PATH else 404
        if status == 200:
            receiver.received(body)
        self.send_response(status)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class OTLPReceiver:
    """``with OTLPReceiver() as receiver: ...``: ``receiver.spans``, ``receiver.count`` (with
    ``keep=False`` the spans are counted only)."""

    def __init__(self, *, keep: bool = True) -> None:
        self.keep = keep
        self.spans: list[ReceivedSpan] = []
        self.count = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.receiver = self  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def env(self) -> dict[str, str]:
        """What a service needs to export its spans here, promptly."""
        return {
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_EXPORTER_OTLP_ENDPOINT": self.url,
            "OTEL_BSP_SCHEDULE_DELAY": "200",  # ms between batches (default 5 s)
        }

    def received(self, body: bytes) -> None:
        spans = decode(body)
        with self._lock:
            self.count += len(spans)
            if self.keep:
                self.spans.extend(spans)

    def wait_for(self, predicate, *, timeout: float = 20.0):
        """Poll until ``predicate(spans)`` is truthy (exports arrive in batches): its value."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                value = predicate(list(self.spans))
            if value or time.monotonic() > deadline:
                return value
            time.sleep(0.1)

    def start(self) -> "OTLPReceiver":
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "OTLPReceiver":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
