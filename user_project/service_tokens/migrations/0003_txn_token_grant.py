"""The contract's default grant for transaction tokens (issue 15): billing may exchange the access
token of a user it serves for a transaction token (txn-tokens:request, POST /api/txn-tokens/),
which users:read then needs for that user. Added to billing's grant for user where it is still
the default of 0002; a grant the operator changed is left as it is."""
from django.db import migrations

OLD_DEFAULT = "users:read"
NEW_DEFAULT = "users:read txn-tokens:request"


def add_txn_token_scope(apps, schema_editor):
    ServiceCaller = apps.get_model("service_tokens", "ServiceCaller")
    ServiceGrant = apps.get_model("service_tokens", "ServiceGrant")
    caller, _ = ServiceCaller.objects.get_or_create(name="billing")
    grant, created = ServiceGrant.objects.get_or_create(caller=caller, audience="user", defaults={"scopes": NEW_DEFAULT})
    if not created and grant.scopes == OLD_DEFAULT:
        grant.scopes = NEW_DEFAULT
        grant.save(update_fields=["scopes"])


def remove_txn_token_scope(apps, schema_editor):
    ServiceGrant = apps.get_model("service_tokens", "ServiceGrant")
    ServiceGrant.objects.filter(caller__name="billing", audience="user", scopes=NEW_DEFAULT).update(scopes=OLD_DEFAULT)


class Migration(migrations.Migration):
    dependencies = [("service_tokens", "0002_default_grants")]

    operations = [migrations.RunPython(add_txn_token_scope, remove_txn_token_scope)]
