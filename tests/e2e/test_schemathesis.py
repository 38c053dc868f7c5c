"""Each running service against its own OpenAPI schema, as a client's QA would test it.

As an end user (and, for the product service, as staff): the schemathesis CLI with every check
(``--checks all``: server errors, status codes, content types, headers and bodies as documented,
schema-refused data refused, schema-allowed data accepted, missing required headers, unsupported
methods, ignored auth, use after free, resource availability, ...) and every phase (examples,
coverage, fuzzing, stateful). Two built-in checks run as the narrow variants of
``schemathesis_hooks.py`` (rules no schema can state). Deterministic (``--generation-deterministic``)
and bounded: a few examples per operation, well under a minute per service.

As a calling service (X-MS-TOKEN, minted anew for each request since a token is single-use and
bound to its request), for product and user: the same checks, per response, through the pytest
integration (the CLI cannot sign each request it sends).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from urllib3.util import parse_url

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS, load_all_checks

import schemathesis_hooks
from conftest import running_shop
from helpers import Account, register, staff_of
from tokens import library_token

if not hasattr(pytest.Item, "_nodeid"):
    # schemathesis 4.32's from_fixture() renames each test through ``Node._nodeid``, an attribute
    # pytest 9.2 no longer has (it keeps a structured ``_id``). Reading gives the real node id,
    # renaming is dropped: only the report's test names lose their "[GET /path]" suffix.
    pytest.Item._nodeid = property(lambda item: item.nodeid, lambda item, value: None)

HERE = Path(__file__).resolve().parent
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
# Replaced by their variants in schemathesis_hooks (registered when it is imported).
NARROWED = ["positive_data_acceptance", "use_after_free"]
MAX_EXAMPLES = 5
RUN_TIMEOUT = 180  # seconds per service; a run takes well under one


@pytest.fixture(scope="module")
def st_shop(tmp_path_factory):
    """A shop of its own: the generated users, products and bills stay out of other tests' way."""
    yield from running_shop(tmp_path_factory, kind="e2e_st", env={})


@pytest.fixture(scope="module")
def st_staff(st_shop) -> Account:
    return staff_of(st_shop, {})


def run_schemathesis(shop, service: str, account: Account, tmp_path: Path) -> None:
    command = [
        str(SCHEMATHESIS), "run", shop.url(service) + "/api/schema/",
        "--checks", "all", "--exclude-checks", ",".join(NARROWED),
        "--max-examples", str(MAX_EXAMPLES), "--generation-deterministic",
        "-H", f"Authorization: Bearer {account.access}",
        "--no-color",
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "schemathesis_hooks", "PYTHONPATH": str(HERE)}
    # cwd: schemathesis keeps its cache and hypothesis' database there, not in the repo.
    finished = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False
    )
    report = finished.stdout + finished.stderr
    assert finished.returncode == 0, report[-20000:]
    assert " generated, " in report and " failures" not in report, report[-20000:]


def test_billing_service_as_an_end_user(st_shop, st_staff, tmp_path):
    # The schema's example bill names product 1: it exists, is active, and is the only one, so
    # generated bills meet the catalogue (and make links the stateful phase follows).
    products = requests.get(st_shop.url("product") + "/api/products/", headers=st_staff.headers, timeout=10).json()
    if products["count"] == 0:
        created = requests.post(
            st_shop.url("product") + "/api/products/", headers=st_staff.headers, timeout=10,
            json={"sku": "ST-1", "name": "Schemathesis mug", "price": "10.00"},
        )
        assert created.status_code == 201 and created.json()["id"] == 1, created.text
    run_schemathesis(st_shop, "billing", register(st_shop), tmp_path)


def test_user_service_as_an_end_user(st_shop, tmp_path):
    run_schemathesis(st_shop, "user", register(st_shop), tmp_path)


def test_product_service_as_staff(st_shop, st_staff, tmp_path):
    run_schemathesis(st_shop, "product", st_staff, tmp_path)


def test_product_service_as_an_end_user(st_shop, tmp_path):
    run_schemathesis(st_shop, "product", register(st_shop), tmp_path)


# --- as a calling service: every check, per response -----------------------------------------

load_all_checks()
RESPONSE_CHECKS = [check for check in CHECKS.get_all() if check.__name__ not in NARROWED]
assert schemathesis_hooks.positive_data_acceptance_but_taken_names in RESPONSE_CHECKS
BOUNDED = settings(
    max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
    suppress_health_check=list(HealthCheck),
)


def _load(shop, service: str):
    schema = schemathesis.openapi.from_url(shop.url(service) + "/api/schema/", timeout=10)
    # No coverage phase (every boundary value of every field): a service's writes all end in 403.
    schema.config.phases.coverage.enabled = False
    return schema


@pytest.fixture(scope="module")
def user_api_for_services(st_shop):
    return _load(st_shop, "user")


@pytest.fixture(scope="module")
def product_api_for_services(st_shop):
    return _load(st_shop, "product")


user_schema_for_services = schemathesis.pytest.from_fixture("user_api_for_services")
product_schema_for_services = schemathesis.pytest.from_fixture("product_api_for_services")

_session = requests.Session()
_REQUEST_FIELDS = {"method", "url", "headers", "files", "data", "params", "auth", "cookies", "json"}


def send_as_service(case, base_url: str, service_token) -> None:
    """Send ``case`` with an X-MS-TOKEN from ``service_token(method, target, body)`` bound to
    exactly the bytes that go on the wire (the path, its query as urllib3 sends it, the body),
    then run the checks."""
    kwargs = case.as_transport_kwargs(base_url=base_url)
    prepared = _session.prepare_request(requests.Request(**{k: v for k, v in kwargs.items() if k in _REQUEST_FIELDS}))
    # A service sends its X-MS-TOKEN alone: drop any Authorization the generator made up.
    prepared.headers.pop("Authorization", None)
    body = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body
    sent = parse_url(prepared.url)
    target = sent.path + (f"?{sent.query}" if sent.query else "")
    prepared.headers["X-MS-TOKEN"] = service_token(prepared.method, target, body or None)
    response = _session.send(prepared, timeout=15, allow_redirects=False)
    case.validate_response(response, checks=RESPONSE_CHECKS, headers=dict(prepared.headers))


@user_schema_for_services.parametrize()
@BOUNDED
def test_user_service_as_billing(case, st_shop):
    send_as_service(case, st_shop.url("user"), lambda method, path, body: library_token(
        st_shop, method=method, path=path, body=body, audience="user", scope="users:read"
    ))


@product_schema_for_services.parametrize()
@BOUNDED
def test_product_service_as_billing(case, st_shop):
    send_as_service(case, st_shop.url("product"), lambda method, path, body: library_token(
        st_shop, method=method, path=path, body=body, audience="product", scope="products:read"
    ))


def test_docs_and_schema_pages_answer_errors_in_json(st_shop):
    for service in ("user", "product", "billing"):
        for path, accept in (("/api/docs/", "application/json"), ("/api/schema/", "text/csv")):
            response = requests.get(st_shop.url(service) + path, headers={"Accept": accept}, timeout=10)
            assert response.status_code == 406, (service, path, response.status_code)
            assert response.headers["Content-Type"] == "application/json", (service, path)
            assert response.json()["code"] == "not_acceptable"
        page = requests.get(st_shop.url(service) + "/api/docs/", headers={"Accept": "text/html"}, timeout=10)
        assert page.status_code == 200 and "swagger" in page.text.lower()
