"""Hostile transaction tokens at GET /api/internal/users/{id}/ (issue 15): every one refused with
401 txn_token_invalid (or the X-MS-TOKEN's own code), none with a 500, none letting billing read.

billing's X-MS-TOKENs are real (its key from the test keys directory) and bind, by tth, exactly
the Txn-Token sent unless a case says otherwise; the transaction tokens are made by hand.
"""
from __future__ import annotations

import json
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rest_framework.test import APIClient

from ms_token.keys import create_key, load_key_ring
from ms_token.tokens import mint, mint_txn_token, txn_token_claims
from service_kit.testing import preload_peer_keys
from tests.helpers import assert_error, b64url, sign_jws

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def billing_keys_known():
    preload_peer_keys("billing")


def _path(user_id) -> str:
    return f"/api/internal/users/{user_id}/"


def call(user_id, *, txn_token=None, bind=None, x_ms_token=True, **headers):
    """billing's GET of ``user_id``'s details carrying ``txn_token`` as Txn-Token, its X-MS-TOKEN
    binding ``bind`` (default: the token sent; False: nothing)."""
    path = _path(user_id)
    bound = txn_token if bind is None else (bind or None)
    if x_ms_token:
        headers["HTTP_X_MS_TOKEN"] = mint("user", "users:read", "GET", path, issuer="billing",
                                          key=load_key_ring("billing").signing_key, txn_token=bound)
    if txn_token is not None:
        headers["HTTP_TXN_TOKEN"] = txn_token
    return APIClient().get(path, **headers)


def refused(response, code="txn_token_invalid", status=401):
    body = assert_error(response, status, code)
    assert "shipping_address" not in body
    if status == 401:
        assert response["WWW-Authenticate"] == "MS-Token"
    return body


def user_key():
    return load_key_ring("user").signing_key


def txn_header(key=None, **changes):
    return {"alg": "EdDSA", "typ": "txntoken+jwt", "kid": (key or user_key()).kid, **changes}


def forged(user_id, *, key=None, header=None, private_key=None, **claim_changes) -> str:
    """A transaction token for ``user_id`` signed by hand: the user key unless told."""
    claims = {**txn_token_claims(subject=str(user_id), requester="billing"), **claim_changes}
    return sign_jws(header or txn_header(key), claims, private_key or (key or user_key()).private_key)


def tampered(token: str, **claim_changes) -> str:
    """The token with claims changed after signing (the signature kept)."""
    head, payload, signature = token.split(".")
    claims = json.loads(__import__("base64").urlsafe_b64decode(payload + "=="))
    return f"{head}.{b64url(json.dumps({**claims, **claim_changes}).encode())}.{signature}"


def test_the_control_a_hand_made_token_by_the_rules_is_accepted(alice):
    """Without it every refusal below could be for the wrong reason."""
    response = call(alice.pk, txn_token=forged(alice.pk))
    assert response.status_code == 200, response.content
    assert response.json()["username"] == "alice"


# --- the binding -----------------------------------------------------------------------------------


def test_a_txn_token_without_tth(alice):
    refused(call(alice.pk, txn_token=forged(alice.pk), bind=False))


def test_tth_without_a_txn_token(alice):
    refused(call(alice.pk, bind=forged(alice.pk)))


def test_a_tth_naming_another_transaction_token(alice):
    """Both are good tokens for alice: the X-MS-TOKEN binds one, the call carries the other."""
    refused(call(alice.pk, txn_token=forged(alice.pk), bind=forged(alice.pk)))


def test_a_txn_token_without_any_x_ms_token(alice):
    refused(call(alice.pk, txn_token=forged(alice.pk), x_ms_token=False))


def test_a_tth_that_is_not_a_string(alice):
    txn_token = forged(alice.pk)
    now = int(time.time())
    key = load_key_ring("billing").signing_key
    claims = {"iss": "billing", "aud": "user", "iat": now, "exp": now + 30, "jti": "not-a-string-tth-1",
              "scope": "users:read", "htm": "GET", "htu": _path(alice.pk), "tth": ["x"]}
    x_ms_token = sign_jws({"alg": "EdDSA", "typ": "ms+jwt", "kid": key.kid}, claims, key.private_key)
    refused(APIClient().get(_path(alice.pk), HTTP_X_MS_TOKEN=x_ms_token, HTTP_TXN_TOKEN=txn_token))


# --- the transaction token itself ------------------------------------------------------------------

CASES = {
    "sub changed after signing": lambda a: tampered(forged(a), sub=str(a + 1)),
    "sub changed and signed by an attacker": lambda a: forged(a, private_key=Ed25519PrivateKey.generate()),
    "aud another trust domain": lambda a: forged(a, aud="elsewhere"),
    "aud a list": lambda a: forged(a, aud=["shop"]),
    "aud changed after signing": lambda a: tampered(forged(a), aud="elsewhere"),
    "typ JWT (a user token's)": lambda a: forged(a, header=txn_header(typ="JWT")),
    "typ ms+jwt (an X-MS-TOKEN's)": lambda a: forged(a, header=txn_header(typ="ms+jwt")),
    "no typ": lambda a: forged(a, header={"alg": "EdDSA", "kid": user_key().kid}),
    "alg none": lambda a: forged(a).rsplit(".", 1)[0].replace(
        forged(a).split(".")[0], b64url(json.dumps(txn_header(alg="none")).encode())) + ".",
    "exp changed after signing": lambda a: tampered(forged(a), exp=int(time.time()) + 3000),
    "expired": lambda a: forged(a, iat=int(time.time()) - 400, exp=int(time.time()) - 340),
    "issued in the future": lambda a: forged(a, iat=int(time.time()) + 120, exp=int(time.time()) + 180),
    "lifetime beyond 300 s": lambda a: forged(a, exp=int(time.time()) + 3600),
    "exp as a string": lambda a: forged(a, exp=str(int(time.time()) + 30)),
    "no txn": lambda a: forged(a, txn=None),
    "sub a number": lambda a: forged(a, sub=a),
    "iss billing, billing's key": lambda a: forged(a, key=load_key_ring("billing").signing_key, iss="billing"),
    "iss user, billing's key and kid": lambda a: forged(a, key=load_key_ring("billing").signing_key),
    "iss user, billing's key under the user's kid": lambda a: forged(
        a, header=txn_header(), private_key=load_key_ring("billing").signing_key.private_key),
    "a user token (JWT)": lambda a: __import__("service_kit.testing").testing.make_user_token(user_id=a),
    "an X-MS-TOKEN": lambda a: mint("user", "users:read", "GET", _path(a), issuer="billing",
                                    key=load_key_ring("billing").signing_key),
    "garbage": lambda a: "garbage",
    "three dots": lambda a: "a.b.c",
    "huge": lambda a: "x" * 5000,
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_a_hostile_transaction_token_is_refused(alice, case):
    refused(call(alice.pk, txn_token=CASES[case](alice.pk)))


def test_a_token_signed_with_a_user_key_no_longer_published_is_refused(alice, tmp_path):
    """Revoked (or never ours): the user service does not publish it, so nothing it signed passes."""
    withdrawn = create_key("user", tmp_path)
    assert withdrawn.kid not in {key.kid for key in load_key_ring("user").published_keys()}
    refused(call(alice.pk, txn_token=forged(alice.pk, key=withdrawn)))


def test_expired_within_the_leeway_is_still_accepted(alice):
    now = int(time.time())
    response = call(alice.pk, txn_token=forged(alice.pk, iat=now - 62, exp=now - 2))
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("unset", ["TXN_TOKEN_ISSUER", "TXN_TOKEN_AUDIENCE"])
def test_a_service_that_accepts_no_transaction_tokens_refuses_every_one(alice, settings, unset):
    txn_token = forged(alice.pk)
    settings.MS_TOKEN = {**settings.MS_TOKEN, unset: None}
    refused(call(alice.pk, txn_token=txn_token))


# --- never a credential ----------------------------------------------------------------------------


def test_a_transaction_token_as_the_x_ms_token_is_refused(alice):
    txn_token, _ = mint_txn_token(subject=str(alice.pk), requester="billing")
    refused(APIClient().get(_path(alice.pk), HTTP_X_MS_TOKEN=txn_token), "token_invalid")


def test_a_transaction_token_as_bearer_is_refused(alice):
    txn_token, _ = mint_txn_token(subject=str(alice.pk), requester="billing")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {txn_token}")
    response = client.get("/api/users/me/")
    assert_error(response, 401)
    assert "email" not in response.json()
    assert_error(client.get(_path(alice.pk)), 401)
