"""Billing with MS_TOKEN_SOURCE=token-service (issue 6), against the real user, product and billing
services of conftest.py: every token billing sends is asked from the user service's token service
(POST /api/service-tokens/, with a self-signed client assertion) and checked by the callee.

Billing here is this test process (Django's test client on its test database), switched to the
token-service source with the ``settings`` fixture; the peers run as subprocesses. The user
service's grant table is read and switched through its own manage.py, as an operator would.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import requests

from bills import peers
from bills.models import Delivery
from ms_token.exceptions import ServiceCallError
from ms_token.sources import TokenServiceTokenSource, get_token_source
from ms_token.testing import free_port
from service_kit.testing import preload_peer_keys

from .conftest import BILLS_URL, HTTP_TIMEOUT, assert_unavailable_and_nothing_stored, items

pytestmark = pytest.mark.django_db


@pytest.fixture
def token_service_source(shop, settings):
    """Billing (this process) gets its tokens from the token service; fresh clients pick it up."""
    settings.MS_TOKEN = {**settings.MS_TOKEN, "TOKEN_SOURCE": "token-service"}
    peers.clear_clients()
    yield
    peers.clear_clients()  # the next test's clients go back to the default source


def user_service_python(shop, code: str) -> str:
    """Run ``code`` in the user service's Django (its database), as ``manage.py shell -c``."""
    process = shop.processes["user"]
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-v", "0", "-c", code],
        cwd=process.project_dir,
        env={**process.env, "DJANGO_SETTINGS_MODULE": "user_site.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def issuances_since(shop, last_id: int, *, hashes: bool = False) -> list[list]:
    """[caller, audience, scope, method, path] of each token issued since ``last_id``, and with
    ``hashes`` whether it binds a query (qh) and a transaction token (tth)."""
    fields = "t.caller, t.audience, t.scope, t.method, t.path" + (", bool(t.query_hash), bool(t.txn_token_hash)" if hashes else "")
    return json.loads(user_service_python(shop, (
        "import json; from service_tokens.models import IssuedServiceToken as T; "
        f"print(json.dumps([[{fields}] "
        f"for t in T.objects.filter(id__gt={last_id}).order_by('id')]))"
    )))


def last_issuance_id(shop) -> int:
    return int(user_service_python(shop, (
        "from django.db.models import Max; from service_tokens.models import IssuedServiceToken as T; "
        "print(T.objects.aggregate(m=Max('id'))['m'] or 0)"
    )))


def set_billing_enabled(shop, enabled: bool) -> None:
    user_service_python(shop, (
        "from service_tokens.models import ServiceCaller; "
        f"assert ServiceCaller.objects.filter(name='billing').update(is_enabled={enabled}) == 1"
    ))


def test_the_story_bill_and_delivery_with_tokens_from_the_token_service(
    token_service_source, shop, alice, alice_client, catalogue
):
    assert isinstance(peers.service_client("product").token_source, TokenServiceTokenSource)
    before = last_issuance_id(shop)

    bill = alice_client.post(BILLS_URL, items((catalogue["keyboard"], 2), (catalogue["mouse"], 1)), format="json")
    assert bill.status_code == 201, bill.content
    assert bill.json()["total"] == "45.48"  # 2 x 19.99 + 5.50, prices from the product service

    delivery = alice_client.post(f"{BILLS_URL}{bill.json()['id']}/delivery/", {}, format="json")
    assert delivery.status_code == 201, delivery.content
    assert delivery.json()["shipping_address"] == alice.shipping_address  # asked from the user service
    assert Delivery.objects.count() == 1

    # One token per call, nothing else: the products read (bound to its query), the exchange of
    # alice's access token for a transaction token, the address read (bound to that token).
    assert issuances_since(shop, before, hashes=True) == [
        ["billing", "product", "products:read", "GET", "/api/products/", True, False],
        ["billing", "user", "txn-tokens:request", "POST", "/api/txn-tokens/", False, False],
        ["billing", "user", "users:read", "GET", f"/api/internal/users/{alice.id}/", False, True],
    ]


def test_a_captured_token_service_token_is_refused_when_replayed(token_service_source, shop):
    token = get_token_source().token(
        audience="product", scope="products:read", method="GET", path="/api/products/", body=None
    )
    url = shop.url("product", "/api/products/")
    first = requests.get(url, headers={"X-MS-TOKEN": token}, timeout=HTTP_TIMEOUT)
    assert first.status_code == 200, first.text
    replayed = requests.get(url, headers={"X-MS-TOKEN": token}, timeout=HTTP_TIMEOUT)
    assert replayed.status_code == 401 and replayed.json()["code"] == "token_replayed"


def test_a_token_for_one_path_is_refused_at_another(token_service_source, shop, catalogue):
    token = get_token_source().token(
        audience="product", scope="products:read", method="GET", path="/api/products/", body=None
    )
    other = shop.url("product", f"/api/products/{catalogue['keyboard']['id']}/")
    response = requests.get(other, headers={"X-MS-TOKEN": token}, timeout=HTTP_TIMEOUT)
    assert response.status_code == 401 and response.json()["code"] == "token_request_mismatch"


def test_a_scope_outside_billings_grant_is_refused_by_the_token_service(token_service_source, shop):
    before = last_issuance_id(shop)
    with pytest.raises(ServiceCallError) as refused:
        get_token_source().token(
            audience="product", scope="products:write", method="POST", path="/api/products/", body=b"{}"
        )
    assert refused.value.status == 403 and "scope_not_granted" in refused.value.reason
    assert issuances_since(shop, before) == []


def test_a_disabled_billing_gets_503_from_the_next_request_and_no_bill(
    token_service_source, shop, alice_client, catalogue
):
    source = get_token_source()
    issued_before = source.token(audience="product", scope="products:read", method="GET", path="/api/products/", body=None)
    set_billing_enabled(shop, False)
    try:
        before = last_issuance_id(shop)
        response = alice_client.post(BILLS_URL, items((catalogue["keyboard"], 1)), format="json")
        assert_unavailable_and_nothing_stored(response, service="user")
        assert issuances_since(shop, before) == []
        # Not revoked: a token issued before the switch works until it expires (30 s).
        alive = requests.get(shop.url("product", "/api/products/"), headers={"X-MS-TOKEN": issued_before},
                             timeout=HTTP_TIMEOUT)
        assert alive.status_code == 200
    finally:
        set_billing_enabled(shop, True)
    again = alice_client.post(BILLS_URL, items((catalogue["keyboard"], 1)), format="json")
    assert again.status_code == 201, again.content


def test_a_dead_token_service_is_a_503_and_no_bill(token_service_source, alice_client, catalogue, settings):
    settings.MS_TOKEN = {**settings.MS_TOKEN, "SERVICE_URLS": {**settings.MS_TOKEN["SERVICE_URLS"], "user": f"http://127.0.0.1:{free_port()}"}}
    preload_peer_keys("user")  # alice's Bearer token still verifies; only the token service is gone
    response = alice_client.post(BILLS_URL, items((catalogue["keyboard"], 1)), format="json")
    assert_unavailable_and_nothing_stored(response, service="user")
