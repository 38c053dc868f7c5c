"""A product service that is down, hanging, failing, talking garbage or refusing billing's token:
503 {"detail", "code"}, and nothing stored (not even the Idempotency-Key claim)."""

import json
import logging

import pytest
import requests
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bills.models import Bill
from ms_token.testing import free_port

from .conftest import BILLS_URL, assert_unavailable_and_nothing_stored, items


def product_list_url(shop) -> str:
    return shop.url("product", "/api/products/")


def product_json(product: dict, **changes) -> dict:
    return {**product, **changes}


def page_of(*products: dict) -> dict:
    return {"count": len(products), "next": None, "previous": None, "results": list(products)}


FAULTS = {
    "connection refused": {"body": requests.ConnectionError("Connection refused")},
    "connection reset": {
        "body": requests.ConnectionError(ConnectionResetError(104, "Connection reset by peer"))
    },
    "hanging (read timeout)": {"body": requests.ReadTimeout("read timed out")},
    "connect timeout": {"body": requests.ConnectTimeout("connect timed out")},
    "500": {"status": 500, "json": {"detail": "boom", "code": "server_error"}},
    "502": {"status": 502, "body": "<html>Bad Gateway</html>"},
    "503": {"status": 503, "json": {"detail": "down", "code": "service_unavailable"}},
    "504": {"status": 504, "body": ""},
    "refuses our token (401)": {"status": 401, "json": {"detail": "no", "code": "untrusted_issuer"}},
    "refuses our scope (403)": {"status": 403, "json": {"detail": "no", "code": "insufficient_scope"}},
    "rejects our query (400)": {"status": 400, "json": {"detail": "ids: bad", "code": "invalid"}},
    "no such endpoint (404)": {"status": 404, "json": {"detail": "Not found.", "code": "not_found"}},
    "an HTML page": {"status": 200, "body": "<html>It works!</html>", "content_type": "text/html"},
    "truncated JSON": {
        "status": 200,
        "body": '{"count": 1, "results": [{"id"',
        "content_type": "application/json",
    },
    "JSON nested past the recursion limit": {
        "status": 200,
        "body": "[" * 100_000,
        "content_type": "application/json",
    },
    "a 503 nested past the recursion limit": {
        "status": 503,
        "body": "[" * 100_000,
        "content_type": "application/json",
    },
    "a JSON list": {"status": 200, "json": [1, 2, 3]},
    "no results list": {"status": 200, "json": {"count": 1, "results": "keyboard"}},
}


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
@pytest.mark.parametrize("with_key", [False, True], ids=["no key", "idempotency key"])
def test_product_faults_are_a_503_and_store_nothing(alice_client, shop, catalogue, fault, with_key):
    headers = {"HTTP_IDEMPOTENCY_KEY": "fault-1"} if with_key else {}
    with responses.RequestsMock() as mock:
        mock.add(responses.GET, product_list_url(shop), **fault)
        response = alice_client.post(BILLS_URL, items((catalogue["keyboard"], 1)), format="json", **headers)

    assert_unavailable_and_nothing_stored(response)


def _garbage_products(catalogue) -> dict[str, dict]:
    keyboard = catalogue["keyboard"]
    without_price = {k: v for k, v in keyboard.items() if k != "price"}
    return {
        "price as a float": product_json(keyboard, price=19.99),
        "price not a number": product_json(keyboard, price="cheap"),
        "price with fractions of a cent": product_json(keyboard, price="19.999"),
        "negative price": product_json(keyboard, price="-1.00"),
        "infinite price": product_json(keyboard, price="Infinity"),
        "no price": without_price,
        "bad currency": product_json(keyboard, currency="dollars"),
        "id not an integer": product_json(keyboard, id=str(keyboard["id"])),
        "is_active not a boolean": product_json(keyboard, is_active="yes"),
        "empty name": product_json(keyboard, name=""),
        "not an object": "keyboard",
    }


@pytest.mark.parametrize(
    "garbage_name",
    [
        "price as a float",
        "price not a number",
        "price with fractions of a cent",
        "negative price",
        "infinite price",
        "no price",
        "bad currency",
        "id not an integer",
        "is_active not a boolean",
        "empty name",
        "not an object",
    ],
)
def test_a_product_billing_cannot_read_is_a_503(alice_client, shop, catalogue, garbage_name):
    garbage = _garbage_products(catalogue)[garbage_name]
    with responses.RequestsMock() as mock:
        mock.add(responses.GET, product_list_url(shop), json=page_of(garbage))
        response = alice_client.post(BILLS_URL, items((catalogue["keyboard"], 1)), format="json")

    assert_unavailable_and_nothing_stored(response)


def test_one_call_with_every_id_and_a_fresh_token_per_retry(alice_client, shop, catalogue):
    keyboard, mouse = catalogue["keyboard"], catalogue["mouse"]
    answers = [(503, {}, ""), (502, {}, ""), (200, {}, json.dumps(page_of(keyboard, mouse)))]
    seen: list[tuple[str, str]] = []

    def product_service(request):
        # Read at call time: the client re-sends one prepared request with a new token header.
        assert request.headers["X-Request-ID"] == "order-flow-1"  # passed on to the peer
        seen.append((request.url.split("?", 1)[1], request.headers["X-MS-TOKEN"]))
        return answers[len(seen) - 1]

    with responses.RequestsMock() as mock:
        mock.add_callback(responses.GET, product_list_url(shop), callback=product_service)
        response = alice_client.post(
            BILLS_URL, items((keyboard, 1), (mouse, 2)), format="json", HTTP_X_REQUEST_ID="order-flow-1"
        )

    assert response.status_code == 201
    assert response.json()["total"] == "30.99"
    assert len(seen) == 3  # one call, retried twice on 503/502
    assert {query for query, _ in seen} == {f"ids={keyboard['id']}%2C{mouse['id']}&page_size=2"}
    assert len({token for _, token in seen}) == 3


def test_a_product_list_spread_over_pages_is_followed(alice_client, shop, catalogue):
    keyboard, mouse = catalogue["keyboard"], catalogue["mouse"]
    url = product_list_url(shop)
    with responses.RequestsMock() as mock:
        mock.add(responses.GET, url, json={**page_of(keyboard), "count": 2, "next": f"{url}?ids=1,2&page=2"})
        mock.add(responses.GET, url, json={**page_of(mouse), "count": 2, "previous": url})
        response = alice_client.post(BILLS_URL, items((keyboard, 1), (mouse, 1)), format="json")
        second_url = mock.calls[1].request.url

    assert response.status_code == 201
    assert [item["name"] for item in response.json()["items"]] == ["Keyboard", "Mouse"]
    assert "page=2" in second_url


def test_a_real_product_service_that_refuses_our_key_is_a_503_with_the_reason_logged(
    alice_client, catalogue, caplog, settings
):
    """Billing signs with a key it does not publish: the real product service refuses it."""
    rogue = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    settings.MS_TOKEN = {**settings.MS_TOKEN, "SIGNING_KEY": rogue.decode()}
    with caplog.at_level(logging.WARNING):
        response = alice_client.post(BILLS_URL, items((catalogue["keyboard"], 1)), format="json")

    assert_unavailable_and_nothing_stored(response)
    assert "401" in caplog.text and "token_invalid" in caplog.text


def test_nothing_listening_at_the_product_url_is_a_503(alice_client, catalogue, settings):
    settings.MS_TOKEN = {**settings.MS_TOKEN, "SERVICE_URLS": {**settings.MS_TOKEN["SERVICE_URLS"], "product": f"http://127.0.0.1:{free_port()}"}}
    response = alice_client.post(BILLS_URL, items((catalogue["keyboard"], 1)), format="json")
    assert_unavailable_and_nothing_stored(response)


def test_after_a_fault_the_same_request_succeeds(alice_client, shop, catalogue):
    """A failed attempt released its Idempotency-Key, so the client's retry can go through."""
    body = items((catalogue["mouse"], 1))
    with responses.RequestsMock() as mock:
        mock.add(responses.GET, product_list_url(shop), body=requests.ConnectionError("down"))
        failed = alice_client.post(BILLS_URL, body, format="json", HTTP_IDEMPOTENCY_KEY="retry-me")
    assert failed.status_code == 503

    retried = alice_client.post(BILLS_URL, body, format="json", HTTP_IDEMPOTENCY_KEY="retry-me")
    assert retried.status_code == 201
    assert Bill.objects.count() == 1
    assert json.loads(retried.content)["total"] == "5.50"
