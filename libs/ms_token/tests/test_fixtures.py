"""The pytest fixtures an adopting project gets from ``ms_token.fixtures``, used as it would."""
import pytest
import requests
from django.core.exceptions import ImproperlyConfigured

from ms_token.client import ServiceClient
from ms_token.testing import PeerRequest

from .conftest import SERVICE_PATH

pytestmark = pytest.mark.django_db


def test_a_fake_peer_is_trusted_and_its_tokens_are_accepted_once(client, fake_peer):
    invoices = fake_peer("invoices", scopes=["products:read"])
    token = invoices.mint(audience="product", scope="products:read", method="GET", path=SERVICE_PATH)
    first = client.get(SERVICE_PATH, HTTP_X_MS_TOKEN=token)
    assert first.status_code == 200 and first.json()["service"] == "invoices"
    again = client.get(SERVICE_PATH, HTTP_X_MS_TOKEN=token)
    assert again.status_code == 401 and again.json()["code"] == "token_replayed"
    assert invoices.jwks_hits == 1  # its key was fetched from its real JWKS URL


def test_a_fake_peer_not_trusted_is_refused(client, fake_peer):
    mallory = fake_peer("mallory")
    token = mallory.mint(audience="product", scope="products:read", method="GET", path=SERVICE_PATH)
    response = client.get(SERVICE_PATH, HTTP_X_MS_TOKEN=token)
    assert response.status_code == 401 and response.json()["code"] == "untrusted_issuer"


def test_a_fake_peer_answers_calls_and_records_them(fake_peer, ms_token_keys):
    def answer(request: PeerRequest):
        return 200, {"orders": [], "path": request.path}

    orders = fake_peer("orders", handler=answer)
    response = ServiceClient("orders").get("/api/orders/", scope="orders:read", params={"page": "2"})
    assert response.json() == {"orders": [], "path": "/api/orders/?page=2"}
    (received,) = orders.received
    assert received.headers["X-MS-TOKEN"].count(".") == 2
    assert requests.get(orders.jwks_url, timeout=5).json()["keys"][0]["kid"] == orders.key.kid


def test_the_keys_fixture_gives_this_service_a_fresh_key(ms_token_keys):
    from ms_token.keys import own_key_ring

    assert (ms_token_keys / "product").is_dir()
    assert own_key_ring().signing_key.kid.startswith("product-")
    assert [path.stem for path in (ms_token_keys / "product").glob("*.pem")] == [own_key_ring().signing_key.kid]


def test_the_fixtures_read_the_settings_through_ms_token_settings(settings, request):
    # A missing SERVICE_NAME is the library's clear error, not a KeyError of the raw dict.
    settings.MS_TOKEN = {key: value for key, value in settings.MS_TOKEN.items() if key != "SERVICE_NAME"}
    with pytest.raises(ImproperlyConfigured, match="SERVICE_NAME"):
        request.getfixturevalue("ms_token_keys")


def test_mint_as_binds_the_query_string_it_is_given(client, fake_peer):
    from ms_token.testing import mint_as

    invoices = fake_peer("invoices", scopes=["products:read"])

    def token(query):
        return mint_as(invoices.key, issuer="invoices", audience="product", scope="products:read",
                       method="GET", path=SERVICE_PATH, query=query)

    assert client.get(f"{SERVICE_PATH}?ids=1,2", HTTP_X_MS_TOKEN=token("ids=1,2")).status_code == 200
    other = client.get(f"{SERVICE_PATH}?ids=1,2", HTTP_X_MS_TOKEN=token("ids=3"))
    assert other.status_code == 401 and other.json()["code"] == "token_request_mismatch"
