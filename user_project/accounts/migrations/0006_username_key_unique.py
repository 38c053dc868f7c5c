"""Step 3 of 3 of "one person, one name": ``username_key`` unique and required. It replaces the
unique index on LOWER(username), which folded ASCII only on SQLite and differs from Unicode case
folding on PostgreSQL."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0005_fill_username_key"),
    ]

    operations = [
        migrations.AlterField(
            model_name="user",
            name="username_key",
            field=models.CharField(
                editable=False,
                error_messages={"unique": "A user with that username already exists."},
                help_text="The username as compared: NFKC and case folded (service_kit.usernames).",
                max_length=300,
                unique=True,
            ),
        ),
        migrations.RemoveConstraint(
            model_name="user",
            name="accounts_user_username_ci_unique",
        ),
    ]
