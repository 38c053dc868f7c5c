"""A local staff account works in a browser: Django admin and DRF's browsable API."""
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from catalog.models import Product

from .conftest import PRODUCTS_URL

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-local-password-1"


@pytest.fixture
def staff_browser(db):
    get_user_model().objects.create_user("keeper", password=PASSWORD, is_staff=True, is_superuser=True)
    browser = Client(enforce_csrf_checks=True)
    assert browser.login(username="keeper", password=PASSWORD)
    return browser


def csrf_token(browser, url):
    browser.get(url, HTTP_ACCEPT="text/html")
    return browser.cookies["csrftoken"].value


def test_browsable_api_lists_products_for_a_staff_session(staff_browser, make_product):
    make_product(name="Enamel mug")
    make_product(name="Desk lamp")
    response = staff_browser.get(PRODUCTS_URL, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "Enamel mug" in html and "Desk lamp" in html
    assert "<form" in html  # the staff user is offered the create form


def test_browsable_api_form_creates_a_product_with_the_session(staff_browser):
    token = csrf_token(staff_browser, PRODUCTS_URL)
    response = staff_browser.post(
        PRODUCTS_URL,
        {"sku": "FORM-1", "name": "From the form", "price": "7.25", "currency": "GBP", "is_active": "true"},
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 201, response.content
    assert Product.objects.get(sku="FORM-1").price == Decimal("7.25")


def test_a_session_write_without_csrf_is_refused(staff_browser):
    response = staff_browser.post(PRODUCTS_URL, {"sku": "NOCSRF", "name": "x", "price": "1.00"})
    assert response.status_code == 403
    assert not Product.objects.filter(sku="NOCSRF").exists()


def test_a_non_staff_session_may_read_but_not_write(db, make_product):
    get_user_model().objects.create_user("reader", password=PASSWORD)
    browser = Client()
    assert browser.login(username="reader", password=PASSWORD)
    make_product(name="Readable")
    assert browser.get(PRODUCTS_URL).status_code == 200
    assert browser.post(PRODUCTS_URL, {"sku": "X", "name": "x", "price": "1.00"}).status_code == 403


def test_api_root_renders_and_links_the_products(staff_browser, api_client):
    page = staff_browser.get("/api/", HTTP_ACCEPT="text/html")
    assert page.status_code == 200 and b"/api/products/" in page.content
    assert api_client.get("/api/").json()["products"].endswith("/api/products/")


def test_admin_changelist_searches_and_filters_products(staff_browser, make_product):
    make_product(sku="MUG-1", name="Enamel mug", currency="EUR")
    make_product(sku="LAMP-1", name="Desk lamp", is_active=False)
    changelist = "/admin/catalog/product/"
    page = staff_browser.get(changelist)
    assert page.status_code == 200
    assert b"Enamel mug" in page.content and b"Desk lamp" in page.content
    searched = staff_browser.get(changelist, {"q": "mug"}).content
    assert b"Enamel mug" in searched and b"Desk lamp" not in searched
    active = staff_browser.get(changelist, {"is_active__exact": "1"}).content
    assert b"Enamel mug" in active and b"Desk lamp" not in active
    in_euro = staff_browser.get(changelist, {"currency__exact": "EUR"}).content
    assert b"Enamel mug" in in_euro and b"Desk lamp" not in in_euro


def test_admin_currency_filter_lists_the_currencies_in_use_only(staff_browser, make_product):
    import re

    make_product(currency="EUR")
    make_product(currency="USD")
    make_product(currency="EUR", is_active=False)
    page = staff_browser.get("/admin/catalog/product/").content.decode()
    offered = set(re.findall(r'href="\?currency(?:__exact)?=([A-Z]{3})"', page))
    assert offered == {"EUR", "USD"}  # not the 150-odd ISO 4217 codes a price may be in
    assert "JPY" not in page


def test_admin_adds_and_deactivates_products(staff_browser, make_product):
    token = csrf_token(staff_browser, "/admin/catalog/product/add/")
    added = staff_browser.post(
        "/admin/catalog/product/add/",
        {"sku": "ADM-1", "name": "Added in admin", "description": "", "price": "3.00", "currency": "USD",
         "is_active": "on", "csrfmiddlewaretoken": token},
    )
    assert added.status_code == 302, added.content[:2000]
    product = Product.objects.get(sku="ADM-1")
    refused = staff_browser.post(
        "/admin/catalog/product/add/",
        {"sku": "ADM-2", "name": "Free", "price": "0", "currency": "USD", "csrfmiddlewaretoken": token},
    )
    assert refused.status_code == 200 and not Product.objects.filter(sku="ADM-2").exists()
    staff_browser.post(
        "/admin/catalog/product/",
        {"action": "deactivate", "_selected_action": [product.pk], "csrfmiddlewaretoken": token},
    )
    product.refresh_from_db()
    assert product.is_active is False


@pytest.mark.parametrize(
    ("sku", "price"), [("adm-1", "3.00"), ("ADM-1", "3.00"), ("ADM-2", "１２.５０"), ("ADM-2", "1e3"), ("ADM-2", "1_0")]
)
def test_admin_refuses_a_taken_sku_in_another_case_and_a_foreign_price(staff_browser, make_product, sku, price):
    make_product(sku="Adm-1")
    token = csrf_token(staff_browser, "/admin/catalog/product/add/")
    refused = staff_browser.post(
        "/admin/catalog/product/add/",
        {"sku": sku, "name": "Twin", "description": "", "price": price, "currency": "USD", "csrfmiddlewaretoken": token},
    )
    # The form again, with its error: not a 500 from the database's constraint.
    assert refused.status_code == 200 and b"errornote" in refused.content
    assert Product.objects.count() == 1


def test_admin_offers_no_hard_delete(staff_browser, make_product):
    product = make_product()
    assert staff_browser.get(f"/admin/catalog/product/{product.pk}/delete/").status_code == 403


def test_admin_requires_a_staff_login(api_client):
    response = Client().get("/admin/catalog/product/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.parametrize(
    "query, status", [("?ids=abc", 400), ("?ordering=nope", 400), ("?page=99", 404)]
)
def test_browsable_api_renders_bad_queries_as_errors_not_500(staff_browser, make_product, query, status):
    make_product()
    response = staff_browser.get(f"{PRODUCTS_URL}{query}", HTTP_ACCEPT="text/html")
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")


def test_browsable_api_renders_a_product_with_its_edit_form(staff_browser, make_product):
    product = make_product(name="Enamel mug")
    response = staff_browser.get(f"{PRODUCTS_URL}{product.id}/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b"Enamel mug" in response.content and b"PUT" in response.content
