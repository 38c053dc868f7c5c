"""Who may read the catalogue, and what the listing and detail return."""
from decimal import Decimal

import pytest

from catalog import services
from catalog.models import Product

from .conftest import PRODUCTS_URL

pytestmark = pytest.mark.django_db

PRODUCT_KEYS = {"id", "sku", "name", "description", "price", "currency", "is_active", "created_at", "updated_at"}


def test_anonymous_reader_gets_401_with_a_bearer_challenge(api_client, make_product):
    product = make_product()
    for url in (PRODUCTS_URL, f"{PRODUCTS_URL}{product.id}/"):
        response = api_client.get(url)
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_forged_or_garbage_bearer_token_is_refused(api_client, make_product):
    make_product()
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")
    response = api_client.get(PRODUCTS_URL)
    assert response.status_code == 401
    assert set(response.json()) >= {"detail", "code"}


def test_signed_in_user_lists_products_as_a_page(user_client, make_product):
    make_product(sku="MUG-1", name="Mug", price=Decimal("19.99"), description="Blue", currency="EUR")
    body = user_client.get(PRODUCTS_URL).json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 1 and body["next"] is None and body["previous"] is None
    (item,) = body["results"]
    assert set(item) == PRODUCT_KEYS
    assert item["sku"] == "MUG-1" and item["name"] == "Mug" and item["description"] == "Blue"
    assert item["price"] == "19.99" and isinstance(item["price"], str)
    assert item["currency"] == "EUR" and item["is_active"] is True


def test_prices_always_have_two_places_as_strings(user_client, make_product):
    product = make_product(price=Decimal("5"))
    item = user_client.get(f"{PRODUCTS_URL}{product.id}/").json()
    assert item["price"] == "5.00"
    assert b'"price":"5.00"' in user_client.get(f"{PRODUCTS_URL}{product.id}/").content


def test_listing_is_paginated_by_20(user_client, make_product):
    for _ in range(25):
        make_product()
    first = user_client.get(PRODUCTS_URL).json()
    assert first["count"] == 25 and len(first["results"]) == 20 and first["next"]
    second = user_client.get(first["next"]).json()
    assert len(second["results"]) == 5 and second["previous"] and second["next"] is None
    assert len(user_client.get(PRODUCTS_URL, {"page_size": 5}).json()["results"]) == 5


def test_deactivated_products_are_not_listed_but_still_readable_by_id(user_client, make_product):
    kept = make_product(sku="KEEP")
    gone = services.product_deactivate(product=make_product(sku="GONE"))
    listed = [p["sku"] for p in user_client.get(PRODUCTS_URL).json()["results"]]
    assert listed == ["KEEP"]
    assert user_client.get(PRODUCTS_URL, {"ids": f"{kept.id},{gone.id}"}).json()["count"] == 1
    detail = user_client.get(f"{PRODUCTS_URL}{gone.id}/")
    assert detail.status_code == 200 and detail.json()["is_active"] is False


def test_detail_of_a_missing_product_is_a_json_404(user_client):
    response = user_client.get(f"{PRODUCTS_URL}999999/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found" and response.json()["detail"]


def test_detail_of_an_id_beyond_the_database_range_is_a_404_not_a_500(user_client):
    response = user_client.get(f"{PRODUCTS_URL}{10**30}/")
    assert response.status_code == 404


def test_ids_filter_returns_exactly_those_products(user_client, make_product):
    products = [make_product() for _ in range(5)]
    wanted = [products[0].id, products[3].id, products[4].id]
    body = user_client.get(PRODUCTS_URL, {"ids": ",".join(map(str, wanted))}).json()
    assert sorted(p["id"] for p in body["results"]) == wanted
    assert body["count"] == 3


def test_ids_filter_of_100_returns_all_of_them_on_one_page(user_client, make_product):
    Product.objects.bulk_create(
        Product(sku=f"BULK-{n}", name=f"Bulk {n}", price=Decimal("1.00")) for n in range(120)
    )
    ids = list(Product.objects.values_list("id", flat=True)[:100])
    body = user_client.get(PRODUCTS_URL, {"ids": ",".join(map(str, ids))}).json()
    assert body["count"] == 100 and len(body["results"]) == 100 and body["next"] is None


def test_listing_1000_products_by_100_ids_takes_a_bounded_number_of_queries(
    user_client, django_assert_max_num_queries
):
    Product.objects.bulk_create(
        Product(sku=f"BULK-{n:04d}", name=f"Bulk {n}", price=Decimal("3.50")) for n in range(1000)
    )
    ids = list(Product.objects.order_by("?").values_list("id", flat=True)[:100])
    with django_assert_max_num_queries(2):  # one COUNT, one SELECT: nothing per product
        response = user_client.get(PRODUCTS_URL, {"ids": ",".join(map(str, ids))})
    assert response.status_code == 200
    assert sorted(p["id"] for p in response.json()["results"]) == sorted(ids)


@pytest.mark.parametrize(
    "ids",
    ["abc", "1,,2", "1,a", "-1", "1,-2", "0", "1.5", "", " ", "1;2", "0x10", "١", "1" * 25, str(2**63),
     # As the schema's pattern says: no leading zeros, no spaces, at most 18 digits.
     "01", "1, 2", " 1", "1,", "1" * 19],
)
def test_a_bad_ids_list_is_a_400_naming_ids(user_client, make_product, ids):
    make_product()
    response = user_client.get(PRODUCTS_URL, {"ids": ids})
    assert response.status_code == 400
    body = response.json()
    assert body["detail"].startswith("ids: ") and body["code"] == "invalid"


def test_more_than_100_ids_is_a_400_naming_ids(user_client):
    response = user_client.get(PRODUCTS_URL, {"ids": ",".join(str(n) for n in range(1, 102))})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("ids: ") and response.json()["code"] == "too_many"


def test_exactly_100_ids_is_allowed_and_repeats_are_harmless(user_client, make_product):
    product = make_product()
    ids = ",".join([str(product.id)] * 50 + [str(n) for n in range(10**6, 10**6 + 50)])
    body = user_client.get(PRODUCTS_URL, {"ids": ids}).json()
    assert body["count"] == 1 and body["results"][0]["id"] == product.id


@pytest.mark.parametrize(
    "query",
    [{"page_size": "abc"}, {"page_size": "0"}, {"page_size": "-5"}, {"page_size": "101"}, {"page_size": ""},
     {"page_size": "1.0"}, {"page": "0"}, {"page": "last"}, {"page": ""}, {"page": "-1"}, {"ordering": ""},
     {"ordering": "sku"}],
)
def test_bad_paging_and_ordering_parameters_are_a_400_naming_them(user_client, make_product, query):
    make_product()
    response = user_client.get(PRODUCTS_URL, query)
    assert response.status_code == 400, response.content
    assert response.json()["detail"].startswith(f"{next(iter(query))}: ")


def test_a_page_past_the_end_is_a_404_and_the_largest_page_size_is_allowed(user_client, make_product):
    make_product()
    assert user_client.get(PRODUCTS_URL, {"page": "2"}).status_code == 404
    assert user_client.get(PRODUCTS_URL, {"page": "1", "page_size": "100"}).json()["count"] == 1


def test_search_matches_name_or_sku_case_insensitively(user_client, make_product):
    make_product(sku="TEA-GREEN", name="Sencha")
    make_product(sku="MUG-BLUE", name="Blue tea mug")
    make_product(sku="LAMP", name="Desk lamp")
    found = lambda text: sorted(p["sku"] for p in user_client.get(PRODUCTS_URL, {"search": text}).json()["results"])  # noqa: E731
    assert found("tea") == ["MUG-BLUE", "TEA-GREEN"]
    assert found("sencha") == ["TEA-GREEN"]
    assert found("lamp") == ["LAMP"]
    assert found("nothing-like-this") == []
    assert len(found("")) == 3


def test_search_with_a_nul_character_is_a_400_not_a_database_error(user_client):
    response = user_client.get(PRODUCTS_URL, {"search": "mug\x00"})
    assert response.status_code == 400 and response.json()["detail"].startswith("search: ")


def test_search_longer_than_200_characters_is_a_400(user_client):
    response = user_client.get(PRODUCTS_URL, {"search": "x" * 201})
    assert response.status_code == 400 and response.json()["detail"].startswith("search: ")


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("name", ["Apple", "Banana", "Cherry"]),
        ("-name", ["Cherry", "Banana", "Apple"]),
        ("price", ["Banana", "Cherry", "Apple"]),
        ("-price", ["Apple", "Cherry", "Banana"]),
    ],
)
def test_ordering_by_name_or_price(user_client, make_product, ordering, expected):
    make_product(name="Cherry", price=Decimal("5.00"))
    make_product(name="Apple", price=Decimal("100.00"))
    make_product(name="Banana", price=Decimal("0.50"))
    results = user_client.get(PRODUCTS_URL, {"ordering": ordering}).json()["results"]
    assert [p["name"] for p in results] == expected


@pytest.mark.parametrize("ordering", ["sku", "id; drop table", "-created_at", "description"])
def test_unknown_ordering_is_a_400_naming_ordering(user_client, ordering):
    response = user_client.get(PRODUCTS_URL, {"ordering": ordering})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("ordering: ") and response.json()["code"] == "invalid_choice"
