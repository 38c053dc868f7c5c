"""Product trusts the user service's keys for a bounded time: its JWKS (a real HTTP server) is
refetched at least as often as its Cache-Control says, so a staff token of a key the user
service withdrew is refused within the bound; when that JWKS cannot be had, the keys last
fetched serve for the outage grace, then user tokens get 503."""
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from ms_token.jwks import JWKS_MAX_AGE, clear_remote_key_sets, remote_key_set
from ms_token.keys import SigningKey, load_key_ring
from ms_token.testing import FakePeer, ManualClock

from tests.conftest import PRODUCTS_URL, bearer_client

pytestmark = pytest.mark.django_db

STALE_WINDOW = 20  # MS_TOKEN["JWKS_STALE_WHILE_REFRESHING"]'s default
NEW_PRODUCT = {"sku": "KEY-1", "name": "Key", "price": "1.00"}


@pytest.fixture
def user_service(settings):
    """The user service's JWKS, publishing the test user key with our JWKS's Cache-Control;
    product has none of its keys cached, and its key set runs on ``user_service.clock``."""
    with FakePeer("user", key=load_key_ring("user").signing_key,
                  jwks_cache_control=f"public, max-age={JWKS_MAX_AGE}") as peer:
        settings.MS_TOKEN = {**settings.MS_TOKEN, "JWKS_URLS": {"user": peer.jwks_url}}
        clear_remote_key_sets()
        peer.clock = remote_key_set("user").clock = ManualClock()
        yield peer
    clear_remote_key_sets()


def test_a_staff_token_of_a_key_the_user_service_withdrew_is_refused_within_the_bound(user_service):
    staff = bearer_client(user_id=1, username="carol", is_staff=True)
    assert staff.post(PRODUCTS_URL, NEW_PRODUCT, format="json").status_code == 201
    user_service.published = [SigningKey("user-replacement", Ed25519PrivateKey.generate(), int(time.time()))]
    user_service.clock.advance(JWKS_MAX_AGE + STALE_WINDOW)
    response = staff.post(PRODUCTS_URL, {**NEW_PRODUCT, "sku": "KEY-2"}, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"
    assert user_service.jwks_hits == 2


def test_user_tokens_ride_out_a_user_service_outage_for_the_grace_then_get_503(user_service):
    shopper = bearer_client(user_id=7, username="alice", is_staff=False)
    assert shopper.get(PRODUCTS_URL).status_code == 200
    user_service.jwks_status = 503
    user_service.clock.advance(599)
    assert shopper.get(PRODUCTS_URL).status_code == 200  # the keys fetched 599 s ago
    user_service.clock.advance(1)
    response = shopper.get(PRODUCTS_URL)
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
