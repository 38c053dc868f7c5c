"""The contract's story, end to end through HTTP only, against the three running services: once
for each token source of billing (issue 6: "both token sources pass the same story")."""
from __future__ import annotations

from decimal import Decimal

import requests

from shopdev.shop import Shop, Verification
from shopdev.story import bearer, play_story
from tokens import library_token, token_service_token

ACCEPTED_FROM_BILLING = Verification(issuer="billing", outcome="accepted", code="-", caller="billing")
ACCEPTED_FROM_TOKEN_SERVICE = Verification(issuer="user", outcome="accepted", code="-", caller="billing")
EXPECTED_VERIFICATIONS = {
    # billing signs its own tokens.
    "self": {
        ("product", "bill"): [ACCEPTED_FROM_BILLING],
        ("user", "bill"): [],
        ("product", "delivery"): [],
        ("user", "delivery"): [ACCEPTED_FROM_BILLING],
    },
    # product and user take tokens issued by user (iss) for billing (sub); user's token endpoint
    # takes billing's self-signed client assertion before each.
    "token-service": {
        ("product", "bill"): [ACCEPTED_FROM_TOKEN_SERVICE],
        ("user", "bill"): [ACCEPTED_FROM_BILLING],
        ("product", "delivery"): [],
        ("user", "delivery"): [ACCEPTED_FROM_BILLING, ACCEPTED_FROM_TOKEN_SERVICE],
    },
}


def captured_token(shop: Shop, method: str, path: str) -> str:
    """What an eavesdropper would capture between billing and product in this shop."""
    if shop.token_source == "token-service":
        return token_service_token(shop, method=method, path=path)
    return library_token(shop, method=method, path=path)


def test_the_contract_story_end_to_end(sourced_shop, sourced_staff):
    shop = sourced_shop
    result = play_story(
        shop.urls,
        staff_username=sourced_staff.username,
        staff_password=sourced_staff.password,
        capture_token=lambda method, path: captured_token(shop, method, path),
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
    assert seen == EXPECTED_VERIFICATIONS[shop.token_source]
