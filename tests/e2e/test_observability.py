"""What an operator sees of the running shop (gunicorn, 2 workers per service), from outside:

- ``GET /metrics`` counts every X-MS-TOKEN decision exactly, summed over the workers (accepted,
  replayed, invalid, untrusted, and unavailable on a replica whose replay store is down), and the
  calls each service makes; a client outside ``METRICS_ALLOWED_CIDRS`` gets a JSON 403;
- one trace, continuing the trace id the client sent, across billing -> product (a bill) and
  billing -> user (its delivery), exported over OTLP to a receiver on loopback; with no exporter
  configured the trace id is still continued and passed on (seen in the JSON logs);
- ``LOG_FORMAT=json`` lines of every service carry that trace id;
- no token in any span or log line, with every request header recorded;
- every metric the sample Grafana dashboard (docs/grafana-dashboard.json) and the README's alert
  rules query exists.
"""
from __future__ import annotations

import json
import re
import secrets
import threading
from pathlib import Path

import pytest
import requests

from conftest import running_shop
from helpers import create_product, register, staff_of, wait_until
from shopdev.metrics import fetch_metrics, parse, scrape, value
from shopdev.otlp import OTLPReceiver
from shopdev.processes import free_port
from shopdev.shop import library_mint
from tokens import library_token

REPO = Path(__file__).resolve().parents[2]
DASHBOARD = REPO / "docs" / "grafana-dashboard.json"
PRODUCTS = "/api/products/"
# A JWS compact token (X-MS-TOKEN, a user's access token, a transaction token): JSON header and
# payload, so both segments start with the base64url of '{"'.
JWS = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{40,}")
SERVER, CLIENT = 2, 3  # OTLP span kinds


@pytest.fixture(scope="module")
def receiver():
    with OTLPReceiver() as running:
        yield running


@pytest.fixture(scope="module")
def observed_shop(tmp_path_factory, receiver):
    env = {
        **receiver.env,
        "LOG_FORMAT": "json",
        # Every header recorded in the spans: the credentials must still never be.
        "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST": ".*",
        "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_RESPONSE": ".*",
        "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_CLIENT_REQUEST": ".*",
        "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_CLIENT_RESPONSE": ".*",
        # 127.0.0.1 only, so that a client on 127.0.0.2 is outside.
        "METRICS_ALLOWED_CIDRS": "127.0.0.1/32,::1/128",
    }
    yield from running_shop(tmp_path_factory, kind="e2e_obs", env=env)


def traceparent(trace_id: str, parent_id: str | None = None) -> str:
    return f"00-{trace_id}-{parent_id or secrets.token_hex(8)}-01"


def json_lines(process) -> list[dict]:
    return [line for line in process.log_lines() if isinstance(line, dict)]


class Delta:
    """The change of a service's metrics since this was made; every check a fresh scrape."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.before = scrape(url)

    def __call__(self, name: str, **labels: str) -> float:
        return value(scrape(self.url), name, **labels) - value(self.before, name, **labels)

    def changed(self, name: str) -> dict:
        now = scrape(self.url)
        return {dict(key[1]).__repr__(): now[key] - self.before.get(key, 0.0)
                for key in now if key[0] == name and now[key] != self.before.get(key, 0.0)}


def get_products(url: str, token: str, request_id: str) -> requests.Response:
    """One request on a connection of its own (``requests.get`` keeps none), so that any worker
    may take it."""
    return requests.get(url + PRODUCTS, headers={"X-MS-TOKEN": token, "X-Request-ID": request_id}, timeout=20)


# -- metrics ------------------------------------------------------------------------------------

def test_verifications_are_counted_exactly_summed_over_the_workers(observed_shop):
    shop, product = observed_shop, observed_shop.services["product"]
    delta = Delta(product.url)
    run = secrets.token_hex(4)
    accepted_tokens: list[str] = []

    def accept(index: int) -> None:
        token = library_token(shop, method="GET", path=PRODUCTS)
        assert get_products(product.url, token, f"count-{run}-{index}").status_code == 200
        accepted_tokens.append(token)

    def workers_that_accepted() -> set[int]:
        return {line["pid"] for line in json_lines(product)
                if str(line.get("request_id", "")).startswith(f"count-{run}-") and line.get("outcome") == "accepted"}

    # Batches of concurrent requests until both workers have accepted some (bounded).
    while len(workers_that_accepted()) < 2:
        assert len(accepted_tokens) < 200, "one worker took every request"
        batch = [threading.Thread(target=accept, args=(len(accepted_tokens) + i,)) for i in range(8)]
        for thread in batch:
            thread.start()
        for thread in batch:
            thread.join()
    sent = len(accepted_tokens)
    assert get_products(product.url, accepted_tokens[0], f"count-{run}-replay").json()["code"] == "token_replayed"
    for index in range(3):
        assert get_products(product.url, "not.a.token", f"count-{run}-bad-{index}").json()["code"] == "token_invalid"
    for index in range(2):
        # A well-formed token naming an issuer product does not trust: it is refused before any
        # key is looked up, so billing's key signs it.
        untrusted = library_mint("product", "products:read", "GET", PRODUCTS, issuer="mallory",
                                 key=shop.signing_key("billing"))
        assert get_products(product.url, untrusted, f"count-{run}-untrusted-{index}").json()["code"] == "untrusted_issuer"

    for _ in range(4):  # every scrape, whichever worker answers it, sees every worker's counts
        assert delta("ms_token_verifications_total", outcome="accepted", code="-", caller="billing") == sent
        assert delta("ms_token_verifications_total", outcome="refused", code="token_replayed", caller="billing") == 1
        assert delta("ms_token_verifications_total", outcome="refused", code="token_invalid", caller="unknown") == 3
        assert delta("ms_token_verifications_total", outcome="refused", code="untrusted_issuer", caller="unknown") == 2
    assert len(delta.changed("ms_token_verifications_total")) == 4
    assert delta("ms_token_verification_duration_seconds_count", outcome="accepted") == sent
    assert delta("ms_token_verification_duration_seconds_count", outcome="refused") == 6
    assert delta("ms_token_replay_claim_duration_seconds_count", store="database", outcome="claimed") == sent
    assert delta("ms_token_replay_claim_duration_seconds_count", store="database", outcome="replayed") == 1
    assert delta("django_http_responses_total_by_status_view_method_total",
                 status="200", view="product-list", method="GET") == sent


def test_a_replay_store_that_does_not_answer_is_counted_unavailable_and_so_is_the_call(observed_shop):
    shop = observed_shop
    product = shop.replica("product", env={"MS_REPLAY_CACHE": f"redis://127.0.0.1:{free_port()}/0"}, workers=2)
    billing = shop.replica("billing", env={"PRODUCT_SERVICE_URL": product.url})
    product_delta, billing_delta = Delta(product.url), Delta(billing.url)
    for index in range(4):
        answer = get_products(product.url, library_token(shop, method="GET", path=PRODUCTS), f"down-{index}")
        assert answer.status_code == 503
    account = register(shop)
    bill = requests.post(billing.url + "/api/bills/", json={"items": [{"product_id": 1, "quantity": 1}]},
                         headers={"Authorization": f"Bearer {account.access}"}, timeout=30)
    assert bill.status_code == 503, bill.text
    # billing's one call (GET, so tried three times: RETRIES=2) met three refusals to decide.
    assert product_delta("ms_token_verifications_total", outcome="unavailable", code="service_unavailable",
                         caller="billing") == 4 + 3
    assert product_delta("ms_token_replay_claim_duration_seconds_count", store="redis", outcome="unavailable") == 7
    assert billing_delta("service_calls_total", peer="product", outcome="server_error") == 1
    assert billing_delta("service_call_duration_seconds_count", peer="product", outcome="server_error") == 1


def test_metrics_are_refused_outside_the_allowed_networks(observed_shop):
    for process in observed_shop.services.values():
        status, body = fetch_metrics(process.url, source="127.0.0.2")
        assert status == 403, body[:200]
        assert json.loads(body)["code"] == "permission_denied"
        status, body = fetch_metrics(process.url, source="127.0.0.1")
        assert status == 200 and "django_http_requests" in body


# -- one trace ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def delivery_traced(observed_shop, receiver, staff_accounts):
    """A bill, then its delivery, each sent with the same client trace id (the client's own
    "checkout" operation): what the tests below look at."""
    shop = observed_shop
    staff = staff_of(shop, staff_accounts)
    product = create_product(shop, staff, price="12.50")
    account = register(shop)
    headers = {"Authorization": f"Bearer {account.access}"}
    assert requests.patch(shop.url("user") + "/api/users/me/", json={"shipping_address": "1 Trace Street"},
                          headers=headers, timeout=10).status_code == 200
    before = {service: scrape(shop.url(service)) for service in ("billing", "user")}
    trace_id = secrets.token_hex(16)
    client_spans = [secrets.token_hex(8), secrets.token_hex(8)]
    request_ids = [f"trace-bill-{trace_id[:8]}", f"trace-delivery-{trace_id[:8]}"]
    bill = requests.post(
        shop.url("billing") + "/api/bills/", json={"items": [{"product_id": product["id"], "quantity": 2}]},
        headers={**headers, "traceparent": traceparent(trace_id, client_spans[0]), "X-Request-ID": request_ids[0]},
        timeout=30,
    )
    assert bill.status_code == 201, bill.text
    delivery = requests.post(
        shop.url("billing") + f"/api/bills/{bill.json()['id']}/delivery/", json={},
        headers={**headers, "traceparent": traceparent(trace_id, client_spans[1]), "X-Request-ID": request_ids[1]},
        timeout=30,
    )
    assert delivery.status_code == 201, delivery.text
    assert delivery.json()["shipping_address"] == "1 Trace Street"

    def whole(spans):
        ours = [span for span in spans if span.trace_id == trace_id]
        served = {f"{span.service} {span.name}" for span in api_servers(ours)}
        return ours if served >= {"billing POST api/bills/", "billing POST api/bills/<id:pk>/delivery/",
                                  "product GET api/products/", "user GET api/internal/users/<id:user_id>/"} else None

    spans = receiver.wait_for(whole, timeout=30)
    assert spans, f"the trace did not arrive whole: {[(s.service, s.name) for s in receiver.spans if s.trace_id == trace_id]}"
    return {"trace_id": trace_id, "client_spans": client_spans, "request_ids": request_ids, "spans": spans,
            "access": account.access, "before": before}


def api_servers(spans):
    """The server spans of API requests (not of the JWKS fetches the services make meanwhile)."""
    return [span for span in spans if span.kind == SERVER and " api/" in span.name]


def test_one_trace_across_billing_product_and_user_continues_the_clients(delivery_traced):
    spans, trace_id = delivery_traced["spans"], delivery_traced["trace_id"]
    by_id = {span.span_id: span for span in spans}
    billing_servers = [s for s in api_servers(spans) if s.service == "billing"]
    assert sorted(s.parent_id for s in billing_servers) == sorted(delivery_traced["client_spans"])
    # Every request billing made of product and user (the user service may be asked more than
    # once for a delivery: a transaction token, then the address) is a child of its client span,
    # and its verification and replay claim are spans under it.
    for callee in ("product", "user"):
        servers = [s for s in api_servers(spans) if s.service == callee]
        assert servers, callee
        for server in servers:
            caller = by_id[server.parent_id]  # billing's client span of that very call
            assert caller.service == "billing" and caller.kind == CLIENT
            assert by_id[caller.parent_id].service == "billing"
            (verify,) = [s for s in spans if s.name == "ms_token verify" and s.parent_id == server.span_id]
            assert verify.attributes["ms_token.outcome"] == "accepted" and verify.attributes["ms_token.caller"] == "billing"
            (claim,) = [s for s in spans if s.name == "ms_token replay claim" and s.parent_id == verify.span_id]
            assert all(s.trace_id == trace_id for s in (server, caller, verify, claim))


def test_the_json_log_lines_of_every_service_carry_the_trace(observed_shop, delivery_traced):
    for process in observed_shop.services.values():  # gunicorn's own lines included
        lines = process.log_lines()
        assert lines and [line for line in lines if not isinstance(line, dict)] == [], process.service
    trace_id = delivery_traced["trace_id"]
    bill_rid, delivery_rid = delivery_traced["request_ids"]
    for service, request_id in (("billing", bill_rid), ("product", bill_rid), ("billing", delivery_rid),
                                ("user", delivery_rid)):
        lines = [line for line in observed_shop.log_lines(service)
                 if isinstance(line, dict) and line.get("request_id") == request_id]
        assert lines, (service, request_id)
        assert {line["trace_id"] for line in lines} == {trace_id}, (service, lines)
    (verification,) = [line for line in observed_shop.log_lines("product")
                       if isinstance(line, dict) and line.get("request_id") == bill_rid and line.get("outcome")]
    assert verification["caller"] == "billing" and verification["code"] == "-"
    verify_span = next(s for s in delivery_traced["spans"] if s.service == "product" and s.name == "ms_token verify")
    assert verification["span_id"] == verify_span.span_id  # logged inside the verification's span


def test_every_call_billing_made_is_counted(observed_shop, delivery_traced):
    before = delivery_traced["before"]
    billing, user = scrape(observed_shop.url("billing")), scrape(observed_shop.url("user"))

    def grew(samples, service, name, **labels):
        return value(samples, name, **labels) - value(before[service], name, **labels)

    # Only this module's tests call out of the main billing, one at a time.
    assert grew(billing, "billing", "service_calls_total", peer="product", outcome="ok") == 1
    calls_to_user = grew(billing, "billing", "service_calls_total", peer="user", outcome="ok")
    assert calls_to_user >= 1
    assert calls_to_user == grew(user, "user", "ms_token_verifications_total", outcome="accepted", code="-",
                                 caller="billing")
    assert grew(billing, "billing", "service_call_duration_seconds_count", peer="user", outcome="ok") == calls_to_user


def test_no_token_is_in_any_span_or_log_line(observed_shop, delivery_traced, receiver):
    values = []
    for span in receiver.spans:
        values += [json.dumps(v) for v in span.attributes.values()]
        values += [json.dumps(v) for event in span.event_attributes for v in event.values()]
    assert not [v for v in values if JWS.search(v) or delivery_traced["access"] in v]
    # The headers were recorded, and the credentials among them redacted.
    product_server = next(s for s in api_servers(delivery_traced["spans"]) if s.service == "product")
    assert product_server.attributes["http.request.header.x_ms_token"] == ["[REDACTED]"]
    assert "http.request.header.traceparent" in product_server.attributes
    billing_call = next(s for s in delivery_traced["spans"] if s.service == "billing" and s.kind == CLIENT
                        and s.attributes.get("http.request.header.x_ms_token"))
    assert billing_call.attributes["http.request.header.x_ms_token"] == ["[REDACTED]"]
    user_server = next(s for s in delivery_traced["spans"] if s.service == "user" and s.kind == SERVER
                       and "http.request.header.x_ms_token" in s.attributes)
    assert set(user_server.attributes["http.request.header.x_ms_token"]) == {"[REDACTED]"}
    billing_server = next(s for s in api_servers(delivery_traced["spans"]) if s.service == "billing")
    assert billing_server.attributes["http.request.header.authorization"] == ["[REDACTED]"]
    for process in [*observed_shop.services.values(), *observed_shop.extra]:
        text = process.log_path.read_text(errors="replace")
        assert not JWS.search(text), f"{process.service}: {JWS.search(text).group()[:40]}..."
        assert delivery_traced["access"] not in text


def test_without_an_exporter_the_trace_is_still_continued_and_passed_on(observed_shop):
    shop = observed_shop
    untraced = {"OTEL_TRACES_EXPORTER": "none"}
    product = shop.replica("product", env=untraced)
    billing = shop.replica("billing", env={**untraced, "PRODUCT_SERVICE_URL": product.url})
    account = register(shop)
    trace_id, parent_id, request_id = secrets.token_hex(16), secrets.token_hex(8), f"untraced-{secrets.token_hex(4)}"
    bill = requests.post(
        billing.url + "/api/bills/", json={"items": [{"product_id": 1, "quantity": 1}]},
        headers={"Authorization": f"Bearer {account.access}", "traceparent": traceparent(trace_id, parent_id),
                 "X-Request-ID": request_id},
        timeout=30,
    )
    assert bill.status_code in (201, 400), bill.text  # product 1 may be inactive; the call was made
    for process in (billing, product):
        lines = [line for line in json_lines(process) if line.get("request_id") == request_id]
        assert lines, process.service
        # No span is made without an SDK: the lines carry the client's own trace and span ids.
        assert {(line["trace_id"], line["span_id"]) for line in lines} == {(trace_id, parent_id)}, process.service
    assert any(line.get("outcome") == "accepted" for line in json_lines(product) if line.get("request_id") == request_id)


# -- the dashboard ------------------------------------------------------------------------------

PROMQL_METRIC = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?=[{\[])")


def dashboard_metrics() -> set[str]:
    document = json.loads(DASHBOARD.read_text())
    expressions = [target["expr"] for panel in document["panels"] for target in panel.get("targets", [])]
    assert expressions
    return {name for expr in expressions for name in PROMQL_METRIC.findall(expr)}


def alert_metrics() -> set[str]:
    """The metrics the alert rules of the README's "What to alert on" query."""
    section = (REPO / "README.md").read_text().split("### What to alert on", 1)[1]
    rules = section.split("```yaml", 1)[1].split("```", 1)[0]
    expressions = [line.split("#")[0] for line in rules.splitlines() if "alert:" not in line]
    return {name for line in expressions for name in PROMQL_METRIC.findall(line)}


def exposed_metrics(shop) -> set[str]:
    return {name for service in ("user", "product", "billing")
            for (name, _labels) in parse(fetch_metrics(shop.url(service))[1])}


def test_every_metric_the_dashboard_queries_exists(observed_shop, delivery_traced):
    # delivery_traced: a bill and a delivery made calls, verifications and JWKS fetches.
    wanted = dashboard_metrics()
    assert {"ms_token_verifications_total", "service_calls_total", "ms_token_jwks_fetches_total",
            "ms_token_replay_claim_duration_seconds_bucket", "django_http_requests_latency_seconds_by_view_method_bucket",
            } <= wanted
    assert wanted - exposed_metrics(observed_shop) == set()


def test_every_metric_the_alert_rules_query_exists(observed_shop, delivery_traced):
    wanted = alert_metrics()
    assert {"ms_token_verifications_total", "ms_token_replay_claim_duration_seconds_count",
            "ms_token_jwks_fetches_total", "service_calls_total"} <= wanted
    assert wanted - exposed_metrics(observed_shop) == set()
