"""LOG_FORMAT=json lines, the trace context a request continues (with no exporter configured), the
span exporters the OTEL_* variables name, and gunicorn's multiprocess directory."""
import io
import json
import logging
import logging.config
import secrets

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from service_kit.conf import common_settings
from service_kit.logs import JSONFormatter

pytestmark = pytest.mark.django_db

TRACE_ID = secrets.token_hex(16)
PARENT_ID = secrets.token_hex(8)


@pytest.fixture
def json_lines(monkeypatch, tmp_path):
    """The service's own LOGGING with LOG_FORMAT=json, its console writing to a buffer; the
    lines written so far, parsed. The test settings' logging is restored afterwards."""
    from django.conf import settings

    monkeypatch.setenv("LOG_FORMAT", "json")
    config = common_settings(service="product", base_dir=tmp_path / "product")["LOGGING"]
    stream = io.StringIO()
    config["handlers"]["console"]["stream"] = stream
    logging.config.dictConfig(config)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logging.config.dictConfig(settings.LOGGING)


def test_a_line_is_one_json_object_with_the_contract_fields(json_lines):
    logging.getLogger("shop.test").warning("hello %s", "world", extra={"status_code": 418})
    (line,) = json_lines()
    assert line["level"] == "WARNING" and line["logger"] == "shop.test" and line["message"] == "hello world"
    assert line["time"].endswith("+00:00") and "T" in line["time"]
    assert line["request_id"] is None and line["trace_id"] is None and line["span_id"] is None
    assert line["status_code"] == 418 and isinstance(line["pid"], int)


def test_the_verification_line_has_its_fields_as_keys(json_lines):
    fields = {"issuer": "billing", "jti": "abc", "outcome": "accepted", "code": "-", "caller": "billing"}
    logging.getLogger("ms_token").info("ms_token verification ...", extra={"ms_token": fields})
    (line,) = json_lines()
    assert {key: line[key] for key in fields} == fields
    assert "ms_token" not in line


def test_an_exception_stays_on_its_line(json_lines):
    try:
        raise ValueError("broken\nacross lines")
    except ValueError:
        logging.getLogger("shop.test").exception("it failed")
    (line,) = json_lines()
    assert "ValueError: broken" in line["exc_info"]


def test_a_request_continues_the_trace_it_was_sent(json_lines):
    response = Client().get("/api/schema/", HTTP_X_MS_TOKEN="garbage", HTTP_X_REQUEST_ID="rid-json-1",
                            HTTP_TRACEPARENT=f"00-{TRACE_ID}-{PARENT_ID}-01")
    assert response.status_code == 401
    lines = [line for line in json_lines() if line["request_id"] == "rid-json-1"]
    assert {line["logger"] for line in lines} >= {"ms_token", "django.request"}
    # The verification line (in the request) and Django's 401 line (after the middleware).
    assert {(line["trace_id"], line["span_id"]) for line in lines} == {(TRACE_ID, PARENT_ID)}
    verification = next(line for line in lines if line["logger"] == "ms_token")
    assert verification["outcome"] == "refused" and verification["code"] == "token_invalid"
    assert "garbage" not in json.dumps(lines)


def test_a_request_without_a_trace_has_none(json_lines):
    Client().get("/api/schema/", HTTP_X_MS_TOKEN="garbage", HTTP_X_REQUEST_ID="rid-json-2")
    lines = [line for line in json_lines() if line["request_id"] == "rid-json-2"]
    assert lines and all(line["trace_id"] is None for line in lines)


def test_a_malformed_traceparent_is_ignored(json_lines):
    Client().get("/api/schema/", HTTP_X_MS_TOKEN="garbage", HTTP_X_REQUEST_ID="rid-json-3",
                 HTTP_TRACEPARENT="00-zzzz-not-a-trace")
    lines = [line for line in json_lines() if line["request_id"] == "rid-json-3"]
    assert lines and all(line["trace_id"] is None for line in lines)


def test_plain_stays_the_default_and_anything_else_is_refused(monkeypatch, tmp_path):
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    logging_config = common_settings(service="product", base_dir=tmp_path / "p")["LOGGING"]
    assert logging_config["handlers"]["console"]["formatter"] == "plain"
    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(ImproperlyConfigured, match="LOG_FORMAT"):
        common_settings(service="product", base_dir=tmp_path / "p")


def test_the_formatter_never_writes_a_request_object():
    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "Unauthorized: %s", ("/x",), None)
    record.request = object()
    line = json.loads(JSONFormatter().format(record))
    assert "request" not in line and line["message"] == "Unauthorized: /x"


# -- span exporters ------------------------------------------------------------------------------

@pytest.mark.parametrize("variables, expected", [
    ({}, []),
    ({"OTEL_TRACES_EXPORTER": "none"}, []),
    ({"OTEL_TRACES_EXPORTER": "otlp"}, ["otlp_proto_http"]),
    ({"OTEL_TRACES_EXPORTER": "otlp,console"}, ["otlp_proto_http", "console"]),
    ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, ["otlp_proto_grpc"]),
    ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}, []),
])
def test_the_exporters_are_the_ones_the_variables_name(monkeypatch, variables, expected):
    from service_kit.tracing import exporter_names

    for name in ("OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
                 "OTEL_SDK_DISABLED"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert exporter_names() == expected


def test_an_exporter_that_is_not_installed_is_a_clear_error():
    from service_kit.tracing import _exporter

    with pytest.raises(ImproperlyConfigured, match="otlp_proto_grpc"):
        _exporter("otlp_proto_grpc")


def test_the_credential_headers_are_always_redacted(monkeypatch):
    from service_kit.tracing import SANITIZE_VARIABLE, redact_sensitive_headers

    monkeypatch.setenv(SANITIZE_VARIABLE, "x-api-key, Authorization")
    redact_sensitive_headers()
    listed = [item.strip().lower() for item in __import__("os").environ[SANITIZE_VARIABLE].split(",")]
    assert listed.count("authorization") == 1
    assert {"x-api-key", "x-ms-token", "txn-token", "cookie", "set-cookie"} <= set(listed)


def test_no_exporter_means_no_sdk_in_the_process():
    from opentelemetry import trace

    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


# -- gunicorn's multiprocess directory ------------------------------------------------------------

def test_the_directory_is_made_or_emptied(monkeypatch, tmp_path):
    from service_kit.gunicorn_conf import MULTIPROCESS_DIR, prepare_multiprocess_directory

    monkeypatch.delenv(MULTIPROCESS_DIR, raising=False)
    made = prepare_multiprocess_directory()
    assert made.is_dir() and __import__("os").environ[MULTIPROCESS_DIR] == str(made)
    made.rmdir()
    given = tmp_path / "given"
    given.mkdir()
    (given / "counter_123.db").write_bytes(b"stale")
    (given / "keep.txt").write_text("not ours")
    monkeypatch.setenv(MULTIPROCESS_DIR, str(given))
    assert prepare_multiprocess_directory() is None
    assert sorted(p.name for p in given.iterdir()) == ["keep.txt"]
