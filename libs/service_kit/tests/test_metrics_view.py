"""GET /metrics: Prometheus's text format to the networks METRICS_ALLOWED_CIDRS names (loopback by
default), a JSON 403 to anyone else; the request metrics by view, with bounded labels."""
import ipaddress

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.django_db


def networks(*cidrs):
    return [ipaddress.ip_network(cidr) for cidr in cidrs]


def scrape(client=None, **meta):
    return (client or Client()).get("/metrics", **meta)


def families(response) -> dict:
    return {family.name: family for family in text_string_to_metric_families(response.content.decode())}


@pytest.mark.parametrize("address", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
def test_loopback_clients_get_the_metrics_by_default(address):
    response = scrape(REMOTE_ADDR=address)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.parametrize("address", ["192.0.2.7", "10.1.2.3", "::ffff:192.0.2.7", "2001:db8::1", "", "garbage"])
def test_other_clients_get_a_json_403(address):
    response = scrape(REMOTE_ADDR=address)
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert b"django_http" not in response.content


def test_the_allowed_networks_are_the_settings_ones(settings):
    settings.METRICS_ALLOWED_NETWORKS = networks("10.0.0.0/8")
    assert scrape(REMOTE_ADDR="10.20.30.40").status_code == 200
    assert scrape(REMOTE_ADDR="127.0.0.1").status_code == 403  # the variable replaces loopback


def test_a_forwarded_address_never_counts_even_behind_trusted_proxies(settings):
    forged = {"REMOTE_ADDR": "192.0.2.7", "HTTP_X_FORWARDED_FOR": "127.0.0.1"}
    assert scrape(**forged).status_code == 403
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    from rest_framework.settings import api_settings

    api_settings.reload()
    try:
        # Trusted for throttling, the header still opens nothing here: any pod could send it.
        assert scrape(**forged).status_code == 403
        assert scrape(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.7").status_code == 200
    finally:
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 0}
        api_settings.reload()


def test_only_get_and_head():
    assert Client().post("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 405


@pytest.mark.parametrize("value, expected", [
    (None, networks("127.0.0.0/8", "::1/128")),
    ("10.0.0.0/8, 192.0.2.7", networks("10.0.0.0/8", "192.0.2.7/32")),
    ("", []),
])
def test_the_variable_is_read_at_startup(monkeypatch, tmp_path, value, expected):
    from service_kit.conf import common_settings

    if value is None:
        monkeypatch.delenv("METRICS_ALLOWED_CIDRS", raising=False)
    else:
        monkeypatch.setenv("METRICS_ALLOWED_CIDRS", value)
    assert common_settings(service="product", base_dir=tmp_path / "p")["METRICS_ALLOWED_NETWORKS"] == expected


def test_a_bad_network_stops_the_service_at_startup(monkeypatch, tmp_path):
    from service_kit.conf import common_settings

    monkeypatch.setenv("METRICS_ALLOWED_CIDRS", "10.0.0.0/8,not-a-network")
    with pytest.raises(ImproperlyConfigured, match="METRICS_ALLOWED_CIDRS"):
        common_settings(service="product", base_dir=tmp_path / "p")


def test_requests_are_counted_by_view_and_method():
    client = Client()
    before = families(scrape(client)).get("django_http_requests_latency_seconds_by_view_method")
    count_before = sum(s.value for s in before.samples if s.name.endswith("_count") and s.labels["view"] == "healthz") if before else 0
    for _ in range(3):
        client.get("/healthz")
    after = families(scrape(client))["django_http_requests_latency_seconds_by_view_method"]
    count = sum(s.value for s in after.samples if s.name.endswith("_count") and s.labels == {"view": "healthz", "method": "GET"})
    assert count - count_before == 3


def test_a_made_up_method_adds_no_series_of_its_own():
    client = Client()
    for method in ("FROBNICATE", "XYZZY"):
        client.generic(method, "/healthz")
    text = scrape(client).content.decode()
    assert "FROBNICATE" not in text and "XYZZY" not in text
    assert 'method="<invalid method>"' in text


def test_ms_token_metrics_are_recorded_in_the_shop(settings):
    from ms_token.contrib.prometheus import PrometheusMetrics
    from ms_token.settings import ms_token_settings

    assert isinstance(ms_token_settings.METRICS, PrometheusMetrics)
    assert Client().get("/api/schema/", HTTP_X_MS_TOKEN="garbage").status_code == 401
    assert 'ms_token_verifications_total{caller="unknown",code="token_invalid",outcome="refused"}' in scrape().content.decode()
