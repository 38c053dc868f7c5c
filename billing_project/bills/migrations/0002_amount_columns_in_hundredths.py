"""Step 1 of 3 of storing amounts as whole hundredths (``bills.fields.HundredthsField``): new
integer columns beside the decimal ones. The decimal columns become nullable so that the change
can be reversed; their checks go, and come back on the integer columns in step 3."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("bills", "0001_initial"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="bill", name="bills_bill_total_not_negative"),
        migrations.RemoveConstraint(model_name="billitem", name="bills_item_unit_price_not_negative"),
        migrations.RemoveConstraint(model_name="billitem", name="bills_item_line_total_not_negative"),
        migrations.AlterField(
            model_name="bill", name="total", field=models.DecimalField(decimal_places=2, max_digits=20, null=True)
        ),
        migrations.AlterField(
            model_name="billitem",
            name="unit_price",
            field=models.DecimalField(decimal_places=2, max_digits=12, null=True),
        ),
        migrations.AlterField(
            model_name="billitem",
            name="line_total",
            field=models.DecimalField(decimal_places=2, max_digits=20, null=True),
        ),
        migrations.AddField(model_name="bill", name="total_hundredths", field=models.BigIntegerField(null=True)),
        migrations.AddField(
            model_name="billitem", name="unit_price_hundredths", field=models.BigIntegerField(null=True)
        ),
        migrations.AddField(
            model_name="billitem", name="line_total_hundredths", field=models.BigIntegerField(null=True)
        ),
    ]
