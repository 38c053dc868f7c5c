"""UsedToken.expires_at is named remember_until in Python: the jti is remembered past the token's
expiry (exp + leeway + a margin). The column keeps its name, so this migration changes no table:
no SQL, no lock, and replicas still running the code before it keep working while it is rolled
out."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("ms_token", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RenameField(model_name="usedtoken", old_name="expires_at", new_name="remember_until"),
                migrations.AlterField(
                    model_name="usedtoken",
                    name="remember_until",
                    field=models.BigIntegerField(db_column="expires_at", db_index=True),
                ),
            ],
            database_operations=[],
        ),
    ]
