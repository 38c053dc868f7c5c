"""The query string is bound (qh, issue 15), against the running product service under gunicorn:
the token is good for the query bytes it was signed for and no others. Requests go out through
http.client, so every byte of the request target is the test's own (requests and urllib3 would
normalise percent-encodings)."""
from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import pytest

import forge
from tokens import library_token, token_service_token

PATH = "/api/products/"


def raw_get(shop, target: str, token: str) -> tuple[int, dict]:
    address = urlsplit(shop.url("product"))
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    try:
        connection.putrequest("GET", target)
        connection.putheader("X-MS-TOKEN", token)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def signed_for(shop, query: str | None) -> str:
    """billing's token for GET /api/products/ with exactly ``query`` (None: no query)."""
    return library_token(shop, method="GET", path=PATH + (f"?{query}" if query is not None else ""))


def assert_mismatch(answer):
    status, body = answer
    assert (status, body.get("code")) == (401, "token_request_mismatch"), answer


@pytest.fixture(scope="module")
def products(shop, staff):
    from helpers import create_product

    return [create_product(shop, staff)["id"], create_product(shop, staff)["id"]]


def test_the_query_signed_is_the_query_accepted(shop, products):
    query = f"ids={products[0]},{products[1]}"
    status, body = raw_get(shop, f"{PATH}?{query}", signed_for(shop, query))
    assert status == 200, body
    assert sorted(p["id"] for p in body["results"]) == sorted(products)


def test_a_token_service_token_binds_the_query_too(shop, products):
    query = f"ids={products[0]}"
    token = token_service_token(shop, method="GET", path=f"{PATH}?{query}")
    assert raw_get(shop, f"{PATH}?{query}", token)[0] == 200
    token = token_service_token(shop, method="GET", path=f"{PATH}?{query}")
    assert_mismatch(raw_get(shop, f"{PATH}?ids={products[1]}", token))


def test_a_qh_for_another_query(shop, products):
    assert_mismatch(raw_get(shop, f"{PATH}?ids={products[1]}", signed_for(shop, f"ids={products[0]}")))


def test_a_query_without_qh(shop, products):
    assert_mismatch(raw_get(shop, f"{PATH}?ids={products[0]}", signed_for(shop, None)))


def test_qh_without_a_query(shop, products):
    assert_mismatch(raw_get(shop, PATH, signed_for(shop, f"ids={products[0]}")))


def test_parameters_reordered(shop, products):
    signed = f"ids={products[0]}&page_size=5"
    assert_mismatch(raw_get(shop, f"{PATH}?page_size=5&ids={products[0]}", signed_for(shop, signed)))


def test_a_parameter_added(shop, products):
    signed = f"ids={products[0]}"
    assert_mismatch(raw_get(shop, f"{PATH}?{signed}&ids={products[1]}", signed_for(shop, signed)))
    assert_mismatch(raw_get(shop, f"{PATH}?{signed}&search=x", signed_for(shop, signed)))


@pytest.mark.parametrize(
    ("signed", "sent"),
    [("ids={a}%2C{b}", "ids={a},{b}"), ("ids={a},{b}", "ids={a}%2C{b}"), ("ids={a}%2C{b}", "ids={a}%2c{b}"),
     ("search=a+b", "search=a%20b"), ("search=%41", "search=A")],
)
def test_percent_encoding_variants_of_the_same_query(shop, products, signed, sent):
    """Django reads each pair as the same parameters; the bytes differ, and qh is of the bytes."""
    signed, sent = (q.format(a=products[0], b=products[1]) for q in (signed, sent))
    assert_mismatch(raw_get(shop, f"{PATH}?{sent}", signed_for(shop, signed)))
    assert raw_get(shop, f"{PATH}?{signed}", signed_for(shop, signed))[0] == 200


def test_a_forged_qh_by_the_contract_alone_is_accepted(shop, products):
    """The contract's qh, computed here without the library: base64url(SHA-256(query))."""
    key = shop.signing_key("billing")
    query = f"ids={products[0]}"
    token = forge.token(key, qh=forge.body_hash(query.encode()))
    assert raw_get(shop, f"{PATH}?{query}", token)[0] == 200
