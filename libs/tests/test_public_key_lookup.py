"""One answer to "which public key verifies issuer X's kid K" (``jwks.public_key``), used by
X-MS-TOKEN verification and by user-token verification alike: our own key ring when we are the
issuer (no HTTP), the issuer's JWKS otherwise; a missing own key is "unavailable" (503) in both."""
import time

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from rest_framework_simplejwt.exceptions import TokenBackendError

from service_kit.errors import ServiceUnavailable
from service_kit.jwks import KeySetUnavailable, UnknownKeyError, clear_remote_key_sets, public_key
from service_kit.keys import clear_key_cache, load_key_ring
from service_kit.ms_token.exceptions import VerificationUnavailable
from service_kit.ms_token.tokens import b64url_encode
from service_kit.ms_token.verification import verify
from service_kit.testing import make_user_token
from service_kit.user_auth import user_token_backend

from .conftest import SERVICE_PATH, free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def nobody_publishes(settings):
    """Every peer's JWKS URL leads nowhere: a key found must come from our own ring or cache."""
    dead = f"http://127.0.0.1:{free_port()}"
    settings.SERVICE_URLS = {name: dead for name in settings.SERVICE_URLS}
    settings.JWKS_URLS = {}
    clear_remote_key_sets()


@pytest.fixture
def drop_own_keys(monkeypatch, tmp_path):
    """``drop_own_keys()``: from then on this process has no signing key (empty keys directory)."""

    def drop():
        monkeypatch.setenv("MS_KEYS_DIR", str(tmp_path))
        clear_key_cache()

    yield drop
    clear_key_cache()  # re-read from the restored directory next time


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


# --- user tokens --------------------------------------------------------------------------------


def test_the_user_service_verifies_user_tokens_with_its_own_keys(settings, nobody_publishes):
    settings.SERVICE_NAME = "user"
    token = make_user_token(user_id=7)
    assert user_token_backend.decode(token)["user_id"] == "7"


def test_the_user_service_without_own_keys_answers_503_not_500(settings, drop_own_keys):
    token = make_user_token(user_id=7)
    drop_own_keys()
    settings.SERVICE_NAME = "user"
    with pytest.raises(ServiceUnavailable):
        user_token_backend.decode(token)


def test_an_unknown_kid_in_the_user_service_is_an_invalid_token(settings, nobody_publishes):
    settings.SERVICE_NAME = "user"
    token = make_user_token(user_id=7)
    forged = token.replace(token.split(".")[0], _header_with_kid("user-1-unknown"), 1)
    with pytest.raises(TokenBackendError):
        user_token_backend.decode(forged)


def _header_with_kid(kid):
    return b64url_encode(f'{{"alg":"EdDSA","typ":"JWT","kid":"{kid}"}}'.encode()).decode()
