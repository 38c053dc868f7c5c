"""The contract's story, end to end through HTTP only, against the three running services: once
for each token source of billing (issue 6: "both token sources pass the same story")."""
from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal

import requests

from shopdev.shop import Shop, Verification
from shopdev.story import bearer, play_story
from tokens import library_token, token_service_token

# What product and user log for billing's calls (shopdev.shop.Verification), with the random txn
# of a transaction token shown as TXN and alice's id as ALICE.
TXN, ALICE = "<txn>", "<alice>"
ACCEPTED_FROM_BILLING = Verification(issuer="billing", outcome="accepted", code="-", caller="billing")
ACCEPTED_FROM_TOKEN_SERVICE = Verification(issuer="user", outcome="accepted", code="-", caller="billing")
READ_FOR_ALICE_FROM_BILLING = Verification("billing", "accepted", "-", "billing", txn=TXN, sub=ALICE)
READ_FOR_ALICE_FROM_TOKEN_SERVICE = Verification("user", "accepted", "-", "billing", txn=TXN, sub=ALICE)
EXPECTED_VERIFICATIONS = {
    # billing signs its own tokens: at user, the exchange of alice's access token for a
    # transaction token, then the read carrying it.
    "self": {
        ("product", "bill"): [ACCEPTED_FROM_BILLING],
        ("user", "bill"): [],
        ("product", "delivery"): [],
        ("user", "delivery"): [ACCEPTED_FROM_BILLING, READ_FOR_ALICE_FROM_BILLING],
    },
    # product and user take tokens issued by user (iss) for billing (sub); user's token endpoint
    # takes billing's self-signed client assertion before each.
    "token-service": {
        ("product", "bill"): [ACCEPTED_FROM_TOKEN_SERVICE],
        ("user", "bill"): [ACCEPTED_FROM_BILLING],
        ("product", "delivery"): [],
        ("user", "delivery"): [
            ACCEPTED_FROM_BILLING, ACCEPTED_FROM_TOKEN_SERVICE,  # the exchange
            ACCEPTED_FROM_BILLING, READ_FOR_ALICE_FROM_TOKEN_SERVICE,  # the read
        ],
    },
}


def captured_token(shop: Shop, method: str, path: str, *, audience: str = "product", scope: str = "products:read") -> str:
    """What an eavesdropper would capture from billing in this shop (or billing's key alone make)."""
    if shop.token_source == "token-service":
        return token_service_token(shop, method=method, path=path, audience=audience, scope=scope)
    return library_token(shop, method=method, path=path, audience=audience, scope=scope)


def issued_txn_tokens(shop: Shop, *, request_id: str) -> list[list[str]]:
    """[requester, subject, txn] of each transaction token the user service recorded while
    serving billing's calls for the request ``request_id``."""
    return json.loads(shop.manage("user", "shell", "--no-imports", "-v", "0", "-c", (
        "import json; from txn_tokens.models import IssuedTxnToken as T; "
        f"print(json.dumps([[t.requester, t.subject, t.txn] for t in T.objects.filter(request_id={request_id!r})]))"
    )))


def test_the_contract_story_end_to_end(sourced_shop, sourced_staff):
    shop = sourced_shop
    result = play_story(
        shop.urls,
        staff_username=sourced_staff.username,
        staff_password=sourced_staff.password,
        capture_token=lambda method, path, **target: captured_token(shop, method, path, **target),
    )

    # The bill's names and prices came from the product service, not from the request.
    by_id = {p["id"]: p for p in result.products}
    for line in result.bill["items"]:
        product = by_id[line["product_id"]]
        assert (line["sku"], line["name"], line["unit_price"]) == (product["sku"], product["name"], product["price"])
        assert Decimal(line["line_total"]) == Decimal(line["unit_price"]) * line["quantity"]
    assert type(result.bill["user_id"]) is int and result.bill["user_id"] == result.alice_id
    assert result.delivery["bill_id"] == result.bill["id"]
    assert result.replay_first_status == 200
    assert result.replay_refusal["code"] == "token_replayed"
    assert result.query_refusal["code"] == "token_request_mismatch"
    assert result.no_txn_token_refusal["code"] == "txn_token_required"

    # Her bill is hers alone; the delivery is stored once (a second call returns the same one).
    alice = bearer(result.alice_tokens["access"])
    bills = requests.get(shop.url("billing") + "/api/bills/", headers=alice, timeout=10).json()
    assert [b["id"] for b in bills["results"]] == [result.bill["id"]]
    second = requests.post(
        shop.url("billing") + f"/api/bills/{result.bill['id']}/delivery/", json={}, headers=alice, timeout=10
    )
    assert second.status_code == 200 and second.json()["id"] == result.delivery["id"]
    staff_view = requests.get(
        shop.url("billing") + f"/api/bills/{result.bill['id']}/",
        headers=bearer(result.staff_tokens["access"]),
        timeout=10,
    )
    assert staff_view.status_code == 404, "another user's bill must look absent"

    # The token source really used, seen from outside billing's code: what product and user
    # logged for billing's calls while serving the bill and the delivery request (found by their
    # X-Request-ID, which billing passes on).
    seen = {
        (service, step): shop.verifications(service, request_id=request_id)
        for step, request_id in (("bill", result.bill_request_id), ("delivery", result.delivery_request_id))
        for service in ("product", "user")
    }
    txns = {v.txn for found in seen.values() for v in found if v.txn != "-"}
    assert len(txns) == 1, seen  # one transaction token for the delivery, and only there
    (txn,) = txns
    placeholders = {txn: TXN, str(result.alice_id): ALICE}
    shown = {
        step: [replace(v, txn=placeholders.get(v.txn, v.txn), sub=placeholders.get(v.sub, v.sub)) for v in found]
        for step, found in seen.items()
    }
    assert shown == EXPECTED_VERIFICATIONS[shop.token_source]
    # The user service recorded that exchange: billing asked, for alice, under the txn user logged.
    assert issued_txn_tokens(shop, request_id=result.delivery_request_id) == [["billing", str(result.alice_id), txn]]
