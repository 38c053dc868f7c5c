"""Step 3 of 3 of storing amounts as whole hundredths: the integer columns take the decimal
columns' names and place, and the checks return, now exact on every database (a line total is
its unit price times its quantity)."""

from decimal import Decimal

from django.db import migrations, models

import bills.fields


class Migration(migrations.Migration):

    dependencies = [
        ("bills", "0003_fill_amounts_in_hundredths"),
    ]

    operations = [
        migrations.RemoveField(model_name="bill", name="total"),
        migrations.RemoveField(model_name="billitem", name="unit_price"),
        migrations.RemoveField(model_name="billitem", name="line_total"),
        migrations.RenameField(model_name="bill", old_name="total_hundredths", new_name="total"),
        migrations.RenameField(model_name="billitem", old_name="unit_price_hundredths", new_name="unit_price"),
        migrations.RenameField(model_name="billitem", old_name="line_total_hundredths", new_name="line_total"),
        migrations.AlterField(model_name="bill", name="total", field=bills.fields.HundredthsField()),
        migrations.AlterField(model_name="billitem", name="unit_price", field=bills.fields.HundredthsField()),
        migrations.AlterField(model_name="billitem", name="line_total", field=bills.fields.HundredthsField()),
        migrations.AddConstraint(
            model_name="bill",
            constraint=models.CheckConstraint(
                condition=models.Q(("total__gte", 0)), name="bills_bill_total_not_negative"
            ),
        ),
        migrations.AddConstraint(
            model_name="billitem",
            constraint=models.CheckConstraint(
                condition=models.Q(("unit_price__gte", 0), ("unit_price__lte", Decimal("9999999999.99"))),
                name="bills_item_unit_price_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="billitem",
            constraint=models.CheckConstraint(
                condition=models.Q(("line_total", models.F("unit_price") * models.F("quantity"))),
                name="bills_item_line_total_is_price_x_quantity",
            ),
        ),
    ]
