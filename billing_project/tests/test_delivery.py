"""POST/GET /api/bills/{id}/delivery/: the address from the body or from the real user service."""

import re

import pytest
import requests
import responses
from django.db import IntegrityError, transaction

from bills.models import Delivery
from ms_token.testing import free_port
from ms_token.txn_tokens import TXN_TOKEN_ENDPOINT_PATH
from service_kit.testing import preload_peer_keys

from .conftest import BILLS_URL, HTTP_TIMEOUT, bearer, client_for, items
from .test_idempotency import _post_at_once

TRACKING_CODE = re.compile(r"TRK-[A-Z2-7]{16}")


@pytest.fixture
def make_bill(catalogue):
    def make(client) -> dict:
        response = client.post(BILLS_URL, items((catalogue["keyboard"], 1)), format="json")
        assert response.status_code == 201
        return response.json()

    return make


def delivery_url(bill_id: int) -> str:
    return f"{BILLS_URL}{bill_id}/delivery/"


def test_delivery_to_the_address_in_the_request(alice_client, make_bill):
    bill = make_bill(alice_client)
    response = alice_client.post(
        delivery_url(bill["id"]), {"shipping_address": "  7 Elm Road  "}, format="json"
    )

    assert response.status_code == 201
    delivery = response.json()
    assert set(delivery) == {"id", "bill_id", "status", "shipping_address", "tracking_code", "created_at"}
    assert delivery["bill_id"] == bill["id"]
    assert delivery["status"] == "initiated"
    assert delivery["shipping_address"] == "7 Elm Road"
    assert TRACKING_CODE.fullmatch(delivery["tracking_code"])
    assert Delivery.objects.get().tracking_code == delivery["tracking_code"]


@pytest.mark.parametrize(
    "body",
    [{}, {"shipping_address": ""}, {"shipping_address": "   "}, {"shipping_address": None},
     # Invisible characters only are no address either: zero-width space, BOM, word joiner, ...
     {"shipping_address": "\u200b"}, {"shipping_address": "\ufeff\u2060\u200d \u3000\u00a0\u3164"}],
)
def test_without_an_address_the_user_service_is_asked(alice_client, alice, make_bill, body):
    bill = make_bill(alice_client)
    response = alice_client.post(delivery_url(bill["id"]), body, format="json")

    assert response.status_code == 201
    assert response.json()["shipping_address"] == alice.shipping_address


@pytest.mark.parametrize("body", [{}, {"shipping_address": "\u200b\u200b"}, {"shipping_address": "\u202e\u00ad"}])
def test_no_address_anywhere_is_a_400(bob_client, make_bill, body):
    bill = make_bill(bob_client)
    response = bob_client.post(delivery_url(bill["id"]), body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "shipping_address_required"
    assert not Delivery.objects.exists()


def test_a_user_the_user_service_does_not_know_gets_no_transaction_token(db, make_bill, stranger_token, api_client):
    """The user service exchanges no token of a user it does not know (deleted, say): billing
    cannot act for that user there, and says so (401), storing nothing."""
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {stranger_token()}")
    bill = make_bill(api_client)
    response = api_client.post(delivery_url(bill["id"]), {}, format="json")
    assert response.status_code == 401, response.content
    assert response.json()["code"] == "subject_token_invalid"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not Delivery.objects.exists()
    # With the address in the request nothing is asked of the user service.
    response = api_client.post(delivery_url(bill["id"]), {"shipping_address": "7 Elm Road"}, format="json")
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"shipping_address": "x" * 1001}, "max_length"),
        ({"shipping_address": ["1 Main St"]}, "not_a_string"),
        # A number is no address: it must not be stored as the text "123".
        ({"shipping_address": 123}, "not_a_string"),
        ({"shipping_address": True}, "not_a_string"),
    ],
)
def test_a_bad_address_is_a_400(alice_client, make_bill, body, code):
    bill = make_bill(alice_client)
    response = alice_client.post(delivery_url(bill["id"]), body, format="json")
    assert response.status_code == 400 and response.json()["code"] == code
    assert not Delivery.objects.exists()


def test_an_address_that_is_not_valid_unicode_is_a_400(alice_client, make_bill):
    bill = make_bill(alice_client)
    raw = b'{"shipping_address": "1 Main St \\ud800"}'  # a lone surrogate: valid JSON, no text
    response = alice_client.generic("POST", delivery_url(bill["id"]), raw, content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "not_utf8"
    assert not Delivery.objects.exists()


def test_a_second_call_returns_the_same_delivery(alice_client, make_bill):
    bill = make_bill(alice_client)
    first = alice_client.post(delivery_url(bill["id"]), {"shipping_address": "7 Elm Road"}, format="json")
    second = alice_client.post(
        delivery_url(bill["id"]), {"shipping_address": "somewhere else"}, format="json"
    )

    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json() == first.json()
    assert Delivery.objects.count() == 1


def test_get_returns_the_delivery_or_404(alice_client, make_bill):
    bill = make_bill(alice_client)
    missing = alice_client.get(delivery_url(bill["id"]))
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"

    made = alice_client.post(delivery_url(bill["id"]), {}, format="json")
    assert made.status_code == 201, made.content
    assert alice_client.get(delivery_url(bill["id"])).json() == made.json()


def test_another_users_bill_has_no_delivery_for_you(alice_client, bob, make_bill):
    bill = make_bill(alice_client)
    alice_client.post(delivery_url(bill["id"]), {}, format="json")
    bobs = client_for(bob)

    assert bobs.get(delivery_url(bill["id"])).status_code == 404
    assert (
        bobs.post(delivery_url(bill["id"]), {"shipping_address": "Bob's"}, format="json").status_code == 404
    )
    assert Delivery.objects.get().shipping_address != "Bob's"


def test_an_unknown_bill_is_a_404(alice_client):
    assert (
        alice_client.post(delivery_url(987654), {"shipping_address": "x"}, format="json").status_code == 404
    )
    assert alice_client.get(delivery_url(987654)).status_code == 404


USER_FAULTS = {
    "connection refused": {"body": requests.ConnectionError("Connection refused")},
    "hanging (read timeout)": {"body": requests.ReadTimeout("read timed out")},
    "500": {"status": 500, "json": {"detail": "boom", "code": "server_error"}},
    "refuses our token (401)": {"status": 401, "json": {"detail": "no", "code": "token_replayed"}},
    "garbage": {"status": 200, "body": "<html>", "content_type": "text/html"},
    "address not a string": {"status": 200, "json": {"id": 1, "shipping_address": 42}},
}


@pytest.mark.parametrize("fault", USER_FAULTS.values(), ids=USER_FAULTS.keys())
def test_user_service_faults_are_a_503_and_store_nothing(alice_client, alice, shop, make_bill, fault):
    bill = make_bill(alice_client)
    with responses.RequestsMock() as mock:
        mock.add_passthru(shop.url("user", TXN_TOKEN_ENDPOINT_PATH))  # the exchange works: the read fails
        mock.add(responses.GET, shop.url("user", f"/api/internal/users/{alice.id}/"), **fault)
        response = alice_client.post(delivery_url(bill["id"]), {}, format="json")

    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    assert response.json()["detail"].startswith("The user service is unavailable")
    assert not Delivery.objects.exists()
    # The user service back: the same call now succeeds.
    assert alice_client.post(delivery_url(bill["id"]), {}, format="json").status_code == 201


@pytest.fixture
def user_service_gone(settings):
    """The user service's URL now leads nowhere; its keys stay known (as if cached before)."""
    settings.MS_TOKEN = {**settings.MS_TOKEN, "SERVICE_URLS": {**settings.MS_TOKEN["SERVICE_URLS"], "user": f"http://127.0.0.1:{free_port()}"}}
    preload_peer_keys("user")


def test_nothing_listening_at_the_user_url_is_a_503(alice_client, make_bill, user_service_gone):
    bill = make_bill(alice_client)
    response = alice_client.post(delivery_url(bill["id"]), {}, format="json")
    assert response.status_code == 503 and not Delivery.objects.exists()
    assert response.json()["detail"].startswith("The user service is unavailable")


def test_an_address_in_the_request_needs_no_user_service(alice_client, make_bill, user_service_gone):
    bill = make_bill(alice_client)
    response = alice_client.post(delivery_url(bill["id"]), {"shipping_address": "7 Elm Road"}, format="json")
    assert response.status_code == 201


def test_the_database_allows_one_delivery_per_bill(alice_client, make_bill):
    bill = make_bill(alice_client)
    Delivery.objects.create(bill_id=bill["id"], shipping_address="a", tracking_code="TRK-A")
    with pytest.raises(IntegrityError), transaction.atomic():
        Delivery.objects.create(bill_id=bill["id"], shipping_address="b", tracking_code="TRK-B")


def test_concurrent_initiations_make_one_delivery(shop, catalogue, alice):
    """Against the real billing service: eight at once, one delivery, the others get it (200)."""
    headers = bearer(alice.token())
    bill = requests.post(
        shop.url("billing", BILLS_URL),
        json=items((catalogue["mouse"], 1)),
        headers=headers,
        timeout=HTTP_TIMEOUT,
    ).json()

    answers = _post_at_once(shop.url("billing", delivery_url(bill["id"])), {}, headers, 8)

    assert sorted(r.status_code for r in answers) == [200] * 7 + [201], [r.text for r in answers]
    assert len({r.json()["tracking_code"] for r in answers}) == 1
    assert answers[0].json()["shipping_address"] == alice.shipping_address
