"""Each running service against its own OpenAPI schema (schemathesis): no 5xx, every response
as documented. As an end user (Bearer) for all three, and as a calling service (X-MS-TOKEN,
minted anew for each request since a token is single-use and bound to its request) for product
and user.
"""
from __future__ import annotations

from urllib3.util import parse_url

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from tokens import library_token

if not hasattr(pytest.Item, "_nodeid"):
    # schemathesis 4.32's from_fixture() renames each test through ``Node._nodeid``, an attribute
    # pytest 9.2 no longer has (it keeps a structured ``_id``). Reading gives the real node id,
    # renaming is dropped: only the report's test names lose their "[GET /path]" suffix.
    pytest.Item._nodeid = property(lambda item: item.nodeid, lambda item, value: None)

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
# Bounded: a handful of examples per operation keeps the system suite to minutes.
BOUNDED = settings(
    max_examples=6, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck)
)


def _load(shop, service: str, *, coverage: bool = True):
    """The running service's schema. ``coverage=False`` skips schemathesis' coverage phase (every
    boundary value of every field): for a service caller the writes all end in 403 anyway."""
    schema = schemathesis.openapi.from_url(shop.url(service) + "/api/schema/", timeout=10)
    schema.config.phases.coverage.enabled = coverage
    return schema


@pytest.fixture(scope="session")
def user_api(shop):
    return _load(shop, "user")


@pytest.fixture(scope="session")
def product_api(shop):
    return _load(shop, "product")


@pytest.fixture(scope="session")
def user_api_for_services(shop):
    return _load(shop, "user", coverage=False)


@pytest.fixture(scope="session")
def product_api_for_services(shop):
    return _load(shop, "product", coverage=False)


@pytest.fixture(scope="session")
def billing_api(shop):
    return _load(shop, "billing")


@pytest.fixture(scope="module")
def end_user(shop):
    from helpers import register

    return register(shop)


user_schema = schemathesis.pytest.from_fixture("user_api")
product_schema = schemathesis.pytest.from_fixture("product_api")
user_schema_for_services = schemathesis.pytest.from_fixture("user_api_for_services")
product_schema_for_services = schemathesis.pytest.from_fixture("product_api_for_services")
billing_schema = schemathesis.pytest.from_fixture("billing_api")

_session = requests.Session()


def send(case, base_url: str, *, headers: dict[str, str] | None = None, service_token=None) -> None:
    """Send ``case``; with ``service_token(method, target, body)`` add an X-MS-TOKEN bound to
    exactly the bytes that go on the wire (the path, its query as urllib3 sends it, the body).
    Then run the checks."""
    kwargs = case.as_transport_kwargs(base_url=base_url, headers=headers)
    kwargs.pop("timeout", None)
    prepared = _session.prepare_request(requests.Request(**{k: v for k, v in kwargs.items() if k in _REQUEST_FIELDS}))
    if service_token is not None:
        # A service sends its X-MS-TOKEN alone: drop any Authorization the generator made up.
        prepared.headers.pop("Authorization", None)
        body = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body
        sent = parse_url(prepared.url)
        target = sent.path + (f"?{sent.query}" if sent.query else "")
        prepared.headers["X-MS-TOKEN"] = service_token(prepared.method, target, body or None)
    response = _session.send(prepared, timeout=15, allow_redirects=False)
    case.validate_response(response, checks=CHECKS, headers=dict(prepared.headers))


_REQUEST_FIELDS = {"method", "url", "headers", "files", "data", "params", "auth", "cookies", "json"}


@user_schema.parametrize()
@BOUNDED
def test_user_service_as_an_end_user(case, shop, end_user):
    send(case, shop.url("user"), headers=end_user.headers)


@user_schema_for_services.parametrize()
@BOUNDED
def test_user_service_as_billing(case, shop):
    send(case, shop.url("user"), service_token=lambda method, path, body: library_token(
        shop, method=method, path=path, body=body, audience="user", scope="users:read"
    ))


@product_schema.parametrize()
@BOUNDED
def test_product_service_as_an_end_user(case, shop, end_user):
    send(case, shop.url("product"), headers=end_user.headers)


@product_schema_for_services.parametrize()
@BOUNDED
def test_product_service_as_billing(case, shop):
    send(case, shop.url("product"), service_token=lambda method, path, body: library_token(
        shop, method=method, path=path, body=body, audience="product", scope="products:read"
    ))


@billing_schema.parametrize()
@BOUNDED
def test_billing_service_as_an_end_user(case, shop, end_user):
    send(case, shop.url("billing"), headers=end_user.headers)
