"""Transaction tokens against the running shop (issue 15): the exchange at the user service, the
internal read that demands one for that very user, and every hostile case, none a 500.

Transaction tokens are got from the running user service (POST /api/txn-tokens/, billing's key)
or forged by hand with the shop's keys (tests/e2e/forge.py), never with the project's verifier.
"""
from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import forge
from ms_token.keys import SigningKey, create_key
from tokens import exchange_txn_token, library_token, token_service_token, txn_token_for

TXN_TYPE = "txntoken+jwt"


def decode(segment: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def internal(user_id: int) -> str:
    return f"/api/internal/users/{user_id}/"


def read_user(shop, user_id: int, *, txn_token: str | None, bind: str | None | bool = None, x_ms_token: bool = True):
    """billing's GET of the user's details with ``txn_token`` as Txn-Token; its X-MS-TOKEN binds
    ``bind`` (default: the token sent; False: none)."""
    headers = {}
    bound = txn_token if bind is None else (bind or None)
    if x_ms_token:
        headers["X-MS-TOKEN"] = library_token(shop, method="GET", path=internal(user_id), audience="user",
                                              scope="users:read", txn_token=bound)
    if txn_token is not None:
        headers["Txn-Token"] = txn_token
    return requests.get(shop.url("user") + internal(user_id), headers=headers, timeout=10)


def assert_refused(response, status: int, code: str) -> dict:
    assert response.status_code < 500, response.text
    body = response.json()
    assert (response.status_code, body.get("code")) == (status, code), body
    assert "shipping_address" not in body and "email" not in body
    return body


def forged_txn(key: SigningKey, *, header: dict | None = None, private_key=None, **changes) -> str:
    now = int(time.time())
    claims = {"iss": "user", "aud": "shop", "iat": now, "exp": now + 60, "txn": forge.b64url(b"t" * 16),
              "sub": "0", "req_wl": "billing", **changes}
    return forge.sign_ed25519(header or {"alg": "EdDSA", "typ": TXN_TYPE, "kid": key.kid}, claims,
                              private_key or key.private_key)


def tampered(token: str, **changes) -> str:
    head, payload, signature = token.split(".")
    return f"{head}.{forge.segment({**decode(payload), **changes})}.{signature}"


# --- the exchange ----------------------------------------------------------------------------------


def test_the_exchange_gives_a_transaction_token_an_outsider_can_verify(shop, account):
    before = int(time.time())
    response = exchange_txn_token(shop, account.access)
    assert response.status_code == 201, response.text
    assert response.headers["Cache-Control"] == "no-store"
    token = response.json()["txn_token"]
    # PyJWT and the user service's published keys alone, nothing of ours.
    jwks = jwt.PyJWKSet.from_dict(requests.get(shop.url("user") + "/.well-known/jwks.json", timeout=10).json())
    header = jwt.get_unverified_header(token)
    assert header["typ"] == TXN_TYPE and header["alg"] == "EdDSA"
    claims = jwt.decode(token, key=jwks[header["kid"]], algorithms=["EdDSA"], audience="shop", issuer="user",
                        options={"require": ["exp", "iat", "txn", "sub", "req_wl"]})
    assert (claims["sub"], claims["req_wl"]) == (str(account.id), "billing")
    assert 0 < claims["exp"] - claims["iat"] <= 300 and claims["iat"] >= before
    assert claims["exp"] <= decode(account.access.split(".")[1])["exp"]
    assert response.json()["expires_in"] == claims["exp"] - claims["iat"]


SUBJECT_TOKENS = {
    "refresh token": lambda shop, account: account.refresh,
    "service token (billing's X-MS-TOKEN)": lambda shop, account: library_token(
        shop, method="GET", path=internal(account.id), audience="user", scope="users:read"),
    "service token (the token service's)": lambda shop, account: token_service_token(
        shop, method="GET", path=internal(account.id), audience="user", scope="users:read"),
    "transaction token": lambda shop, account: txn_token_for(shop, account.access),
    "expired access token": lambda shop, account: jwt.encode(
        {**decode(account.access.split(".")[1]), "exp": int(time.time()) - 30}, shop.signing_key("user").private_key,
        algorithm="EdDSA", headers={"kid": shop.signing_key("user").kid, "typ": "JWT"}),
    "tampered access token": lambda shop, account: tampered(account.access, user_id=str(account.id + 1)),
    "access token by an attacker's key": lambda shop, account: jwt.encode(
        decode(account.access.split(".")[1]), Ed25519PrivateKey.generate(), algorithm="EdDSA",
        headers={"kid": shop.signing_key("user").kid, "typ": "JWT"}),
    "garbage": lambda shop, account: "garbage",
    "three dots": lambda shop, account: "a.b.c",
}


@pytest.mark.parametrize("case", list(SUBJECT_TOKENS), ids=list(SUBJECT_TOKENS))
def test_a_subject_token_that_is_not_a_live_access_token_is_refused(shop, account, case):
    response = exchange_txn_token(shop, SUBJECT_TOKENS[case](shop, account))
    assert_refused(response, 401, "subject_token_invalid")


def test_an_inactive_users_access_token_is_refused(shop, account):
    shop.manage("user", "shell", "--no-imports", "-v", "0", "-c", (
        f"from accounts.models import User; assert User.objects.filter(pk={account.id}).update(is_active=False) == 1"
    ))
    assert_refused(exchange_txn_token(shop, account.access), 401, "subject_token_invalid")


# --- the internal read --------------------------------------------------------------------------------


def test_the_read_with_a_transaction_token_for_that_user(shop, account):
    response = read_user(shop, account.id, txn_token=txn_token_for(shop, account.access))
    assert response.status_code == 200, response.text
    assert response.json()["username"] == account.username


def test_a_hand_made_transaction_token_by_the_contract_is_accepted(shop, account):
    """The control for the forged cases below."""
    token = forged_txn(shop.signing_key("user"), sub=str(account.id))
    assert read_user(shop, account.id, txn_token=token).status_code == 200


def test_without_a_transaction_token_is_403_txn_token_required(shop, account):
    assert_refused(read_user(shop, account.id, txn_token=None), 403, "txn_token_required")


def test_another_users_transaction_token_is_403_subject_mismatch(shop, account):
    other = txn_token_for(shop, account.access)
    from helpers import register

    victim = register(shop)
    assert_refused(read_user(shop, victim.id, txn_token=other), 403, "subject_mismatch")


def _user(shop):
    return shop.signing_key("user")


HOSTILE = {
    "a tth naming another transaction token": lambda shop, a: dict(
        txn_token=txn_token_for(shop, a.access), bind=txn_token_for(shop, a.access)),
    "Txn-Token without tth": lambda shop, a: dict(txn_token=txn_token_for(shop, a.access), bind=False),
    "tth without Txn-Token": lambda shop, a: dict(txn_token=None, bind=txn_token_for(shop, a.access)),
    "Txn-Token without any X-MS-TOKEN": lambda shop, a: dict(txn_token=txn_token_for(shop, a.access), x_ms_token=False),
    "sub changed": lambda shop, a: dict(txn_token=tampered(forged_txn(_user(shop), sub="1"), sub=str(a.id))),
    "aud changed": lambda shop, a: dict(txn_token=forged_txn(_user(shop), sub=str(a.id), aud="elsewhere")),
    "typ changed (JWT)": lambda shop, a: dict(txn_token=forged_txn(
        _user(shop), sub=str(a.id), header={"alg": "EdDSA", "typ": "JWT", "kid": _user(shop).kid})),
    "typ changed (ms+jwt)": lambda shop, a: dict(txn_token=forged_txn(
        _user(shop), sub=str(a.id), header={"alg": "EdDSA", "typ": "ms+jwt", "kid": _user(shop).kid})),
    "exp changed": lambda shop, a: dict(txn_token=tampered(
        forged_txn(_user(shop), sub=str(a.id)), exp=int(time.time()) + 280)),
    "signed by billing's key": lambda shop, a: dict(txn_token=forged_txn(shop.signing_key("billing"), sub=str(a.id))),
    "signed by billing's key under the user's kid": lambda shop, a: dict(txn_token=forged_txn(
        _user(shop), sub=str(a.id), private_key=shop.signing_key("billing").private_key)),
    "expired": lambda shop, a: dict(txn_token=forged_txn(
        _user(shop), sub=str(a.id), iat=int(time.time()) - 400, exp=int(time.time()) - 100)),
    "lifetime beyond 300 s": lambda shop, a: dict(txn_token=forged_txn(
        _user(shop), sub=str(a.id), exp=int(time.time()) + 3600)),
}


@pytest.mark.parametrize("case", list(HOSTILE), ids=list(HOSTILE))
def test_a_hostile_transaction_token_is_refused(shop, account, case):
    assert_refused(read_user(shop, account.id, **HOSTILE[case](shop, account)), 401, "txn_token_invalid")


def test_signed_with_a_user_key_the_user_service_no_longer_publishes(shop, account, tmp_path):
    """A revoked key: not (or no longer) in the user service's JWKS, so nothing it signs passes,
    at the user service (its own keys) and at product (the user service's JWKS)."""
    withdrawn = create_key("user", tmp_path)
    published = {jwk["kid"] for jwk in requests.get(shop.url("user") + "/.well-known/jwks.json", timeout=10).json()["keys"]}
    assert withdrawn.kid not in published
    token = forged_txn(withdrawn, sub=str(account.id))
    assert_refused(read_user(shop, account.id, txn_token=token), 401, "txn_token_invalid")
    assert_refused(_at_product(shop, token), 401, "txn_token_invalid")


# --- at a callee that takes the user service's keys from its JWKS --------------------------------------


def _at_product(shop, txn_token: str):
    token = library_token(shop, method="GET", path="/api/products/", txn_token=txn_token)
    return requests.get(shop.url("product") + "/api/products/", headers={"X-MS-TOKEN": token, "Txn-Token": txn_token},
                        timeout=10)


def test_product_verifies_a_transaction_token_with_the_user_services_published_keys(shop, account):
    assert _at_product(shop, txn_token_for(shop, account.access)).status_code == 200
    assert_refused(_at_product(shop, forged_txn(_user(shop), private_key=Ed25519PrivateKey.generate())),
                   401, "txn_token_invalid")


# --- never a credential ---------------------------------------------------------------------------------

SERVICES_AND_PATHS = {"user": "/api/users/me/", "product": "/api/products/", "billing": "/api/bills/"}


@pytest.mark.parametrize("service", list(SERVICES_AND_PATHS))
def test_a_transaction_token_as_bearer_is_refused(shop, account, service):
    token = txn_token_for(shop, account.access)
    response = requests.get(shop.url(service) + SERVICES_AND_PATHS[service],
                            headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 401, response.text
    assert response.json()["code"] in {"token_not_valid", "authentication_failed"}, response.json()


# Where each service reads an X-MS-TOKEN (billing's bills take Bearer tokens only; its API index
# takes every kind of credential).
X_MS_TOKEN_PATHS = {"user": "/api/internal/users/{id}/", "product": "/api/products/", "billing": "/api/"}


@pytest.mark.parametrize("service", list(X_MS_TOKEN_PATHS))
def test_a_transaction_token_as_x_ms_token_is_refused(shop, account, service):
    token = txn_token_for(shop, account.access)
    path = X_MS_TOKEN_PATHS[service].format(id=account.id)
    response = requests.get(shop.url(service) + path, headers={"X-MS-TOKEN": token}, timeout=10)
    assert_refused(response, 401, "token_invalid")
    assert response.headers["WWW-Authenticate"] == "MS-Token"
