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


def test_the_admin_currency_filter_lists_the_currencies_of_bills_only(admin_client, stored_bill):
    import re

    Bill.objects.create(user_id=8, total=Decimal("5.00"), currency="EUR")
    page = admin_client.get("/admin/bills/bill/").content.decode()
    assert set(re.findall(r'href="\?currency(?:__exact)?=([A-Z]{3})"', page)) == {"EUR", "USD"}


def test_seed_demo_makes_the_admin_login_it_prints(client, db, monkeypatch, settings):
    from io import StringIO

    from django.core.management.base import CommandError

    settings.DEBUG = True  # `make up`'s debug mode: the published password is accepted
    monkeypatch.delenv("DEMO_ADMIN_PASSWORD", raising=False)
    url = settings.MS_TOKEN["SERVICE_URLS"]["billing"]
    for _ in range(2):  # again: nothing doubles, the login still works
        out = StringIO()
        call_command("seed_demo", stdout=out)
        assert out.getvalue().strip() == f"billing: admin login admin / admin-demo-2026! at {url}/admin/"
    assert get_user_model().objects.filter(username="admin").count() == 1
    assert client.login(username="admin", password="admin-demo-2026!")
    assert client.get("/admin/bills/bill/").status_code == 200

    settings.DEBUG = False  # the published password is refused; a given one is taken
    with pytest.raises(CommandError, match="DEMO_ADMIN_PASSWORD"):
        call_command("seed_demo", stdout=StringIO())
    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", "billing-secret-2026")
    call_command("seed_demo", stdout=StringIO())
    assert client.login(username="admin", password="billing-secret-2026")
