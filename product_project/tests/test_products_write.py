"""Who may change the catalogue, and which input is refused (always a 400, never a 500)."""
import json
from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from rest_framework import serializers

from catalog import services
from catalog.models import Product

from .conftest import PRODUCTS_URL

pytestmark = pytest.mark.django_db

VALID = {"sku": "TEE-1", "name": "T-shirt", "description": "Cotton", "price": "19.99", "currency": "EUR"}


def post_json(client, body, url=PRODUCTS_URL, method="post"):
    """Sends ``body`` as raw JSON text, so tests can send what a JSON encoder never would."""
    raw = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return getattr(client, method)(url, data=raw, content_type="application/json")


def assert_400_naming(response, field, code=None):
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["detail"].startswith(f"{field}: "), body
    if code:
        assert body["code"] == code, body


# --- who may write -------------------------------------------------------------------------

def test_staff_creates_a_product(staff_client):
    response = post_json(staff_client, VALID)
    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in VALID} == VALID
    assert body["is_active"] is True and body["id"] and body["created_at"] and body["updated_at"]
    product = Product.objects.get(pk=body["id"])
    assert product.price == Decimal("19.99") and product.currency == "EUR"


def test_currency_defaults_to_usd_and_description_to_empty(staff_client):
    response = post_json(staff_client, {"sku": "A1", "name": "A", "price": "1.00"})
    assert response.status_code == 201
    assert response.json()["currency"] == "USD" and response.json()["description"] == ""


def test_a_signed_in_non_staff_user_may_not_write(user_client, make_product):
    product = make_product()
    url = f"{PRODUCTS_URL}{product.id}/"
    assert post_json(user_client, VALID).status_code == 403
    assert post_json(user_client, VALID, url, "put").status_code == 403
    assert post_json(user_client, {"name": "x"}, url, "patch").status_code == 403
    response = user_client.delete(url)
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    product.refresh_from_db()
    assert product.is_active and product.name != "x"
    assert not Product.objects.filter(sku=VALID["sku"]).exists()


def test_anonymous_writes_are_401(api_client, make_product):
    product = make_product()
    assert post_json(api_client, VALID).status_code == 401
    assert api_client.delete(f"{PRODUCTS_URL}{product.id}/").status_code == 401
    assert Product.objects.count() == 1


def test_staff_replaces_a_product_with_put(staff_client, make_product):
    product = make_product(sku="OLD", name="Old", price=Decimal("1.00"))
    response = post_json(staff_client, {**VALID, "sku": "NEW"}, f"{PRODUCTS_URL}{product.id}/", "put")
    assert response.status_code == 200
    product.refresh_from_db()
    assert (product.sku, product.name, product.price, product.currency) == ("NEW", "T-shirt", Decimal("19.99"), "EUR")


def test_put_needs_every_required_field(staff_client, make_product):
    product = make_product()
    response = post_json(staff_client, {"name": "Only a name"}, f"{PRODUCTS_URL}{product.id}/", "put")
    assert response.status_code == 400 and response.json()["code"] == "required"


def test_staff_changes_one_field_with_patch(staff_client, make_product):
    product = make_product(name="Mug", price=Decimal("5.00"))
    response = post_json(staff_client, {"price": "6.50"}, f"{PRODUCTS_URL}{product.id}/", "patch")
    assert response.status_code == 200 and response.json()["price"] == "6.50"
    product.refresh_from_db()
    assert product.price == Decimal("6.50") and product.name == "Mug"


def test_edits_of_different_fields_from_stale_copies_both_hold(make_product):
    """Two PATCHes served at once each read the product, then write: each writes only its own
    fields, so neither undoes the other, and neither brings back a product deactivated meanwhile."""
    product = make_product(name="Mug", price=Decimal("5.00"))
    first, second, third = (Product.objects.get(pk=product.pk) for _ in range(3))
    services.product_update(product=first, changes={"name": "Big mug"})
    services.product_update(product=second, changes={"price": Decimal("6.50")})
    services.product_deactivate(product=Product.objects.get(pk=product.pk))
    services.product_update(product=third, changes={"description": "Blue"})
    product.refresh_from_db()
    assert (product.name, product.price, product.description) == ("Big mug", Decimal("6.50"), "Blue")
    assert product.is_active is False


def test_patch_may_keep_its_own_sku(staff_client, make_product):
    product = make_product(sku="SAME")
    response = post_json(staff_client, {"sku": "SAME", "name": "Renamed"}, f"{PRODUCTS_URL}{product.id}/", "patch")
    assert response.status_code == 200 and response.json()["name"] == "Renamed"


def test_read_only_fields_in_the_input_are_ignored(staff_client, make_product):
    product = make_product()
    response = post_json(
        staff_client, {"id": 999, "created_at": "2000-01-01T00:00:00Z"}, f"{PRODUCTS_URL}{product.id}/", "patch"
    )
    assert response.status_code == 200 and response.json()["id"] == product.id
    assert not response.json()["created_at"].startswith("2000")


def test_delete_is_a_soft_delete(staff_client, user_client, make_product):
    product = make_product()
    url = f"{PRODUCTS_URL}{product.id}/"
    response = staff_client.delete(url)
    assert response.status_code == 204
    product.refresh_from_db()
    assert product.is_active is False
    assert user_client.get(PRODUCTS_URL).json()["count"] == 0
    assert staff_client.delete(url).status_code == 204  # deleting twice changes nothing
    assert staff_client.delete(f"{PRODUCTS_URL}999999/").status_code == 404


def test_staff_may_reactivate_a_deleted_product(staff_client, user_client, make_product):
    product = services.product_deactivate(product=make_product())
    response = post_json(staff_client, {"is_active": True}, f"{PRODUCTS_URL}{product.id}/", "patch")
    assert response.status_code == 200
    assert user_client.get(PRODUCTS_URL).json()["count"] == 1


# --- bad input -----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("price", "code"),
    [
        ("-1.00", "invalid"),
        ("0", "min_value"),
        ("0.00", "min_value"),
        ("0.001", "max_decimal_places"),
        ("19.999", "max_decimal_places"),
        ("abc", "invalid"),
        ("", "invalid"),
        ("NaN", "invalid"),
        ("Infinity", "invalid"),
        ("-Infinity", "invalid"),
        ("1e400", "invalid"),
        ("10000000000.00", "max_digits"),
        (None, "null"),
        (True, "not_a_string"),
        ([1], "not_a_string"),
        ({"amount": 1}, "not_a_string"),
        # Decimal() reads all of these; the contract's prices are ASCII digits only.
        ("１２.５０", "invalid"),
        ("٣.٥٠", "invalid"),
        ("1_000.00", "invalid"),
        ("1e3", "invalid"),
        ("+12.50", "invalid"),
        (" 12.50 ", "invalid"),
        ("12.", "invalid"),
        (".5", "invalid"),
        ("12,50", "invalid"),
    ],
)
def test_bad_prices_are_a_400_naming_price(staff_client, price, code):
    response = post_json(staff_client, {**VALID, "price": price})
    assert_400_naming(response, "price", code)
    assert not Product.objects.exists()


@pytest.mark.parametrize("raw_price", ["19.99", "20", "0.1", "1e2", "1e400", "-5", "19.999999999999999999"])
def test_json_number_prices_are_a_400_naming_price(staff_client, raw_price):
    """A price is a decimal string (the contract): a JSON number is refused, never rounded."""
    raw = '{"sku": "N1", "name": "N", "price": %s}' % raw_price
    assert_400_naming(post_json(staff_client, raw), "price", "not_a_string")
    assert not Product.objects.exists()


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_json_constants_are_a_400(staff_client, constant):
    response = post_json(staff_client, '{"sku": "N1", "name": "N", "price": %s}' % constant)
    assert response.status_code == 400 and response.json()["code"] == "parse_error"


@pytest.mark.parametrize(
    ("price", "stored"),
    [("12", "12.00"), ("12.5", "12.50"), ("12.50", "12.50"), ("0.01", "0.01"), ("012.50", "12.50"),
     ("9999999999.99", "9999999999.99")],
)
def test_decimal_string_prices_are_read_exactly(staff_client, price, stored):
    response = post_json(staff_client, {**VALID, "price": price})
    assert response.status_code == 201 and response.json()["price"] == stored
    assert Product.objects.get(sku=VALID["sku"]).price == Decimal(stored)


def test_the_schema_price_pattern_is_the_one_enforced():
    """What the OpenAPI schema tells clients is what the field takes (schemathesis relies on it)."""
    import re

    from catalog.serializers import PRICE_PATTERN, PriceField

    pattern = re.compile(PRICE_PATTERN)
    field = PriceField()
    for text in ["12", "12.5", "12.50", "0.01", "0.1", "00.10", "012", "9999999999.99", "0", "0.00", "0.0",
                 "-1", "12.", ".5", "12.505", "10000000000", "1e3", "１２", " 1", "1_0"]:
        try:
            field.run_validation(text)
            accepted = True
        except serializers.ValidationError:
            accepted = False
        assert accepted == bool(pattern.fullmatch(text)), text


@pytest.mark.parametrize("currency", ["XYZ", "usd", "US", "USDD", "", "XTS", 840, None])
def test_unknown_currency_codes_are_a_400_naming_currency(staff_client, currency):
    assert_400_naming(post_json(staff_client, {**VALID, "currency": currency}), "currency")


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("name", "n" * 10_000, "max_length"),
        ("name", "", "blank"),
        ("name", "nul\x00inside", "null_characters_not_allowed"),
        ("name", None, "null"),
        ("name", 123, "not_a_string"),
        ("name", ["a"], "not_a_string"),
        ("name", "lone \ud800 surrogate", "not_utf8"),
        ("sku", "s" * 65, "max_length"),
        ("sku", "has space", "invalid"),
        ("sku", 42, "not_a_string"),
        ("description", "d" * 5001, "max_length"),
        ("description", {"a": 1}, "not_a_string"),
        ("is_active", "maybe", "invalid"),
        ("is_active", [True], "invalid"),
        # JSON booleans only (the schema's "boolean"), not DRF's 1, "true" or "on".
        ("is_active", 0, "invalid"),
        ("is_active", "true", "invalid"),
        ("sku", " TEE-1", "invalid"),
        ("sku", "TEE-1 ", "invalid"),
        ("name", "   ", "blank"),
    ],
)
def test_bad_fields_are_a_400_naming_the_field(staff_client, field, value, code):
    assert_400_naming(post_json(staff_client, {**VALID, field: value}), field, code)
    assert not Product.objects.exists()


@pytest.mark.parametrize("missing", ["sku", "name", "price"])
def test_missing_required_fields_are_a_400_naming_them(staff_client, missing):
    body = {k: v for k, v in VALID.items() if k != missing}
    assert_400_naming(post_json(staff_client, body), missing, "required")


def test_bad_fields_on_patch_are_a_400_and_change_nothing(staff_client, make_product):
    product = make_product(name="Kept", price=Decimal("5.00"))
    url = f"{PRODUCTS_URL}{product.id}/"
    assert_400_naming(post_json(staff_client, {"name": "New", "price": "0.00"}, url, "patch"), "price", "min_value")
    product.refresh_from_db()
    assert product.name == "Kept" and product.price == Decimal("5.00")


@pytest.mark.parametrize("raw", ["{not json", '{"sku": "A", ', "", '"just a string"', "[]", '[{"sku": "A"}]', "null", "1" * 5000, "[" * 100_000])
def test_malformed_or_non_object_bodies_are_a_400(staff_client, raw):
    response = post_json(staff_client, raw)
    assert response.status_code == 400
    assert set(response.json()) >= {"detail", "code"}
    assert not Product.objects.exists()


def test_duplicate_sku_is_a_400_naming_sku(staff_client, make_product):
    make_product(sku="DUP")
    assert_400_naming(post_json(staff_client, {**VALID, "sku": "DUP"}), "sku", "unique")
    other = make_product(sku="OTHER")
    url = f"{PRODUCTS_URL}{other.id}/"
    assert_400_naming(post_json(staff_client, {"sku": "DUP"}, url, "patch"), "sku", "unique")


@pytest.mark.parametrize("spelling", ["dup", "Dup", "DUP"])
def test_skus_are_unique_ignoring_case(staff_client, make_product, spelling):
    make_product(sku="dUp")
    assert_400_naming(post_json(staff_client, {**VALID, "sku": spelling}), "sku", "unique")
    other = make_product(sku="OTHER")
    assert_400_naming(post_json(staff_client, {"sku": spelling}, f"{PRODUCTS_URL}{other.id}/", "patch"), "sku", "unique")
    assert Product.objects.filter(sku__iexact="dup").count() == 1


def test_a_product_may_change_the_case_of_its_own_sku(staff_client, make_product):
    product = make_product(sku="mug-1")
    response = post_json(staff_client, {"sku": "MUG-1"}, f"{PRODUCTS_URL}{product.id}/", "patch")
    assert response.status_code == 200 and response.json()["sku"] == "MUG-1"


def test_the_database_itself_refuses_a_sku_differing_only_in_case(db):
    Product.objects.create(sku="case-1", name="A", price=Decimal("1.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.create(sku="CASE-1", name="B", price=Decimal("1.00"))
    assert Product.objects.count() == 1


def test_duplicate_sku_under_a_race_is_still_a_400(staff_client, make_product):
    """Both writers pass the uniqueness checks before either inserts; the database decides."""
    make_product(sku="RACE")
    # The serializer has no UniqueValidator on sku; the service's _check_sku_free is the one check.
    # The spy proves both 400s come from the IntegrityError path, not from some earlier check.
    with mock.patch.object(services, "_check_sku_free", return_value=None), \
            mock.patch.object(services, "_duplicate_sku_error", wraps=services._duplicate_sku_error) as lost:
        response = post_json(staff_client, {**VALID, "sku": "RACE"})
        assert_400_naming(response, "sku", "unique")
        other = make_product(sku="RACE-2")
        patched = post_json(staff_client, {"sku": "race"}, f"{PRODUCTS_URL}{other.id}/", "patch")
        assert_400_naming(patched, "sku", "unique")
    assert lost.call_count == 2
    assert Product.objects.filter(sku__iexact="RACE").count() == 1


def test_the_service_turns_a_lost_sku_race_into_a_validation_error(make_product):
    make_product(sku="RACE")
    with mock.patch.object(services, "_check_sku_free", return_value=None):
        with pytest.raises(ValidationError) as caught:
            services.product_create(sku="RACE", name="Second", price=Decimal("1.00"))
    assert caught.value.error_dict["sku"][0].code == "unique"
    assert isinstance(caught.value.__cause__, IntegrityError)


def test_the_database_itself_refuses_a_price_that_is_not_positive(db):
    for price in (Decimal("0.00"), Decimal("-3.00")):
        with pytest.raises(IntegrityError), transaction.atomic():
            Product.objects.create(sku=f"RAW{price}", name="Raw", price=price)
    assert not Product.objects.exists()


def test_the_service_validates_whatever_the_caller_checked(db):
    with pytest.raises(ValidationError) as caught:
        services.product_create(sku="S", name="S", price=Decimal("0"), currency="XYZ")
    assert set(caught.value.error_dict) == {"price", "currency"}
    with pytest.raises(ValueError):
        services.product_update(product=services.product_create(sku="T", name="T", price=Decimal("1")), changes={"id": 5})
