"""User tokens are verified through ms_token's one key lookup (``jwks.public_key``): the user
service with its own key ring (no HTTP), a missing own key a 503, an unknown kid invalid."""
import pytest
from ms_token.jwks import clear_remote_key_sets
from ms_token.tokens import b64url_encode
from ms_token.testing import free_port
from rest_framework_simplejwt.exceptions import TokenBackendError

from service_kit.errors import ServiceUnavailable
from service_kit.testing import make_user_token
from service_kit.user_auth import user_token_backend


@pytest.fixture
def nobody_publishes(settings):
    """Every peer's JWKS URL leads nowhere: a key found must come from our own ring."""
    dead = f"http://127.0.0.1:{free_port()}"
    settings.MS_TOKEN = {**settings.MS_TOKEN, "SERVICE_URLS": {name: dead for name in settings.MS_TOKEN["SERVICE_URLS"]},
                         "JWKS_URLS": {}}
    clear_remote_key_sets()


@pytest.fixture
def drop_own_keys(settings, tmp_path):
    """``drop_own_keys()``: from then on this process has no signing key (empty keys directory)."""

    def drop():
        settings.MS_TOKEN = {**settings.MS_TOKEN, "KEYS_DIR": tmp_path}

    return drop


def test_the_user_service_verifies_user_tokens_with_its_own_keys(settings, nobody_publishes):
    settings.MS_TOKEN = {**settings.MS_TOKEN, "SERVICE_NAME": "user"}
    token = make_user_token(user_id=7)
    assert user_token_backend.decode(token)["user_id"] == "7"


def test_the_user_service_without_own_keys_answers_503_not_500(settings, drop_own_keys):
    token = make_user_token(user_id=7)
    drop_own_keys()
    settings.MS_TOKEN = {**settings.MS_TOKEN, "SERVICE_NAME": "user"}
    with pytest.raises(ServiceUnavailable):
        user_token_backend.decode(token)


def test_an_unknown_kid_in_the_user_service_is_an_invalid_token(settings, nobody_publishes):
    settings.MS_TOKEN = {**settings.MS_TOKEN, "SERVICE_NAME": "user"}
    token = make_user_token(user_id=7)
    forged = token.replace(token.split(".")[0], _header_with_kid("user-1-unknown"), 1)
    with pytest.raises(TokenBackendError):
        user_token_backend.decode(forged)


def _header_with_kid(kid):
    return b64url_encode(f'{{"alg":"EdDSA","typ":"JWT","kid":"{kid}"}}'.encode()).decode()
