"""Step 2 of 3 of storing amounts as whole hundredths: the integer columns filled from the decimal
ones, exactly.

On SQLite the decimal columns hold floats, and a large total has already lost its cents there.
What is stored exactly is the unit price (12 digits) and the quantity, and a line total is by
definition their product and a bill total the sum of its lines: so those are recomputed, in
integers, rather than copied. A bill without lines (none are made so) keeps its stored total.
"""

from decimal import Decimal

from django.db import migrations
from django.db.models import OuterRef, Subquery, Sum

BATCH = 1000
HUNDREDTH = Decimal("0.01")


def exact_hundredths(raw) -> int:
    """A stored decimal as whole hundredths. SQLite answers what it kept (an int, the nearest
    float, or text); the nearest float of a price is within far less than half a cent of it."""
    amount = Decimal(raw) if isinstance(raw, (int, float, Decimal)) else Decimal(str(raw))
    return int(amount.quantize(HUNDREDTH).scaleb(2))


def raw_rows(connection, table: str, columns: list[str]):
    """Every row's id and ``columns`` as the database driver gives them (no Django converters:
    those round SQLite's decimals to 15 digits), in batches by id."""
    quote = connection.ops.quote_name
    select = ", ".join(quote(column) for column in ["id", *columns])
    last_id = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {select} FROM {quote(table)} WHERE {quote('id')} > %s ORDER BY {quote('id')} LIMIT %s",
                [last_id, BATCH],
            )
            rows = cursor.fetchall()
        if not rows:
            return
        yield rows
        last_id = rows[-1][0]


def fill_hundredths(apps, schema_editor):
    connection = schema_editor.connection
    Bill = apps.get_model("bills", "Bill")
    BillItem = apps.get_model("bills", "BillItem")
    items = BillItem.objects.using(connection.alias)
    bills = Bill.objects.using(connection.alias)
    for rows in raw_rows(connection, BillItem._meta.db_table, ["unit_price", "quantity"]):
        changed = []
        for item_id, unit_price, quantity in rows:
            price = exact_hundredths(unit_price)
            changed.append(
                BillItem(pk=item_id, unit_price_hundredths=price, line_total_hundredths=price * int(quantity))
            )
        items.bulk_update(changed, ["unit_price_hundredths", "line_total_hundredths"])
    line_sum = (
        items.filter(bill=OuterRef("pk")).values("bill").annotate(total=Sum("line_total_hundredths")).values("total")
    )
    bills.update(total_hundredths=Subquery(line_sum))
    for rows in raw_rows(connection, Bill._meta.db_table, ["total", "total_hundredths"]):
        lineless = [
            Bill(pk=bill_id, total_hundredths=exact_hundredths(total))
            for bill_id, total, summed in rows
            if summed is None
        ]
        bills.bulk_update(lineless, ["total_hundredths"])


def fill_decimals(apps, schema_editor):
    """Back: the decimal columns from the integer ones."""
    connection = schema_editor.connection
    Bill = apps.get_model("bills", "Bill")
    BillItem = apps.get_model("bills", "BillItem")
    for rows in raw_rows(connection, BillItem._meta.db_table, ["unit_price_hundredths", "line_total_hundredths"]):
        changed = [
            BillItem(pk=item_id, unit_price=Decimal(price).scaleb(-2), line_total=Decimal(line).scaleb(-2))
            for item_id, price, line in rows
        ]
        BillItem.objects.using(connection.alias).bulk_update(changed, ["unit_price", "line_total"])
    for rows in raw_rows(connection, Bill._meta.db_table, ["total_hundredths"]):
        changed = [Bill(pk=bill_id, total=Decimal(total).scaleb(-2)) for bill_id, total in rows]
        Bill.objects.using(connection.alias).bulk_update(changed, ["total"])


class Migration(migrations.Migration):

    dependencies = [
        ("bills", "0002_amount_columns_in_hundredths"),
    ]

    operations = [
        migrations.RunPython(fill_hundredths, fill_decimals),
    ]
