"""Access and refresh tokens: claims, public verification, rotation, logout."""
import base64
import json
import time

import jwt
import pytest
from rest_framework.test import APIClient

from ms_token.keys import load_key_ring
from service_kit.testing import make_user_token
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db


def _refresh(client, token):
    return client.post("/api/auth/refresh/", {"refresh": token}, format="json")


def _logout(client, token):
    return client.post("/api/auth/logout/", {"refresh": token}, format="json")


def _verify_with_published_key_only(api_client, token, **options):
    """What any outside party can do: PyJWT plus the JWKS document, nothing of ours."""
    document = api_client.get("/.well-known/jwks.json").json()
    key_set = jwt.PyJWKSet.from_dict(document)
    kid = jwt.get_unverified_header(token)["kid"]
    return jwt.decode(
        token, key=key_set[kid], algorithms=["EdDSA"], audience="shop", issuer="user", **options
    )


def test_access_token_verifies_with_pyjwt_and_the_published_key_alone(api_client, alice, alice_tokens):
    header = jwt.get_unverified_header(alice_tokens["access"])
    assert header["alg"] == "EdDSA" and header["typ"] == "JWT"
    claims = _verify_with_published_key_only(api_client, alice_tokens["access"])
    assert claims["iss"] == "user" and claims["aud"] == "shop"
    assert claims["token_type"] == "access"
    assert claims["user_id"] == str(alice.pk)
    assert claims["username"] == "alice" and claims["is_staff"] is False
    assert claims["exp"] - claims["iat"] == 300  # five minutes
    assert claims["jti"]


def test_pyjwt_refuses_the_token_for_another_audience_or_issuer(api_client, alice_tokens):
    document = api_client.get("/.well-known/jwks.json").json()
    key = jwt.PyJWKSet.from_dict(document)[jwt.get_unverified_header(alice_tokens["access"])["kid"]]
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(alice_tokens["access"], key=key, algorithms=["EdDSA"], audience="billing", issuer="user")
    with pytest.raises(jwt.InvalidIssuerError):
        jwt.decode(alice_tokens["access"], key=key, algorithms=["EdDSA"], audience="shop", issuer="product")


def test_a_token_signed_by_another_key_fails_against_the_published_keys(api_client, alice):
    billing_key = load_key_ring("billing").signing_key
    forged = jwt.encode(
        {"user_id": str(alice.pk), "username": "alice", "is_staff": True, "iss": "user", "aud": "shop",
         "token_type": "access", "exp": int(time.time()) + 60, "jti": "x"},
        billing_key.private_key,
        algorithm="EdDSA",
        headers={"kid": load_key_ring("user").signing_key.kid},
    )
    with pytest.raises(jwt.InvalidSignatureError):
        _verify_with_published_key_only(api_client, forged)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert_error(client.get("/api/users/me/"), 401, "token_not_valid")


def test_staff_status_travels_in_the_token(api_client, alice, login):
    alice.is_staff = True
    alice.save()
    access = login("alice").json()["access"]
    assert _verify_with_published_key_only(api_client, access)["is_staff"] is True


def test_refresh_rotates_and_the_old_refresh_token_is_then_refused(api_client, alice_tokens):
    first = _refresh(api_client, alice_tokens["refresh"])
    assert first.status_code == 200
    pair = first.json()
    assert set(pair) == {"access", "refresh"} and pair["refresh"] != alice_tokens["refresh"]
    claims = _verify_with_published_key_only(api_client, pair["access"])
    assert claims["username"] == "alice"

    second = _refresh(api_client, pair["refresh"])  # a line of rotations
    assert second.status_code == 200

    assert_error(_refresh(api_client, alice_tokens["refresh"]), 401, "token_not_valid")
    # A reuse ends the login: its newest token too (tests/e2e/test_refresh_reuse.py has more).
    assert_error(_refresh(api_client, second.json()["refresh"]), 401, "token_not_valid")


def test_refresh_reads_the_user_again(api_client, alice, alice_tokens):
    alice.is_staff = True
    alice.save()
    pair = _refresh(api_client, alice_tokens["refresh"]).json()
    assert _verify_with_published_key_only(api_client, pair["access"])["is_staff"] is True


def test_a_deactivated_user_cannot_refresh(api_client, alice, alice_tokens):
    alice.is_active = False
    alice.save()
    assert_error(_refresh(api_client, alice_tokens["refresh"]), 401, "token_not_valid")


def test_a_deleted_user_cannot_refresh_but_can_still_log_out(api_client, alice, alice_tokens):
    alice.delete()
    assert_error(_refresh(api_client, alice_tokens["refresh"]), 401, "token_not_valid")
    assert _logout(api_client, alice_tokens["refresh"]).status_code == 205


def test_logout_kills_the_refresh_token(api_client, alice_tokens):
    response = _logout(api_client, alice_tokens["refresh"])
    assert response.status_code == 205
    assert not response.content
    body = assert_error(_refresh(api_client, alice_tokens["refresh"]), 401, "token_not_valid")
    assert body["detail"] == "Token is blacklisted"
    assert_error(_logout(api_client, alice_tokens["refresh"]), 401, "token_not_valid")


def test_logout_of_one_session_leaves_the_others(api_client, alice, login):
    phone, laptop = login("alice").json(), login("alice").json()
    assert _logout(api_client, phone["refresh"]).status_code == 205
    assert _refresh(api_client, laptop["refresh"]).status_code == 200


@pytest.mark.parametrize("endpoint", ["/api/auth/refresh/", "/api/auth/logout/"])
def test_an_access_token_is_not_a_refresh_token(api_client, alice_tokens, endpoint):
    response = api_client.post(endpoint, {"refresh": alice_tokens["access"]}, format="json")
    assert_error(response, 401, "token_not_valid")


@pytest.mark.parametrize("endpoint", ["/api/auth/refresh/", "/api/auth/logout/"])
@pytest.mark.parametrize(
    "body, status, code",
    [
        ({}, 400, "required"),
        ({"refresh": ""}, 400, "blank"),
        ({"refresh": None}, 400, "null"),
        ({"refresh": 12345}, 400, "not_a_string"),
        ({"refresh": ["a.b.c"]}, 400, "not_a_string"),
        ({"refresh": "x" * 5000}, 400, "max_length"),
        ({"refresh": "not.a.token"}, 401, "token_not_valid"),
        ({"refresh": "eyJhbGciOiJub25lIn0.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCJ9."}, 401, "token_not_valid"),
    ],
)
def test_bad_refresh_input_is_refused_as_json(api_client, endpoint, body, status, code):
    response = api_client.post(endpoint, body, format="json")
    assert_error(response, status, code)


@pytest.mark.parametrize("endpoint", ["/api/auth/refresh/", "/api/auth/logout/"])
@pytest.mark.parametrize("raw", [b"{oops", b'["token"]', b'"token"'])
def test_refresh_bodies_that_are_not_a_json_object_are_400(api_client, endpoint, raw):
    assert_error(api_client.generic("POST", endpoint, raw, content_type="application/json"), 400)


def test_a_token_minted_elsewhere_with_our_key_but_never_issued_can_still_be_logged_out(api_client, alice):
    """The blacklist does not depend on the token having been recorded when issued."""
    from accounts.tokens import ShopRefreshToken

    token = ShopRefreshToken()
    token["user_id"] = str(alice.pk)
    assert _logout(api_client, str(token)).status_code == 205
    assert_error(_refresh(api_client, str(token)), 401, "token_not_valid")


def test_the_test_helper_token_matches_what_login_issues(api_client, alice, alice_tokens):
    """service_kit.testing.make_user_token is what other services' tests trust; keep it honest."""
    issued = _verify_with_published_key_only(api_client, alice_tokens["access"])
    made = _verify_with_published_key_only(api_client, make_user_token(user_id=alice.pk))
    assert set(issued) == set(made)


def test_two_uses_of_one_refresh_token_racing_past_the_blacklist_check_yield_one_pair(alice_tokens):
    """Both requests verified the token before either blacklisted it: only one may win, and the
    loser, a reuse, revokes the login."""
    from accounts import services

    first = services._verified_refresh(alice_tokens["refresh"])
    second = services._verified_refresh(alice_tokens["refresh"])
    with services._revoking(first, user=None):
        pass
    with pytest.raises(services.RefreshRefused):
        with services._revoking(second, user=None):
            pytest.fail("the second use went on")
    assert services.login_revoked(sid=first.login)


def _b64(part):
    raw = part if isinstance(part, bytes) else json.dumps(part).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _garbage_tokens():
    kid = load_key_ring("user").signing_key.kid
    header = {"alg": "EdDSA", "typ": "JWT", "kid": kid}
    return [
        "é.é.é",
        "....",
        f"{_b64(header)}.{_b64(b'not json')}.AAAA",
        f"{_b64(header)}.{_b64([1, 2])}.AAAA",
        f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{_b64({'token_type': 'refresh'})}.",
        f"{_b64({'alg': 'HS256', 'typ': 'JWT', 'kid': kid})}.{_b64({'token_type': 'refresh'})}.AAAA",
        f"{_b64([1])}.x.y",
        f"{_b64({'kid': 5, 'typ': 'JWT'})}.x.y",
        "a" * 4000,
    ]


def test_garbage_tokens_are_refused_never_a_crash(api_client):
    for token in _garbage_tokens():
        for endpoint in ("/api/auth/refresh/", "/api/auth/logout/"):
            assert_error(api_client.post(endpoint, {"refresh": token}, format="json"), 401, "token_not_valid")
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        assert_error(api_client.get("/api/users/me/"), 401, "token_not_valid")
        api_client.credentials()
