"""The user service's keys and its users' tokens: a routine rotation logs nobody out (a refresh
token signed by the replaced key still refreshes and logs out a day later, though that key is no
longer published), and a revoked key's tokens (access and refresh) are refused within 5 s."""
import time
from io import StringIO

import jwt
import pytest
from django.core.management import call_command
from ms_token.keys import RETENTION_SECONDS, clear_key_cache, create_key, load_key_ring
from ms_token.testing import ManualClock, own_keys_clock
from service_kit.user_auth import refresh_token_backend

from accounts.tokens import ShopRefreshToken
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

DAY = 86_400


def _refresh(client, token):
    return client.post("/api/auth/refresh/", {"refresh": token}, format="json")


def _logout(client, token):
    return client.post("/api/auth/logout/", {"refresh": token}, format="json")


def _kid(token):
    return jwt.get_unverified_header(token)["kid"]


@pytest.fixture
def keys_dir(settings, tmp_path):
    """The user service on keys of its own under tmp_path."""
    settings.MS_TOKEN = {**settings.MS_TOKEN, "KEYS_DIR": tmp_path}
    yield tmp_path
    clear_key_cache()


def refresh_token_of(user, *, key, issued_at):
    """A refresh token for ``user`` as the user service issued it at ``issued_at``, with ``key``."""
    token = ShopRefreshToken.for_user(user)
    token["iat"], token["exp"] = issued_at, issued_at + DAY
    return refresh_token_backend.encode_with(token.payload, key)


@pytest.fixture
def rotated_a_day_ago(keys_dir):
    """The old key, replaced a day ago (so long unpublished), and the key that replaced it."""
    now = int(time.time())
    old = create_key("user", keys_dir, now=now - 2 * DAY)
    new = create_key("user", keys_dir, now=now - DAY)
    return old, new


def test_refresh_works_a_day_after_a_rotation_with_a_token_of_the_replaced_key(api_client, alice, rotated_a_day_ago):
    old, new = rotated_a_day_ago
    refresh = refresh_token_of(alice, key=old, issued_at=int(time.time()) - DAY + 60)  # just before it
    assert old.kid not in [key["kid"] for key in api_client.get("/.well-known/jwks.json").json()["keys"]]
    response = _refresh(api_client, refresh)
    assert response.status_code == 200, response.content
    pair = response.json()
    assert _kid(pair["access"]) == _kid(pair["refresh"]) == new.kid  # signed by the new key
    me = api_client.get("/api/users/me/", HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    assert me.status_code == 200


def test_logout_works_a_day_after_a_rotation_with_a_token_of_the_replaced_key(api_client, alice, rotated_a_day_ago):
    old, _ = rotated_a_day_ago
    refresh = refresh_token_of(alice, key=old, issued_at=int(time.time()) - DAY + 60)
    assert _logout(api_client, refresh).status_code == 205
    assert_error(_refresh(api_client, refresh), 401, "token_not_valid")


def test_a_replaced_key_verifies_nothing_once_every_refresh_token_it_signed_has_expired(api_client, alice, keys_dir):
    now = int(time.time())
    old = create_key("user", keys_dir, now=now - 3 * DAY)
    create_key("user", keys_dir, now=now - DAY - 2 * RETENTION_SECONDS)  # replaced it over a day ago
    forged = refresh_token_of(alice, key=old, issued_at=now - 60)  # someone who found the old key
    assert_error(_refresh(api_client, forged), 401, "token_not_valid")


def test_an_access_token_of_a_replaced_key_is_refused_once_the_key_is_unpublished(api_client, alice, rotated_a_day_ago):
    # Access tokens are verified by every service against the published keys, here too.
    old, _ = rotated_a_day_ago
    token = ShopRefreshToken.for_user(alice).access_token
    stale = refresh_token_backend.encode_with({**token.payload}, old)
    assert api_client.get("/api/users/me/", HTTP_AUTHORIZATION=f"Bearer {stale}").status_code == 401


def test_a_revoked_key_s_access_and_refresh_tokens_are_refused_within_5_s(api_client, alice, login, keys_dir):
    create_key("user", keys_dir, now=int(time.time()) - 3600)
    clock = ManualClock()
    with own_keys_clock(clock):
        tokens, other = login("alice").json(), login("alice").json()
        kid = _kid(tokens["access"])
        bearer = {"HTTP_AUTHORIZATION": f"Bearer {tokens['access']}"}
        assert api_client.get("/api/users/me/", **bearer).status_code == 200
        out = StringIO()
        call_command("ms_token_keys", "--revoke", kid, stdout=out)
        assert f"revoked {kid}" in out.getvalue()
        clock.advance(5)
        assert api_client.get("/api/users/me/", **bearer).status_code == 401
        assert_error(_refresh(api_client, tokens["refresh"]), 401, "token_not_valid")
        assert_error(_logout(api_client, other["refresh"]), 401, "token_not_valid")
        # Logging in again works at once, with the key made to replace it.
        fresh = login("alice").json()
        assert _kid(fresh["access"]) == load_key_ring("user", keys_dir).signing_key.kid != kid
        assert api_client.get("/api/users/me/", HTTP_AUTHORIZATION=f"Bearer {fresh['access']}").status_code == 200
