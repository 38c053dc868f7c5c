"""POST /api/bills/: bills priced by the real product service, and every validation rule."""

from decimal import Decimal

import pytest

from bills.models import MAX_LINES_PER_BILL, Bill, BillItem, IdempotencyRecord
from service_kit.urls import MAX_LISTED_ID

from .conftest import BILLS_URL, items


def test_a_bill_is_priced_by_the_product_service(alice_client, alice, catalogue):
    keyboard, cable = catalogue["keyboard"], catalogue["cable"]
    response = alice_client.post(BILLS_URL, items((keyboard, 2), (cable, 3)), format="json")

    assert response.status_code == 201, response.json()
    bill = response.json()
    assert bill["user_id"] == alice.id
    assert bill["currency"] == "USD"
    assert bill["status"] == "issued"
    assert bill["items"] == [
        {
            "product_id": keyboard["id"],
            "sku": keyboard["sku"],
            "name": "Keyboard",
            "unit_price": "19.99",
            "quantity": 2,
            "line_total": "39.98",
        },
        {
            "product_id": cable["id"],
            "sku": cable["sku"],
            "name": "Cable",
            "unit_price": "0.10",
            "quantity": 3,
            "line_total": "0.30",
        },
    ]
    assert bill["total"] == "40.28"
    assert response["Location"].endswith(f"{BILLS_URL}{bill['id']}/")
    stored = Bill.objects.get(pk=bill["id"])
    assert stored.total == Decimal("40.28") and stored.user_id == alice.id
    assert stored.items.count() == 2


def test_prices_names_and_totals_in_the_request_are_ignored(alice_client, catalogue):
    mouse = catalogue["mouse"]
    body = {
        "items": [
            {"product_id": mouse["id"], "quantity": 1, "unit_price": "0.01", "name": "Free", "sku": "X"}
        ],
        "total": "0.01",
        "currency": "EUR",
        "user_id": 999,
    }
    response = alice_client.post(BILLS_URL, body, format="json")

    assert response.status_code == 201
    bill = response.json()
    assert bill["items"][0]["unit_price"] == "5.50" and bill["items"][0]["name"] == "Mouse"
    assert bill["total"] == "5.50" and bill["currency"] == "USD" and bill["user_id"] != 999


def test_a_price_change_after_billing_leaves_the_bill_unchanged(alice_client, create_product, change_product):
    gadget = create_product(name="Gadget", price="10.00")
    first = alice_client.post(BILLS_URL, items((gadget, 3)), format="json").json()

    change_product(gadget["id"], price="99.00", name="Gadget Pro")

    again = alice_client.get(f"{BILLS_URL}{first['id']}/").json()
    assert again == first
    assert again["items"][0]["unit_price"] == "10.00" and again["total"] == "30.00"
    assert again["items"][0]["name"] == "Gadget"
    # ...while a new bill takes the new price: the price really changed at the product service.
    second = alice_client.post(BILLS_URL, items((gadget, 3)), format="json").json()
    assert second["items"][0]["unit_price"] == "99.00" and second["total"] == "297.00"
    assert second["items"][0]["name"] == "Gadget Pro"


def test_the_largest_quantity_is_billed_exactly(alice_client, catalogue):
    response = alice_client.post(BILLS_URL, items((catalogue["keyboard"], 1000)), format="json")
    assert response.status_code == 201
    assert response.json()["total"] == "19990.00"


def _no_bill_stored() -> bool:
    return (
        not Bill.objects.exists() and not BillItem.objects.exists() and not IdempotencyRecord.objects.exists()
    )


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({}, "items", "required"),
        ({"items": []}, "items", "empty"),
        ({"items": {"product_id": 1, "quantity": 1}}, "items", "not_a_list"),
        ({"items": "1,2"}, "items", "not_a_list"),
        ({"items": [{"quantity": 1}]}, "items.0.product_id", "required"),
        ({"items": [{"product_id": 1}]}, "items.0.quantity", "required"),
        ({"items": ["keyboard"]}, "items.0", "invalid"),
        ({"items": [{"product_id": 1, "quantity": 0}]}, "items.0.quantity", "min_value"),
        ({"items": [{"product_id": 1, "quantity": -2}]}, "items.0.quantity", "min_value"),
        ({"items": [{"product_id": 1, "quantity": 1001}]}, "items.0.quantity", "max_value"),
        ({"items": [{"product_id": 1, "quantity": 1.5}]}, "items.0.quantity", "invalid"),
        ({"items": [{"product_id": 1, "quantity": 2.0}]}, "items.0.quantity", "invalid"),
        ({"items": [{"product_id": 1, "quantity": "2"}]}, "items.0.quantity", "invalid"),
        ({"items": [{"product_id": 1, "quantity": True}]}, "items.0.quantity", "invalid"),
        ({"items": [{"product_id": 1, "quantity": None}]}, "items.0.quantity", "null"),
        ({"items": [{"product_id": "1", "quantity": 1}]}, "items.0.product_id", "invalid"),
        ({"items": [{"product_id": 0, "quantity": 1}]}, "items.0.product_id", "min_value"),
        # Beyond any database id: the product service would refuse the lookup with a 400.
        ({"items": [{"product_id": 2**63, "quantity": 1}]}, "items.0.product_id", "max_value"),
        ({"items": [{"product_id": 1, "quantity": 1}, {"product_id": 10**30, "quantity": 1}]},
         "items.1.product_id", "max_value"),
        ({"items": [{"product_id": 1, "quantity": 1}] * 101}, "items", "max_length"),
    ],
)
def test_malformed_requests_are_a_400_naming_the_bad_item(alice_client, body, field, code):
    response = alice_client.post(BILLS_URL, body, format="json")

    assert response.status_code == 400
    error = response.json()
    assert error["code"] == code
    assert error["detail"].startswith(f"{field}: ")
    assert _no_bill_stored()


def test_a_body_that_is_not_an_object_is_a_400(alice_client):
    response = alice_client.post(BILLS_URL, [{"product_id": 1, "quantity": 1}], format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid"
    broken = alice_client.post(BILLS_URL, "{not json", content_type="application/json")
    assert broken.status_code == 400 and broken.json()["code"] == "parse_error"
    assert _no_bill_stored()


def test_a_product_twice_is_a_400_naming_the_repeat(alice_client, catalogue):
    keyboard, mouse = catalogue["keyboard"], catalogue["mouse"]
    response = alice_client.post(BILLS_URL, items((keyboard, 1), (mouse, 1), (keyboard, 2)), format="json")

    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "duplicate_product"
    assert error["detail"].startswith("items.2.product_id: ")
    assert list(error["errors"]["items"]) == ["2"]
    assert _no_bill_stored()


def test_unknown_and_inactive_products_are_a_400_naming_each(alice_client, catalogue):
    body = {
        "items": [
            {"product_id": catalogue["mouse"]["id"], "quantity": 1},
            {"product_id": 987654, "quantity": 1},
            {"product_id": catalogue["retired"]["id"], "quantity": 1},
        ]
    }
    response = alice_client.post(BILLS_URL, body, format="json")

    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "unknown_product"
    assert error["detail"].startswith("items.1.product_id: Product 987654 ")
    per_item = error["errors"]["items"]
    assert sorted(per_item) == ["1", "2"]
    assert str(catalogue["retired"]["id"]) in per_item["2"]["product_id"][0]
    assert _no_bill_stored()


def test_every_id_billing_accepts_is_one_the_product_service_looks_up(alice_client, catalogue):
    """The largest ids and the most lines billing lets through reach the real product service
    as a lookup it answers (unknown products: 400), never one it refuses (billing's 503)."""
    largest = MAX_LISTED_ID
    body = {
        "items": [{"product_id": catalogue["mouse"]["id"], "quantity": 1}]
        + [{"product_id": largest - n, "quantity": 1} for n in range(MAX_LINES_PER_BILL - 1)]
    }
    response = alice_client.post(BILLS_URL, body, format="json")

    assert response.status_code == 400, response.json()
    error = response.json()
    assert error["code"] == "unknown_product"
    assert error["detail"].startswith(f"items.1.product_id: Product {largest} ")
    assert len(error["errors"]["items"]) == MAX_LINES_PER_BILL - 1
    assert _no_bill_stored()


def test_an_id_beyond_what_the_product_service_lists_is_a_400_of_billing(alice_client, catalogue):
    response = alice_client.post(BILLS_URL, items(({"id": MAX_LISTED_ID + 1}, 1)), format="json")
    assert response.status_code == 400 and response.json()["code"] == "max_value"


def test_mixed_currencies_are_a_400_naming_the_odd_items(alice_client, catalogue):
    body = items((catalogue["keyboard"], 1), (catalogue["lamp_eur"], 1), (catalogue["mouse"], 1))
    response = alice_client.post(BILLS_URL, body, format="json")

    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "mixed_currencies"
    assert error["detail"].startswith("items.1.product_id: ")
    assert "EUR" in error["detail"] and "USD" in error["detail"]
    assert list(error["errors"]["items"]) == ["1"]
    assert _no_bill_stored()


def test_a_bill_in_another_currency_is_fine_on_its_own(alice_client, catalogue):
    response = alice_client.post(BILLS_URL, items((catalogue["lamp_eur"], 2)), format="json")
    assert response.status_code == 201
    assert response.json()["currency"] == "EUR" and response.json()["total"] == "24.00"


def test_billing_needs_a_user_token(api_client, db, catalogue):
    response = api_client.post(BILLS_URL, items((catalogue["mouse"], 1)), format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["code"] == "not_authenticated"
    assert not Bill.objects.exists()


def test_a_service_token_opens_no_bill_views(api_client, db):
    from ms_token.keys import load_key_ring
    from ms_token.tokens import mint

    token = mint(
        "billing", "bills:read", "GET", BILLS_URL, issuer="product", key=load_key_ring("product").signing_key
    )
    response = api_client.get(BILLS_URL, HTTP_X_MS_TOKEN=token)
    assert response.status_code == 401
