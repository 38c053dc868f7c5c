"""Step 2 of 3 of "one person, one name": every account's ``username_key`` (NFKC and case
folding, computed in Python: SQL's LOWER is not Unicode case folding, and differs between
databases).

Accounts whose names are then one name ("Müller" and "MÜLLER" could both register on SQLite,
whose LOWER folds ASCII only) stop the migration, named: which one keeps the name (rename,
merge or deactivate the other) is an operator's decision, not a migration's. Rename the others
in the admin (or ``manage.py shell``) and migrate again.
"""

from django.db import migrations
from service_kit.usernames import username_key

BATCH = 1000


def fill_username_keys(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    users = User.objects.using(schema_editor.connection.alias)
    by_key: dict[str, list[str]] = {}
    for username in users.order_by("pk").values_list("username", flat=True).iterator(chunk_size=BATCH):
        by_key.setdefault(username_key(username), []).append(username)
    twins = sorted(" = ".join(sorted(names)) for names in by_key.values() if len(names) > 1)
    if twins:
        raise RuntimeError(
            "Accounts whose usernames are one name once compared after NFKC and case folding must be "
            "resolved (rename all but one) before usernames can be made unique that way: "
            + "; ".join(twins[:20])
            + (f"; and {len(twins) - 20} more" if len(twins) > 20 else "")
        )
    changed = []
    for user in users.order_by("pk").only("pk", "username").iterator(chunk_size=BATCH):
        user.username_key = username_key(user.username)
        changed.append(user)
        if len(changed) == BATCH:
            users.bulk_update(changed, ["username_key"])
            changed = []
    users.bulk_update(changed, ["username_key"])


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0004_username_key_column"),
    ]

    operations = [
        migrations.RunPython(fill_username_keys, migrations.RunPython.noop),
    ]
