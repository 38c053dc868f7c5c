"""One answer to "which public key verifies issuer X's kid K" (``jwks.public_key``): our own key
ring when we are the issuer (no HTTP), the issuer's JWKS otherwise; a missing own key is
"unavailable" (503)."""
import time

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from ms_token.jwks import KeySetUnavailable, UnknownKeyError, clear_remote_key_sets, public_key
from ms_token.keys import load_key_ring
from ms_token.exceptions import VerificationUnavailable
from ms_token.tokens import b64url_encode
from ms_token.verification import verify

from .conftest import SERVICE_PATH, free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def nobody_publishes(settings):
    """Every peer's JWKS URL leads nowhere: a key found must come from our own ring or cache."""
    dead = f"http://127.0.0.1:{free_port()}"
    settings.MS_TOKEN = {**settings.MS_TOKEN, "SERVICE_URLS": {name: dead for name in settings.MS_TOKEN["SERVICE_URLS"]}}
    settings.MS_TOKEN = {**settings.MS_TOKEN, "JWKS_URLS": {}}
    clear_remote_key_sets()


@pytest.fixture
def drop_own_keys(settings, tmp_path):
    """``drop_own_keys()``: from then on this process has no signing key (empty keys directory)."""

    def drop():
        settings.MS_TOKEN = {**settings.MS_TOKEN, "KEYS_DIR": tmp_path}

    return drop


@pytest.fixture
def no_own_keys(drop_own_keys):
    drop_own_keys()


def test_our_own_keys_come_from_our_key_ring_without_http(nobody_publishes):
    for key in load_key_ring("product").published_keys():
        assert public_key("product", key.kid).public_bytes(Encoding.Raw, PublicFormat.Raw) == key.public_bytes


def test_an_unknown_own_kid_is_unknown(nobody_publishes):
    with pytest.raises(UnknownKeyError):
        public_key("product", "product-1-unknown")


def test_a_peers_keys_come_from_its_key_set():
    key = load_key_ring("billing").signing_key  # preloaded into billing's key set (conftest)
    assert public_key("billing", key.kid).public_bytes(Encoding.Raw, PublicFormat.Raw) == key.public_bytes


def test_no_own_key_is_key_set_unavailable(no_own_keys):
    with pytest.raises(KeySetUnavailable, match="no own signing key"):
        public_key("product", "product-1-abcdef")


def test_ms_token_of_our_own_without_own_keys_is_unavailable(settings, no_own_keys):
    settings.MS_TOKEN = {**settings.MS_TOKEN, "TOKEN_SERVICE_ISSUER": "product"}
    now = int(time.time())
    header = b64url_encode(b'{"alg":"EdDSA","typ":"ms+jwt","kid":"product-1-abcdef"}')
    payload = b64url_encode(
        f'{{"iss":"product","sub":"billing","aud":"product","iat":{now},"exp":{now + 30}}}'.encode()
    )
    token = f"{header.decode()}.{payload.decode()}.{'A' * 86}"
    with pytest.raises(VerificationUnavailable):
        verify(token, method="GET", path=SERVICE_PATH, body=b"")
