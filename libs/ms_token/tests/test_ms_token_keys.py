"""Key rotation and the issuer's JWKS, fetched from a real HTTP server (no peer preloaded)."""
import pytest

from ms_token.jwks import clear_remote_key_sets, remote_key_set
from ms_token.keys import create_key, load_key_ring

from .conftest import JWKSPeer, free_port, http_server

pytestmark = pytest.mark.django_db


@pytest.fixture
def billing_jwks(tmp_path, settings):
    """Billing publishes the keys under tmp_path at a real URL; product has none cached."""
    create_key("billing", tmp_path)
    with http_server(JWKSPeer, keys_dir=tmp_path, hits=0) as server:
        settings.MS_TOKEN = {**settings.MS_TOKEN, "JWKS_URLS": {"billing": f"{server.url}/.well-known/jwks.json"}}
        clear_remote_key_sets()
        yield server


def signed_by(make_token, keys_dir, *, newest=True):
    ring = load_key_ring("billing", keys_dir)
    key = ring.keys[-1] if newest else ring.keys[0]
    return make_token(header={"kid": key.kid}, key=key.private_key)


def test_keys_are_fetched_once_and_then_cached(call, make_token, billing_jwks):
    assert call(signed_by(make_token, billing_jwks.keys_dir)).status_code == 200
    assert call(signed_by(make_token, billing_jwks.keys_dir)).status_code == 200
    assert billing_jwks.hits == 1


def test_rotation_new_kid_refetches_once_and_old_tokens_still_pass(call, make_token, billing_jwks):
    old_token = signed_by(make_token, billing_jwks.keys_dir)
    assert call(signed_by(make_token, billing_jwks.keys_dir)).status_code == 200
    create_key("billing", billing_jwks.keys_dir)
    new_token = signed_by(make_token, billing_jwks.keys_dir)
    assert new_token.split(".")[0] != old_token.split(".")[0]
    # Within 30 s of the last fetch an unknown kid is not refetched (rate limit) ...
    assert call(new_token).json()["code"] == "token_invalid"
    assert billing_jwks.hits == 1
    # ... once 30 s have passed since that fetch, it is, once.
    remote_key_set("billing")._fetched_at -= 31
    new_token = signed_by(make_token, billing_jwks.keys_dir)
    assert call(new_token).status_code == 200
    assert billing_jwks.hits == 2  # the unknown kid made product refetch
    assert call(old_token).status_code == 200  # the old key is still published
    assert billing_jwks.hits == 2


def test_unknown_kids_refetch_at_most_once_per_interval(call, make_token, billing_jwks):
    assert call(signed_by(make_token, billing_jwks.keys_dir)).status_code == 200
    for kid in ("billing-1-unknown", "billing-2-unknown", "billing-3-unknown"):
        response = call(make_token(header={"kid": kid}))
        assert response.status_code == 401
        assert response.json()["code"] == "token_invalid"
    assert billing_jwks.hits == 1  # fetched at first sight; unknown kids within 30 s do not refetch


def test_issuer_keys_unreachable_means_503(call, make_token, settings):
    settings.MS_TOKEN = {**settings.MS_TOKEN, "JWKS_URLS": {"billing": f"http://127.0.0.1:{free_port()}/.well-known/jwks.json"}}
    clear_remote_key_sets()
    response = call(make_token())
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"


def test_the_keys_command_creates_a_key_once_then_rotates(settings, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    settings.MS_TOKEN = {**settings.MS_TOKEN, "KEYS_DIR": tmp_path}
    out = StringIO()
    call_command("ms_token_keys", stdout=out)
    call_command("ms_token_keys", stdout=out)
    assert len(load_key_ring("product", tmp_path).keys) == 1
    call_command("ms_token_keys", "--rotate", stdout=out)
    assert len(load_key_ring("product", tmp_path).keys) == 2
    assert "created signing key" in out.getvalue() and "new key" in out.getvalue()
