"""The token service's admin: callers with their grants and switch, the read-only issuance record.
(TokenServiceTokenSource against real services: billing_project/tests/test_token_service_source.py.)"""
from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from service_tokens.models import IssuedServiceToken, ServiceCaller, ServiceGrant

pytestmark = pytest.mark.django_db


def test_the_admin_lists_callers_with_their_grants(admin_client):
    response = admin_client.get("/admin/service_tokens/servicecaller/")
    assert response.status_code == 200
    assert b"billing" in response.content and b"product: products:read" in response.content


def test_the_admin_switches_a_caller_off_with_the_action(admin_client):
    billing = ServiceCaller.objects.get(name="billing")
    response = admin_client.post(
        "/admin/service_tokens/servicecaller/",
        {"action": "disable", "_selected_action": [billing.pk]},
    )
    assert response.status_code == 302
    billing.refresh_from_db()
    assert not billing.is_enabled


def test_the_admin_edits_grants_inline(admin_client):
    billing = ServiceCaller.objects.get(name="billing")
    page = admin_client.get(f"/admin/service_tokens/servicecaller/{billing.pk}/change/")
    assert page.status_code == 200 and b'name="grants-0-scopes"' in page.content


def test_the_issuance_record_is_read_only(admin_client):
    IssuedServiceToken.objects.create(
        caller="billing", audience="product", scope="products:read", method="GET", path="/api/products/",
        jti="recorded-jti-000000001", assertion_jti="assertion-jti-0000001",
        issued_at="2026-01-01T00:00:00Z", expires_at="2026-01-01T00:00:30Z",
    )
    listing = admin_client.get("/admin/service_tokens/issuedservicetoken/")
    assert listing.status_code == 200 and b"recorded-jti-000000001" in listing.content
    assert admin_client.get("/admin/service_tokens/issuedservicetoken/add/").status_code == 403
    record = IssuedServiceToken.objects.get()
    delete = admin_client.post(f"/admin/service_tokens/issuedservicetoken/{record.pk}/delete/", {"post": "yes"})
    assert delete.status_code == 403 and IssuedServiceToken.objects.filter(pk=record.pk).exists()


@pytest.mark.parametrize("scopes", ["", "   ", 'products:"read"', "products:read service-tokens:request"])
def test_a_grant_with_bad_scopes_does_not_validate(scopes):
    grant = ServiceGrant(caller=ServiceCaller.objects.get(name="billing"), audience="billing", scopes=scopes)
    with pytest.raises(ValidationError) as error:
        grant.full_clean()
    assert "scopes" in error.value.message_dict


def test_a_grant_for_a_service_that_does_not_exist_does_not_validate():
    grant = ServiceGrant(caller=ServiceCaller.objects.get(name="billing"), audience="inventory", scopes="x:read")
    with pytest.raises(ValidationError) as error:
        grant.full_clean()
    assert "audience" in error.value.message_dict


@pytest.mark.parametrize("name", ["Billing", "", "billing service", "x" * 65])
def test_a_caller_name_must_be_a_service_name(name):
    with pytest.raises(ValidationError):
        ServiceCaller(name=name).full_clean()
