"""Contract tests every service must pass, written once.

A project's ``tests/test_service_basics.py`` runs them with::

    from service_kit.contract_tests import *  # noqa: F401,F403

and provides the fixtures they use: ``api_client`` (a DRF ``APIClient``, usually from its
conftest) and ``json_endpoint``, a ``JsonEndpoint`` for one of its own endpoints that parses a
JSON body (with a client that gets past its authentication and permissions, so the body is
really parsed).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest

__all__ = [
    "JsonEndpoint",
    "test_healthz_answers_while_the_process_runs",
    "test_a_wrong_method_on_healthz_is_a_json_405",
    "test_readyz_checks_the_database",
    "test_request_id_is_returned_and_kept_when_sane",
    "test_djangos_own_log_line_of_an_error_answer_carries_the_request_id",
    "test_jwks_publishes_public_keys_only",
    "test_unknown_url_is_a_json_404",
    "test_with_debug_a_browser_still_gets_djangos_page_of_url_patterns",
    "test_schema_and_offline_docs_are_served",
    "test_json_nested_too_deeply_is_a_400_not_a_500",
    "test_a_body_sent_to_a_path_without_its_final_slash_is_a_json_404",
    "test_the_admin_and_the_browsable_api_name_the_service",
]


@dataclass(frozen=True)
class JsonEndpoint:
    client: Any  # an APIClient allowed to post there
    path: str
    method: str = "post"


def assert_error_shape(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) >= {"detail", "code"} and isinstance(body["detail"], str), body
    assert body["code"] == code, body


def test_healthz_answers_while_the_process_runs(api_client):
    response = api_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_a_wrong_method_on_healthz_is_a_json_405(api_client):
    response = api_client.post("/healthz")
    assert_error_shape(response, 405, "method_not_allowed")
    assert "GET" in response["Allow"]


@pytest.mark.django_db
def test_readyz_checks_the_database(api_client):
    response = api_client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["database"] == "ok"


def test_request_id_is_returned_and_kept_when_sane(api_client):
    response = api_client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"
    made = api_client.get("/healthz", HTTP_X_REQUEST_ID="bad id\n")
    assert made["X-Request-ID"] != "bad id\n" and len(made["X-Request-ID"]) == 32


def test_djangos_own_log_line_of_an_error_answer_carries_the_request_id(api_client, caplog):
    # Django logs "Method Not Allowed: /healthz" after the middleware has returned.
    from service_kit.middleware import RequestIDLogFilter

    caplog.handler.addFilter(RequestIDLogFilter())
    with caplog.at_level("WARNING", logger="django.request"):
        api_client.post("/healthz", HTTP_X_REQUEST_ID="rid-of-a-refusal")
    records = [record for record in caplog.records if record.name == "django.request"]
    assert records and all(record.request_id == "rid-of-a-refusal" for record in records)


def test_jwks_publishes_public_keys_only(api_client):
    keys = api_client.get("/.well-known/jwks.json").json()["keys"]
    assert keys and all(set(k) == {"kty", "crv", "x", "kid", "alg", "use"} for k in keys)
    assert all(k["kty"] == "OKP" and k["crv"] == "Ed25519" for k in keys)


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
def test_unknown_url_is_a_json_404(api_client, settings, debug):
    settings.DEBUG = debug  # on: the `make up` default
    response = api_client.get("/no/such/page", HTTP_ACCEPT="application/json")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}
    assert api_client.get("/no/such/page").json()["code"] == "not_found"  # no Accept (curl: */*)


def test_with_debug_a_browser_still_gets_djangos_page_of_url_patterns(api_client, settings):
    settings.DEBUG = True
    response = api_client.get("/no/such/page", HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


def test_schema_and_offline_docs_are_served(api_client):
    assert api_client.get("/api/schema/").status_code == 200
    docs = api_client.get("/api/docs/")
    assert docs.status_code == 200
    page = docs.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert any("swagger-ui-bundle.js" in asset for asset in assets)
    # Served by this service itself: no asset from another host, so it works offline.
    assert assets and all(asset.startswith("/static/") for asset in assets), assets


@pytest.mark.django_db
def test_json_nested_too_deeply_is_a_400_not_a_500(json_endpoint):
    # Deeper than Python's recursion limit: the parser must refuse it, not crash.
    send = getattr(json_endpoint.client, json_endpoint.method)
    response = send(json_endpoint.path, data="[" * 100_000, content_type="application/json")
    assert_error_shape(response, 400, "parse_error")


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
def test_a_body_sent_to_a_path_without_its_final_slash_is_a_json_404(json_endpoint, settings, debug):
    # Django would redirect it (and the client drop the body) or, with DEBUG, raise: a 500.
    settings.DEBUG = debug
    path = json_endpoint.path.rstrip("/")
    send = getattr(json_endpoint.client, json_endpoint.method)
    response = send(path, data="{}", content_type="application/json")
    assert_error_shape(response, 404, "not_found")
    assert response.json()["detail"] == f"Not found. This path ends with a slash: {path}/"


def test_the_admin_and_the_browsable_api_name_the_service(api_client, db):
    from django.contrib.auth import get_user_model
    from ms_token.settings import ms_token_settings

    title = f"{ms_token_settings.SERVICE_NAME.capitalize()} service"  # "Product service"
    login = api_client.get("/admin/login/").content.decode()
    assert f"<title>Log in | {title} admin</title>" in login and f"{title} administration</a>" in login
    assert "Django administration" not in login and "Django site admin" not in login

    staff = get_user_model().objects.create_superuser("branding-admin", "b@example.com", "pw-for-tests-only")
    api_client.force_login(staff)
    index = api_client.get("/admin/").content.decode()
    assert f"<h1>{title}</h1>" in index and "Site administration" not in index

    api_client.logout()
    root = api_client.get("/api/", HTTP_ACCEPT="text/html").content.decode()
    assert f"<title>{title}</title>" in root and f"<h1>{title}</h1>" in root
    assert re.search(rf'class="navbar-brand"[^>]*>\s*{title}\s*</a>', root), root
    assert "Api Root" not in root and "Django REST framework" not in root.split("</title>")[0]
