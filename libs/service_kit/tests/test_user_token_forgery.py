"""A forged staff user token "signed" by a small-order JWKS key is refused: ms_token's JWKS
parser drops such keys, and user tokens are verified with PyJWT (OpenSSL), which would accept it."""
import base64
import json

import pytest
import responses
from ms_token.jwks import clear_remote_key_sets, remote_key_set
from ms_token.keys import load_key_ring


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# The identity point: with R = identity and S = 0 the cofactorless Ed25519 equation holds for
# every message, and OpenSSL (what PyJWT verifies user tokens with) accepts that signature.
IDENTITY_POINT = bytes([1]) + bytes(31)
USER_JWKS_URL = "http://user.test/.well-known/jwks.json"


def forged_user_token(kid: str) -> str:
    """An access token for a staff user, "signed" by the identity point."""
    from rest_framework_simplejwt.settings import api_settings as jwt_settings

    from service_kit.user_auth import UserAccessToken

    token = UserAccessToken()
    token["user_id"], token["username"], token["is_staff"] = "1", "mallory", True
    claims = {**token.payload, "aud": jwt_settings.AUDIENCE, "iss": jwt_settings.ISSUER}
    header = {"alg": "EdDSA", "typ": "JWT", "kid": kid}
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}.{b64(IDENTITY_POINT + bytes(32))}"


def test_a_small_order_key_in_a_jwks_is_no_key_so_a_forged_user_token_fails(settings):
    from rest_framework_simplejwt.exceptions import TokenBackendError

    from service_kit.user_auth import user_token_backend

    settings.MS_TOKEN = {**settings.MS_TOKEN, "JWKS_URLS": {"user": USER_JWKS_URL}}
    clear_remote_key_sets()
    real_key = load_key_ring("user").signing_key.public_jwk()
    weak_key = {"kty": "OKP", "crv": "Ed25519", "kid": "user-weak", "x": b64(IDENTITY_POINT)}
    with responses.RequestsMock() as mocked:  # the user service's JWKS, broken
        mocked.get(USER_JWKS_URL, json={"keys": [real_key, weak_key]})
        with pytest.raises(TokenBackendError):
            user_token_backend.decode(forged_user_token("user-weak"))
    assert remote_key_set("user").get(real_key["kid"])  # the valid key of the same answer is kept
