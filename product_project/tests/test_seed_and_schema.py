"""Demo data for `make up`, and the OpenAPI description of the API."""
from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command

from catalog.models import Product
from catalog.serializers import IDS_PATTERN, PRICE_PATTERN

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_demo_is_idempotent_and_prints_the_admin_login(monkeypatch, settings):
    settings.DEBUG = True  # `make up`'s debug mode: the published password is accepted
    monkeypatch.delenv("DEMO_ADMIN_PASSWORD", raising=False)
    first = seed()
    skus = sorted(Product.objects.values_list("sku", flat=True))
    assert len(skus) >= 3
    second = seed()
    assert sorted(Product.objects.values_list("sku", flat=True)) == skus
    assert get_user_model().objects.filter(username="admin").count() == 1
    url = settings.MS_TOKEN["SERVICE_URLS"]["product"]
    for output in (first, second):
        assert f"product: admin login admin / admin-demo-2026! at {url}/admin/" in output
    admin = authenticate(username="admin", password="admin-demo-2026!")
    assert admin is not None and admin.is_staff and admin.is_superuser


def test_with_debug_off_seed_demo_refuses_the_published_password_before_writing(monkeypatch, settings):
    from django.core.management.base import CommandError

    settings.DEBUG = False
    monkeypatch.delenv("DEMO_ADMIN_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="DEMO_ADMIN_PASSWORD"):
        seed()
    assert not Product.objects.exists() and not get_user_model().objects.exists()

    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", "admin-demo-2026!")  # given explicitly: the operator's choice
    assert "admin login admin / admin-demo-2026! at" in seed()


def test_seed_demo_keeps_edited_products_and_takes_the_password_from_the_env(monkeypatch):
    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", "first-secret-2026")
    seed()
    mug = Product.objects.get(sku="DEMO-MUG")
    mug.name = "Edited by staff"
    mug.save()
    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", "another-secret-2026")
    output = seed()
    assert Product.objects.get(sku="DEMO-MUG").name == "Edited by staff"
    assert "admin login admin / another-secret-2026 at" in output
    assert authenticate(username="admin", password="another-secret-2026") is not None


def test_schema_validates_without_warnings():
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    assert "/api/products/{id}/" in out.getvalue()


def test_schema_describes_bearer_user_tokens_and_the_x_ms_token_header(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["userToken"]["type"] == "http" and schemes["userToken"]["scheme"] == "bearer"
    assert schemes["msToken"] == {**schemes["msToken"], "type": "apiKey", "in": "header", "name": "X-MS-TOKEN"}
    listing = schema["paths"]["/api/products/"]["get"]
    assert {"userToken": []} in listing["security"] and {"msToken": []} in listing["security"]
    assert {p["name"] for p in listing["parameters"]} >= {"ids", "search", "ordering", "page"}
    price = schema["components"]["schemas"]["Product"]["properties"]["price"]
    assert price["type"] == "string" and price["format"] == "decimal"


def test_schema_lists_every_error_each_operation_can_answer(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths = schema["paths"]
    statuses = {
        (method.upper(), path): set(operation["responses"]) for path, item in paths.items() for method, operation in item.items()
    }
    assert statuses[("GET", "/api/products/")] == {"200", "400", "401", "403", "404", "406", "503"}
    assert statuses[("POST", "/api/products/")] == {"201", "400", "401", "403", "406", "413", "415", "503"}
    assert statuses[("DELETE", "/api/products/{id}/")] == {"204", "400", "401", "403", "404", "406", "503"}
    error = paths["/api/products/{id}/"]["patch"]["responses"]["404"]["content"]["application/json"]["schema"]
    assert error == {"$ref": "#/components/schemas/Error"}
    assert set(schema["components"]["schemas"]["Error"]["required"]) == {"detail", "code"}
    # JSON bodies only: the form parsers serve the browsable API's HTML forms.
    assert set(paths["/api/products/"]["post"]["requestBody"]["content"]) == {"application/json"}


def test_schema_states_the_enforced_input_rules(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    product = schema["components"]["schemas"]["ProductRequest"]["properties"]
    assert product["price"]["pattern"] == PRICE_PATTERN
    assert product["sku"]["pattern"].startswith("^[A-Za-z0-9]")
    assert product["name"]["pattern"] and product["name"]["minLength"] == 1
    assert product["is_active"] == {"type": "boolean"}
    parameters = {p["name"]: p["schema"] for p in schema["paths"]["/api/products/"]["get"]["parameters"]}
    assert parameters["ids"]["pattern"] == IDS_PATTERN
    assert parameters["page"]["minimum"] == 1 and parameters["page_size"] == {**parameters["page_size"], "minimum": 1, "maximum": 100}
