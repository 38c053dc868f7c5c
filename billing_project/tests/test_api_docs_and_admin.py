"""The API's index and schema, and the read-mostly admin."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from bills.models import IDEMPOTENCY_KEY_MAX_LENGTH, MAX_LINES_PER_BILL, Bill, BillItem, Delivery, IdempotencyRecord
from service_kit.urls import MAX_LISTED_ID


def test_the_schema_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = target.read_text()
    for path in ("/api/bills/:", "/api/bills/{id}/:", "/api/bills/{id}/delivery/:"):
        assert path in schema
    assert "Idempotency-Key" in schema


def test_the_schema_states_the_bill_rules_and_every_error(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    items = schema["components"]["schemas"]["BillCreateRequest"]["properties"]["items"]
    assert items["minItems"] == 1 and items["maxItems"] == MAX_LINES_PER_BILL
    line = schema["components"]["schemas"]["BillLineInputRequest"]["properties"]
    assert line["product_id"]["minimum"] == 1 and line["product_id"]["maximum"] == MAX_LISTED_ID
    create = schema["paths"]["/api/bills/"]["post"]
    key = next(p for p in create["parameters"] if p["name"] == "Idempotency-Key")["schema"]
    assert key["maxLength"] == IDEMPOTENCY_KEY_MAX_LENGTH and key["pattern"]
    assert set(create["responses"]) == {"200", "201", "400", "401", "403", "406", "409", "413", "415", "422", "503"}
    delivery = schema["paths"]["/api/bills/{id}/delivery/"]["post"]["responses"]
    assert set(delivery) >= {"200", "201", "400", "401", "403", "404", "503"}


def test_the_api_root_lists_bills(api_client):
    response = api_client.get("/api/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response.json()["bills"].endswith("/api/bills/")


def test_the_api_root_renders_in_a_browser(api_client):
    response = api_client.get("/api/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200 and b"/api/bills/" in response.content


@pytest.fixture
def admin_client(client, db):
    admin = get_user_model().objects.create_superuser("admin", "admin@example.com", "pw-for-tests-only")
    client.force_login(admin)
    return client


@pytest.fixture
def stored_bill(db):
    bill = Bill.objects.create(user_id=7, total=Decimal("39.98"), currency="USD")
    BillItem.objects.create(
        bill=bill,
        product_id=1,
        sku="KB-1",
        name="Keyboard",
        unit_price=Decimal("19.99"),
        quantity=2,
        line_total=Decimal("39.98"),
    )
    Delivery.objects.create(bill=bill, shipping_address="1 Main St", tracking_code="TRK-TEST")
    IdempotencyRecord.objects.create(user_id=7, key="k", fingerprint="f" * 64, state="done", bill=bill)
    return bill


@pytest.mark.parametrize("model", ["bill", "delivery", "idempotencyrecord"])
def test_the_admin_lists_and_shows_but_does_not_add(admin_client, stored_bill, model):
    changelist = admin_client.get(f"/admin/bills/{model}/")
    assert changelist.status_code == 200
    assert admin_client.get(f"/admin/bills/{model}/add/").status_code == 403
    pk = {"bill": stored_bill.pk, "delivery": stored_bill.delivery.pk}.get(
        model, IdempotencyRecord.objects.get().pk
    )
    detail = admin_client.get(f"/admin/bills/{model}/{pk}/change/")
    assert detail.status_code == 200


def test_the_admin_cannot_edit_a_bill(admin_client, stored_bill):
    response = admin_client.post(
        f"/admin/bills/bill/{stored_bill.pk}/change/", {"total": "0.01", "currency": "EUR", "user_id": 1}
    )
    assert response.status_code == 403
    stored_bill.refresh_from_db()
    assert (
        stored_bill.total == Decimal("39.98")
        and b"Keyboard" in admin_client.get(f"/admin/bills/bill/{stored_bill.pk}/change/").content
    )
