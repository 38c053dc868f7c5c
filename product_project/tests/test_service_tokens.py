"""Services read the catalogue with an X-MS-TOKEN carrying products:read, and nothing more."""
import json

import pytest

from catalog.models import Product
from service_kit.testing import make_user_token

from .conftest import PRODUCTS_URL

pytestmark = pytest.mark.django_db


def test_a_service_token_with_products_read_lists_products(api_client, service_token, make_product):
    wanted = [make_product(sku="A").id, make_product(sku="B").id]
    make_product(sku="C")
    query = "ids=" + ",".join(map(str, wanted))
    response = api_client.get(
        f"{PRODUCTS_URL}?{query}", HTTP_X_MS_TOKEN=service_token("products:read", query=query)
    )
    assert response.status_code == 200, response.content
    assert sorted(p["sku"] for p in response.json()["results"]) == ["A", "B"]


def test_a_service_token_with_products_read_reads_one_product(api_client, service_token, make_product):
    product = make_product(sku="ONE")
    path = f"{PRODUCTS_URL}{product.id}/"
    response = api_client.get(path, HTTP_X_MS_TOKEN=service_token("products:read", path=path))
    assert response.status_code == 200 and response.json()["sku"] == "ONE"


def test_a_service_token_without_the_scope_is_403_insufficient_scope(api_client, service_token, make_product):
    make_product()
    for scope in ("", "users:read"):
        response = api_client.get(PRODUCTS_URL, HTTP_X_MS_TOKEN=service_token(scope))
        assert response.status_code == 403, response.content
        assert response.json()["code"] == "insufficient_scope"


def test_a_service_token_may_not_write(api_client, service_token):
    body = json.dumps({"sku": "SVC", "name": "From a service", "price": "1.00"}).encode()
    token = service_token("products:read", method="POST", body=body)
    response = api_client.post(PRODUCTS_URL, data=body, content_type="application/json", HTTP_X_MS_TOKEN=token)
    assert response.status_code == 403
    assert not Product.objects.filter(sku="SVC").exists()


def test_a_service_token_is_single_use(api_client, service_token, make_product):
    make_product()
    token = service_token("products:read")
    assert api_client.get(PRODUCTS_URL, HTTP_X_MS_TOKEN=token).status_code == 200
    replayed = api_client.get(PRODUCTS_URL, HTTP_X_MS_TOKEN=token)
    assert replayed.status_code == 401 and replayed.json()["code"] == "token_replayed"


def test_a_service_token_for_another_path_is_refused(api_client, service_token, make_product):
    product = make_product()
    response = api_client.get(f"{PRODUCTS_URL}{product.id}/", HTTP_X_MS_TOKEN=service_token("products:read"))
    assert response.status_code == 401 and response.json()["code"] == "token_request_mismatch"


def test_a_user_token_sent_as_x_ms_token_is_401(api_client, make_product):
    make_product()
    user_token = make_user_token(user_id=7, username="alice", is_staff=True)
    response = api_client.get(PRODUCTS_URL, HTTP_X_MS_TOKEN=user_token)
    assert response.status_code == 401
    assert response.json()["code"] == "token_invalid"
    assert response["WWW-Authenticate"].startswith("MS-Token")


def test_a_service_token_sent_as_bearer_is_401(api_client, service_token, make_product):
    make_product()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {service_token('products:read')}")
    response = api_client.get(PRODUCTS_URL)
    assert response.status_code == 401


def test_a_service_product_does_not_trust_is_refused(api_client, service_token, make_product):
    from service_kit.testing import preload_peer_keys

    preload_peer_keys("user")
    make_product()
    response = api_client.get(PRODUCTS_URL, HTTP_X_MS_TOKEN=service_token("products:read", issuer="user"))
    assert response.status_code == 401 and response.json()["code"] == "untrusted_issuer"
