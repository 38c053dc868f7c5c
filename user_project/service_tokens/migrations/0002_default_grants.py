"""The contract's default grants, so that MS_TOKEN_SOURCE=token-service works out of the box:
billing may get products:read for product and users:read for user. Existing rows are left as
the operator set them (a disabled caller stays disabled)."""
from django.db import migrations

DEFAULT_GRANTS = {"billing": {"product": "products:read", "user": "users:read"}}


def add_default_grants(apps, schema_editor):
    ServiceCaller = apps.get_model("service_tokens", "ServiceCaller")
    ServiceGrant = apps.get_model("service_tokens", "ServiceGrant")
    for name, grants in DEFAULT_GRANTS.items():
        caller, _ = ServiceCaller.objects.get_or_create(name=name)
        for audience, scopes in grants.items():
            ServiceGrant.objects.get_or_create(caller=caller, audience=audience, defaults={"scopes": scopes})


class Migration(migrations.Migration):
    dependencies = [("service_tokens", "0001_initial")]

    operations = [migrations.RunPython(add_default_grants, migrations.RunPython.noop)]
