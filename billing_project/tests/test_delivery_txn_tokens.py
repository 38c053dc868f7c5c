"""Billing acts for the bill's owner at the user service (issue 15): it exchanges the owner's
Bearer token for a transaction token (POST /api/txn-tokens/ at the real user service) only when it
must ask for the address, at most once per request, and carries it on the read (Txn-Token, bound
by the X-MS-TOKEN's tth). Bill creation never pays for an exchange.

The exchange and the read are real calls to the user service of conftest.py; a spy on the
library's exchange counts them, and a spy on ServiceClient.request shows what billing carried.
"""

from __future__ import annotations

import base64
import json
from unittest import mock

import pytest
import requests
import responses

from bills.models import Delivery
from ms_token.client import ServiceClient
from ms_token.tokens import txn_token_hash
from ms_token.txn_tokens import TXN_TOKEN_ENDPOINT_PATH, TxnTokenExchange
from ms_token.verification import verify_txn_token

from .conftest import BILLS_URL, items

pytestmark = pytest.mark.django_db


@pytest.fixture
def exchanges():
    """Every exchange billing makes (the real one runs), as (subject token, transaction token)."""
    made = []
    real = TxnTokenExchange.exchange

    def spy(self, subject_token):
        token = real(self, subject_token)
        made.append((subject_token, token))
        return token

    with mock.patch.object(TxnTokenExchange, "exchange", spy):
        yield made


@pytest.fixture
def calls():
    """Every ServiceClient call billing makes (the real one runs): (service, method, path, txn_token)."""
    made = []
    real = ServiceClient.request

    def spy(self, method, path, **options):
        made.append((self.service, method, path, options.get("txn_token")))
        return real(self, method, path, **options)

    with mock.patch.object(ServiceClient, "request", spy):
        yield made


def delivery_url(bill_id: int) -> str:
    return f"{BILLS_URL}{bill_id}/delivery/"


def test_a_bill_costs_no_exchange(alice_client, catalogue, exchanges, calls):
    response = alice_client.post(BILLS_URL, items((catalogue["keyboard"], 1)), format="json")
    assert response.status_code == 201, response.content
    assert exchanges == []
    assert [(service, txn_token) for service, _m, _p, txn_token in calls] == [("product", None)]


def test_a_delivery_asks_for_the_address_for_the_bills_owner(alice_client, alice, catalogue, exchanges, calls):
    bill = alice_client.post(BILLS_URL, items((catalogue["mouse"], 1)), format="json").json()
    calls.clear()
    response = alice_client.post(delivery_url(bill["id"]), {}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["shipping_address"] == alice.shipping_address

    [(subject_token, txn_token)] = exchanges  # one exchange, of alice's own Bearer token
    assert subject_token == alice_client._credentials["HTTP_AUTHORIZATION"].removeprefix("Bearer ")
    verified = verify_txn_token(txn_token)
    assert (verified.subject, verified.requester) == (str(alice.id), "billing")
    assert calls == [
        ("user", "POST", TXN_TOKEN_ENDPOINT_PATH, None),
        ("user", "GET", f"/api/internal/users/{alice.id}/", txn_token),
    ]


def test_no_exchange_when_the_address_is_given_or_the_delivery_exists(alice_client, catalogue, exchanges):
    bill = alice_client.post(BILLS_URL, items((catalogue["mouse"], 1)), format="json").json()
    given = alice_client.post(delivery_url(bill["id"]), {"shipping_address": "7 Elm Road"}, format="json")
    assert given.status_code == 201
    again = alice_client.post(delivery_url(bill["id"]), {}, format="json")
    assert again.status_code == 200 and again.json()["shipping_address"] == "7 Elm Road"
    assert exchanges == []


def test_the_read_carries_the_token_bound_by_tth(shop, alice_client, alice, catalogue):
    """What went on the wire to the user service, seen by a recording wrapper around requests."""
    bill = alice_client.post(BILLS_URL, items((catalogue["mouse"], 1)), format="json").json()
    sent = []
    real_send = requests.Session.send

    def record(session, prepared, **options):
        sent.append(prepared)
        return real_send(session, prepared, **options)

    with mock.patch.object(requests.Session, "send", record):
        assert alice_client.post(delivery_url(bill["id"]), {}, format="json").status_code == 201
    [read] = [p for p in sent if p.path_url == f"/api/internal/users/{alice.id}/"]
    txn_token = read.headers["Txn-Token"]
    payload = read.headers["X-MS-TOKEN"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert (claims["aud"], claims["tth"]) == ("user", txn_token_hash(txn_token))
    assert verify_txn_token(txn_token).subject == str(alice.id)
    [exchange] = [p for p in sent if p.path_url == TXN_TOKEN_ENDPOINT_PATH]
    assert "Txn-Token" not in exchange.headers


@pytest.mark.parametrize(
    "fault",
    [
        {"body": requests.ConnectionError("Connection refused")},
        {"status": 500, "json": {"detail": "boom", "code": "server_error"}},
        {"status": 201, "json": {"expires_in": 60}},  # no token in the answer
        {"status": 201, "json": {"txn_token": "not a token", "expires_in": 60}},
        {"status": 403, "json": {"detail": "no", "code": "insufficient_scope"}},
    ],
    ids=["down", "500", "no-token", "garbage-token", "refuses-billing"],
)
def test_an_exchange_that_fails_is_a_503_and_stores_nothing(shop, alice_client, catalogue, fault):
    bill = alice_client.post(BILLS_URL, items((catalogue["mouse"], 1)), format="json").json()
    with responses.RequestsMock() as mocked:
        mocked.add(responses.POST, shop.url("user", TXN_TOKEN_ENDPOINT_PATH), **fault)
        response = alice_client.post(delivery_url(bill["id"]), {}, format="json")
    assert response.status_code == 503, response.content
    assert response.json()["detail"].startswith("The user service is unavailable")
    assert not Delivery.objects.exists()
