"""The contract's story, end to end through HTTP only, against the three running services."""
from __future__ import annotations

from decimal import Decimal

import requests

from story import bearer, play_story
from tokens import library_token


def test_the_contract_story_end_to_end(shop, staff):
    result = play_story(
        shop.urls,
        staff_username=staff.username,
        staff_password=staff.password,
        capture_token=lambda method, path: library_token(shop, method=method, path=path),
    )

    # The bill's names and prices came from the product service, not from the request.
    by_id = {p["id"]: p for p in result.products}
    for line in result.bill["items"]:
        product = by_id[line["product_id"]]
        assert (line["sku"], line["name"], line["unit_price"]) == (product["sku"], product["name"], product["price"])
        assert Decimal(line["line_total"]) == Decimal(line["unit_price"]) * line["quantity"]
    assert result.bill["user_id"] in (result.alice_id, str(result.alice_id))
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
