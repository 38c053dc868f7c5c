"""The query string is bound (qh): a token is good for the query it was signed for, byte for
byte, and for no other; a query without qh, or qh without a query, is refused.

Django's test client puts the query of the path into QUERY_STRING as written, so the bytes
here are the bytes a server would see (tests/e2e/test_query_binding.py does the same over HTTP).
"""
import pytest

from .conftest import PRODUCTS_URL

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_products(make_product):
    return [make_product(sku="Q-A").id, make_product(sku="Q-B").id]


def get(api_client, query, token):
    path = f"{PRODUCTS_URL}?{query}" if query is not None else PRODUCTS_URL
    return api_client.get(path, HTTP_X_MS_TOKEN=token)


def assert_mismatch(response):
    assert response.status_code == 401, response.content
    assert response.json()["code"] == "token_request_mismatch"
    assert response["WWW-Authenticate"] == "MS-Token"


def test_the_query_signed_is_the_query_accepted(api_client, service_token, two_products):
    query = f"ids={two_products[0]},{two_products[1]}&page_size=2"
    response = get(api_client, query, service_token(query=query))
    assert response.status_code == 200, response.content
    assert sorted(p["sku"] for p in response.json()["results"]) == ["Q-A", "Q-B"]


def test_a_qh_for_another_query_is_refused(api_client, service_token, two_products):
    signed = f"ids={two_products[0]}"
    assert_mismatch(get(api_client, f"ids={two_products[1]}", service_token(query=signed)))


def test_a_query_without_qh_is_refused(api_client, service_token, two_products):
    assert_mismatch(get(api_client, f"ids={two_products[0]}", service_token()))


def test_qh_without_a_query_is_refused(api_client, service_token, two_products):
    assert_mismatch(get(api_client, None, service_token(query=f"ids={two_products[0]}")))


def test_an_empty_query_is_no_query(api_client, service_token, two_products):
    """``/api/products/?`` sends an empty QUERY_STRING: no query, so no qh."""
    assert get(api_client, "", service_token()).status_code == 200
    assert_mismatch(get(api_client, "", service_token(query="x=1")))


def test_reordered_parameters_are_another_query(api_client, service_token, two_products):
    signed = f"ids={two_products[0]}&page_size=2"
    assert_mismatch(get(api_client, f"page_size=2&ids={two_products[0]}", service_token(query=signed)))


def test_an_added_parameter_is_another_query(api_client, service_token, two_products):
    signed = f"ids={two_products[0]}"
    assert_mismatch(get(api_client, f"{signed}&ids={two_products[1]}", service_token(query=signed)))
    assert_mismatch(get(api_client, f"{signed}&search=x", service_token(query=signed)))


@pytest.mark.parametrize(
    ("signed", "sent"),
    [
        ("ids=1%2C2", "ids=1,2"),  # what requests sends for params={"ids": "1,2"}, and the plain comma
        ("ids=1,2", "ids=1%2C2"),
        ("ids=1%2C2", "ids=1%2c2"),  # the same byte, hex in lower case
        ("search=a+b", "search=a%20b"),  # two spellings of a space
        ("search=%41", "search=A"),  # an unreserved character, needlessly encoded
    ],
)
def test_percent_encoding_variants_of_one_query_are_different_queries(api_client, service_token, signed, sent):
    """Django decodes each pair to the same parameters, but the bytes differ: qh is of the bytes."""
    assert_mismatch(get(api_client, sent, service_token(query=signed)))
    assert get(api_client, signed, service_token(query=signed)).status_code == 200
