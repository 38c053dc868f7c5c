"""A peer's JWKS is an answer of an untrusted peer like any other: read with a deadline and a
size cap, parsed without blowing the stack, and every failure is ``KeySetUnavailable`` (503,
with the failure backoff), never a 500. An issuer without a configured URL is a 503 too."""
import json
import time

import pytest
import requests
import responses

from ms_token.jwks import (
    MAX_JWKS_BYTES,
    KeySetUnavailable,
    RemoteKeySet,
    UnknownKeyError,
    clear_remote_key_sets,
    remote_key_set,
)
from ms_token.keys import load_key_ring
from ms_token.exceptions import VerificationUnavailable
from ms_token.verification import verify

from .conftest import SERVICE_PATH, b64, free_port
from .test_ms_token_slow_peers import slow_peer  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

JWKS_URL = "http://billing.test/.well-known/jwks.json"
# Deep enough for json's RecursionError, small enough to pass the size cap.
DEEPLY_NESTED = "[" * 20000 + "]" * 20000


@pytest.fixture
def billing_jwks_at_test_url(settings):
    """Product knows nothing of billing's keys; they are at JWKS_URL (faked with responses)."""
    settings.MS_TOKEN = {**settings.MS_TOKEN, "JWKS_URLS": {"billing": JWKS_URL}}
    clear_remote_key_sets()
    with responses.RequestsMock() as mocked:
        yield mocked


def test_deeply_nested_json_is_key_set_unavailable_and_backs_off(billing_jwks_at_test_url):
    assert len(DEEPLY_NESTED) < MAX_JWKS_BYTES
    billing_jwks_at_test_url.get(JWKS_URL, body=DEEPLY_NESTED, content_type="application/json")
    key_set = remote_key_set("billing")
    with pytest.raises(KeySetUnavailable):
        key_set.get("billing-1-abcdef")
    with pytest.raises(KeySetUnavailable, match="failed moments ago"):
        key_set.get("billing-1-abcdef")
    assert len(billing_jwks_at_test_url.calls) == 1  # the backoff held: no second fetch


def test_deeply_nested_jwks_makes_verification_unavailable(billing_jwks_at_test_url, make_token):
    billing_jwks_at_test_url.get(JWKS_URL, body=DEEPLY_NESTED, content_type="application/json")
    with pytest.raises(VerificationUnavailable):
        verify(make_token(), method="GET", path=SERVICE_PATH, body=b"")


def test_deeply_nested_jwks_is_a_503_not_a_500(billing_jwks_at_test_url, make_token, call):
    billing_jwks_at_test_url.get(JWKS_URL, body=DEEPLY_NESTED, content_type="application/json")
    response = call(make_token())
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    response = call(make_token())  # within the backoff: refused without asking the peer again
    assert response.status_code == 503
    assert len(billing_jwks_at_test_url.calls) == 1


def test_an_oversized_jwks_is_key_set_unavailable(billing_jwks_at_test_url):
    body = json.dumps({"keys": [], "padding": "x" * MAX_JWKS_BYTES})
    billing_jwks_at_test_url.get(JWKS_URL, body=body, content_type="application/json")
    with pytest.raises(KeySetUnavailable, match=str(MAX_JWKS_BYTES)):
        remote_key_set("billing").get("billing-1-abcdef")


def test_an_error_status_is_key_set_unavailable(billing_jwks_at_test_url):
    billing_jwks_at_test_url.get(JWKS_URL, json={"keys": []}, status=500)
    with pytest.raises(KeySetUnavailable, match="500"):
        remote_key_set("billing").get("billing-1-abcdef")


@pytest.mark.parametrize("headers", [
    {"Cache-Control": "max-age=30", "Age": "\u00b2"},
    {"Cache-Control": "max-age=" + "9" * 5000},
])
def test_a_cache_header_that_cannot_be_read_is_ignored_not_a_500(billing_jwks_at_test_url, make_token, call, headers):
    billing_jwks_at_test_url.get(JWKS_URL, json=load_key_ring("billing").jwks(), headers=headers)
    assert call(make_token()).status_code == 200


def test_an_unexpected_failure_reading_a_jwks_is_key_set_unavailable(billing_jwks_at_test_url, monkeypatch):
    billing_jwks_at_test_url.get(JWKS_URL, json={"keys": []})
    monkeypatch.setattr("ms_token.jwks.parse_jwks", lambda document: {}.pop("a peer's surprise"))
    with pytest.raises(KeySetUnavailable):
        remote_key_set("billing").get("billing-1-abcdef")


def test_the_fetch_ignores_proxies_from_the_environment(peer, monkeypatch):
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{free_port()}")  # nobody: proxied would fail
    server = peer([(200, {"keys": []})])
    key_set = RemoteKeySet(server.url + "/.well-known/jwks.json")
    with pytest.raises(UnknownKeyError):  # fetched, directly, and that kid is not there
        key_set.get("billing-1-abcdef")
    assert len(server.received) == 1


def test_a_trickling_jwks_is_cut_off_at_the_deadline(slow_peer):  # noqa: F811
    server = slow_peer("trickle", {"keys": []})
    key_set = RemoteKeySet(server.url + "/.well-known/jwks.json", timeout=(0.5, 0.5))
    started = time.monotonic()
    with pytest.raises(KeySetUnavailable):
        key_set.get("billing-1-abcdef")
    assert time.monotonic() - started < 3  # the whole trickle takes 6 s


def test_a_connection_error_is_key_set_unavailable(billing_jwks_at_test_url):
    billing_jwks_at_test_url.get(JWKS_URL, body=requests.ConnectionError("refused"))
    with pytest.raises(KeySetUnavailable):
        remote_key_set("billing").get("billing-1-abcdef")


# --- an issuer whose keys' URL we do not know -----------------------------------------------------


@pytest.fixture
def billing_has_no_url(settings):
    settings.MS_TOKEN = {**settings.MS_TOKEN, "SERVICE_URLS": {name: url for name, url in settings.MS_TOKEN["SERVICE_URLS"].items() if name != "billing"}}
    settings.MS_TOKEN = {**settings.MS_TOKEN, "JWKS_URLS": {}}
    clear_remote_key_sets()


def test_an_issuer_without_a_url_is_key_set_unavailable(billing_has_no_url):
    with pytest.raises(KeySetUnavailable, match="billing"):
        remote_key_set("billing")


def test_an_issuer_without_a_url_is_a_503_not_a_500(billing_has_no_url, make_token, call):
    response = call(make_token())
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"


# The identity point: with R = identity and S = 0 the cofactorless Ed25519 equation holds for
# every message, and OpenSSL (what PyJWT verifies JWTs with) accepts that signature.
IDENTITY_POINT = bytes([1]) + bytes(31)
USER_JWKS_URL = "http://user.test/.well-known/jwks.json"


def test_a_small_order_key_in_a_jwks_is_no_key(settings):
    settings.MS_TOKEN = {**settings.MS_TOKEN, "JWKS_URLS": {"user": USER_JWKS_URL}}
    clear_remote_key_sets()
    real_key = load_key_ring("user").signing_key.public_jwk()
    weak_key = {"kty": "OKP", "crv": "Ed25519", "kid": "user-weak", "x": b64(IDENTITY_POINT)}
    with responses.RequestsMock() as mocked:  # the user service's JWKS, broken
        mocked.get(USER_JWKS_URL, json={"keys": [real_key, weak_key]})
        with pytest.raises(UnknownKeyError):
            remote_key_set("user").get("user-weak")
    assert remote_key_set("user").get(real_key["kid"])  # the valid key of the same answer is kept
