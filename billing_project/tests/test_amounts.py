"""Amounts are exact on every database: what the 201 says, every GET and an idempotent replay
say too, and no amount billing accepts is rounded or overflows its column."""

from decimal import Decimal

import pytest
import responses
from django.db import IntegrityError, transaction

from bills.fields import MAX_HUNDREDTHS, to_hundredths
from bills.models import MAX_LINES_PER_BILL, MAX_QUANTITY, MAX_TOTAL, MAX_UNIT_PRICE, Bill, BillItem

from .conftest import BILLS_URL, items
from .test_product_faults import page_of, product_json, product_list_url


@pytest.fixture(scope="module")
def dear_products(create_product) -> list[dict]:
    """The issue's case: past 15 significant digits, where SQLite's floats lose cents."""
    return [
        create_product(name="Yacht", price="9999999999.99"),
        create_product(name="Other yacht", price="9999999999.98"),
        create_product(name="Sticker", price="0.01"),
    ]


def test_a_bill_past_fifteen_digits_reads_the_same_in_the_201_every_get_and_a_replay(alice_client, dear_products):
    yacht, other_yacht, sticker = dear_products
    body = items((yacht, 1000), (other_yacht, 1000), (sticker, 1))

    created = alice_client.post(BILLS_URL, body, format="json", HTTP_IDEMPOTENCY_KEY="yachts")
    assert created.status_code == 201, created.json()
    bill = created.json()
    assert [(line["unit_price"], line["line_total"]) for line in bill["items"]] == [
        ("9999999999.99", "9999999999990.00"),
        ("9999999999.98", "9999999999980.00"),
        ("0.01", "0.01"),
    ]
    assert bill["total"] == "19999999999970.01"

    assert alice_client.get(f"{BILLS_URL}{bill['id']}/").json() == bill
    listed = alice_client.get(BILLS_URL).json()["results"]
    assert [entry for entry in listed if entry["id"] == bill["id"]] == [bill]
    replay = alice_client.post(BILLS_URL, body, format="json", HTTP_IDEMPOTENCY_KEY="yachts")
    assert replay.status_code == 200 and replay.json() == bill
    assert Bill.objects.get(pk=bill["id"]).total == Decimal("19999999999970.01")


def test_the_products_prices_come_back_exactly(dear_products):
    # The product service (its own database, SQLite or PostgreSQL as this run's) answered what
    # was stored: 12 digits, within what its column holds exactly.
    assert [product["price"] for product in dear_products] == ["9999999999.99", "9999999999.98", "0.01"]


@pytest.mark.parametrize("price", ["10000000000.00", "1e100"])
def test_a_price_beyond_what_a_bill_holds_is_a_400_naming_the_item(alice_client, shop, catalogue, price):
    # The product service stores no such price today; should it ever, billing refuses the item
    # rather than round or overflow (a real peer cannot be made to answer it, hence `responses`).
    keyboard, mouse = catalogue["keyboard"], catalogue["mouse"]
    with responses.RequestsMock() as mock:
        mock.add(responses.GET, product_list_url(shop), json=page_of(keyboard, product_json(mouse, price=price)))
        response = alice_client.post(BILLS_URL, items((keyboard, 1), (mouse, 1)), format="json")

    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["code"] == "price_out_of_range"
    assert body["detail"].startswith(f"items.1.product_id: Product {mouse['id']} costs more than a bill can hold")
    assert list(body["errors"]["items"]) == ["1"]
    assert not Bill.objects.exists()


def test_the_largest_bill_billing_accepts_fits_its_columns():
    assert MAX_TOTAL == MAX_UNIT_PRICE * MAX_QUANTITY * MAX_LINES_PER_BILL
    assert to_hundredths(MAX_TOTAL) <= MAX_HUNDREDTHS


def test_the_largest_amounts_are_stored_and_read_exactly(db):
    # 17 digits with cents: a float keeps neither.
    bill = Bill.objects.create(user_id=1, total=MAX_TOTAL - Decimal("0.01"), currency="USD")
    BillItem.objects.create(
        bill=bill,
        product_id=1,
        sku="MAX",
        name="Dearest",
        unit_price=MAX_UNIT_PRICE,
        quantity=MAX_QUANTITY,
        line_total=MAX_UNIT_PRICE * MAX_QUANTITY,
    )
    stored = Bill.objects.get(pk=bill.pk)
    assert str(stored.total) == "999999999998999.99"
    line = stored.items.get()
    assert (str(line.unit_price), str(line.line_total)) == ("9999999999.99", "9999999999990.00")
    assert Bill.objects.filter(total__gt=MAX_TOTAL - Decimal("0.02")).get() == stored


@pytest.mark.parametrize("amount", [Decimal("0.005"), "1.001", Decimal("NaN"), Decimal("1e30")])
def test_an_amount_that_is_not_whole_hundredths_is_never_rounded_into_a_column(db, amount):
    with pytest.raises(ValueError):
        Bill.objects.create(user_id=1, total=amount, currency="USD")


def test_a_float_is_no_amount(db):
    with pytest.raises(TypeError):
        Bill.objects.create(user_id=1, total=0.1, currency="USD")


@pytest.mark.parametrize(
    ("unit_price", "quantity", "line_total"),
    [
        (Decimal("9999999999.99"), 3, Decimal("29999999999.96")),  # not price x quantity
        (Decimal("10000000000.00"), 1, Decimal("10000000000.00")),  # dearer than billing allows
        (Decimal("-1.00"), 1, Decimal("-1.00")),
    ],
)
def test_the_database_refuses_a_line_that_does_not_add_up(db, unit_price, quantity, line_total):
    bill = Bill.objects.create(user_id=1, total=Decimal("0.00"), currency="USD")
    with pytest.raises(IntegrityError), transaction.atomic():
        BillItem.objects.create(
            bill=bill,
            product_id=1,
            sku="X",
            name="X",
            unit_price=unit_price,
            quantity=quantity,
            line_total=line_total,
        )
