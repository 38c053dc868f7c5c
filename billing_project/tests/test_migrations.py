"""The move of amounts from decimal columns to whole hundredths keeps every bill, exactly."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from service_kit.testing import migrations_at_hand

DECIMAL_COLUMNS = [("bills", "0001_initial")]


@pytest.fixture
def migrate(transactional_db):
    with migrations_at_hand() as migrate_to:
        yield migrate_to


def _bill_in_decimal_columns(apps, lines):
    Bill = apps.get_model("bills", "Bill")
    BillItem = apps.get_model("bills", "BillItem")
    total = sum((price * quantity for price, quantity in lines), Decimal("0.00"))
    bill = Bill.objects.create(user_id=7, total=total, currency="USD")
    for number, (price, quantity) in enumerate(lines, start=1):
        BillItem.objects.create(
            bill=bill,
            product_id=number,
            sku=f"S{number}",
            name=f"Product {number}",
            unit_price=price,
            quantity=quantity,
            line_total=price * quantity,
        )
    return bill.pk


ISSUE_LINES = [(Decimal("9999999999.99"), 1000), (Decimal("9999999999.98"), 1000), (Decimal("0.01"), 1)]


def test_stored_bills_move_to_hundredths_exactly(migrate):
    old_apps = migrate(DECIMAL_COLUMNS)
    big = _bill_in_decimal_columns(old_apps, ISSUE_LINES)
    small = _bill_in_decimal_columns(old_apps, [(Decimal("0.10"), 3), (Decimal("19.99"), 2)])
    lineless = old_apps.get_model("bills", "Bill").objects.create(user_id=7, total=Decimal("12.34"), currency="EUR")

    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    from bills.models import Bill

    # On SQLite the decimal column had already lost the cents of the big total: they come back
    # from its lines, which were stored exactly.
    assert Bill.objects.get(pk=big).total == Decimal("19999999999970.01")
    assert [(line.unit_price, line.line_total) for line in Bill.objects.get(pk=big).items.all()] == [
        (Decimal("9999999999.99"), Decimal("9999999999990.00")),
        (Decimal("9999999999.98"), Decimal("9999999999980.00")),
        (Decimal("0.01"), Decimal("0.01")),
    ]
    assert Bill.objects.get(pk=small).total == Decimal("40.28")
    assert Bill.objects.get(pk=lineless.pk).total == Decimal("12.34")


def test_the_move_can_be_undone_and_redone(migrate):
    from bills.models import Bill, BillItem

    bill = Bill.objects.create(user_id=7, total=Decimal("40.28"), currency="USD")
    BillItem.objects.create(
        bill=bill, product_id=1, sku="S", name="P", unit_price=Decimal("20.14"), quantity=2, line_total=Decimal("40.28")
    )

    old_apps = migrate(DECIMAL_COLUMNS)
    old_item = old_apps.get_model("bills", "BillItem").objects.get()
    assert (old_item.bill.total, old_item.unit_price, old_item.line_total) == (
        Decimal("40.28"), Decimal("20.14"), Decimal("40.28")
    )

    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    assert Bill.objects.get().total == Decimal("40.28")
    assert BillItem.objects.get().line_total == Decimal("40.28")
