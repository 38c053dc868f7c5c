"""Prices come back from the database exactly as they were written, on SQLite too (which keeps
decimals as floats: exact up to 15 significant digits, and a price has at most 12)."""
from decimal import Decimal

import pytest

from catalog.models import Product

from .conftest import PRODUCTS_URL

pytestmark = pytest.mark.django_db

PRICES = ["9999999999.99", "9999999999.98", "0.01", "1234567890.12", "0.10"]


@pytest.mark.parametrize("price", PRICES)
def test_the_dearest_and_cheapest_prices_round_trip_exactly(staff_client, price):
    created = staff_client.post(
        PRODUCTS_URL, {"sku": f"P-{price}", "name": "Priced", "price": price, "currency": "USD"}, format="json"
    )
    assert created.status_code == 201, created.content

    assert Product.objects.get(pk=created.json()["id"]).price == Decimal(price)
    assert staff_client.get(f"{PRODUCTS_URL}{created.json()['id']}/").json()["price"] == price
    listed = staff_client.get(PRODUCTS_URL, {"ids": created.json()["id"]}).json()["results"]
    assert [product["price"] for product in listed] == [price]


def test_a_price_column_holds_no_more_than_12_digits():
    # What keeps every price within what SQLite's floats hold exactly (and billing's bound).
    field = Product._meta.get_field("price")
    assert (field.max_digits, field.decimal_places) == (12, 2)
