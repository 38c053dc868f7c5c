"""SPEC.md's test vectors (section 7): the library makes exactly these tokens, two independent
JOSE libraries (PyJWT and jwcrypto, neither used by the library to mint or verify) verify them,
and the library's verifier accepts tokens those libraries mint.

The vectors are read from SPEC.md itself, so the document and the code cannot drift apart.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path
from unittest import mock

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jws as jwcrypto_jws

from ms_token import exceptions as exc
from ms_token.jwks import parse_jwks, remote_key_set
from ms_token.keys import SigningKey
from ms_token.tokens import mint, mint_txn_token
from ms_token.verification import verify, verify_txn_token

from .conftest import configure

SPEC = Path(__file__).resolve().parent.parent / "SPEC.md"
SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
KID = "rfc8032-test-1"
IAT = 1767225600
AT = IAT + 1  # the vectors are verified at a fixed time
BODY = b'{"sku":"MUG-1","quantity":2}'


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def sha256(data: bytes) -> str:
    return b64url(hashlib.sha256(data).digest())


def spec_vectors() -> dict[str, dict]:
    """{"A": {"header": ..., "claims": ..., "token": ...}, ...}: the three blocks of each vector."""
    text = SPEC.read_text(encoding="utf-8")
    vectors = {}
    for name, section in re.findall(r"^### 7\.\d Vector ([A-Z]): .*?\n(.*?)(?=^### |\Z)", text, re.M | re.S):
        header, claims, token = re.findall(r"```(?:json|text)\n(.*?)\n```", section, re.S)
        vectors[name] = {"header": header, "claims": claims, "token": token}
    return vectors


VECTORS = spec_vectors()


def spec_key() -> SigningKey:
    return SigningKey(KID, Ed25519PrivateKey.from_private_bytes(bytes.fromhex(SEED)), 0)


def made_by_the_library() -> dict[str, str]:
    """Each vector, made by the library from the inputs SPEC.md gives (time and randomness fixed)."""
    key = spec_key()

    def at_iat(fill: int, make):
        with mock.patch("ms_token.tokens.time.time", return_value=IAT + 0.25), \
                mock.patch("ms_token.tokens.os.urandom", return_value=bytes([fill]) * 16):
            return make()

    txn_token, _ = mint_txn_token(subject="42", requester="invoices", issuer="accounts", audience="shop.example",
                                  now=IAT, txn=b64url(bytes([2]) * 16), key=key)
    return {
        "A": at_iat(0, lambda: mint("orders", "orders:read", "GET", "/api/orders/", query="ids=1%2C2",
                                    issuer="invoices", key=key)),
        "B": at_iat(1, lambda: mint("orders", "orders:write", "POST", "/api/orders/", BODY, issuer="invoices", key=key)),
        "C": txn_token,
        "D": at_iat(3, lambda: mint("orders", "orders:read", "GET", "/api/customers/42/orders/", txn_token=txn_token,
                                    issuer="invoices", key=key)),
    }


@pytest.fixture
def as_orders(settings):
    """This process verifies as "orders": it trusts "invoices" and the transaction tokens of
    "accounts" for "shop.example", both publishing the spec's key."""
    configure(
        settings, SERVICE_NAME="orders",
        SERVICE_URLS={"invoices": "http://127.0.0.1:9/invoices", "accounts": "http://127.0.0.1:9/accounts"},
        TRUSTED_ISSUERS={"invoices": ["orders:read", "orders:write"]},
        TXN_TOKEN_ISSUER="accounts", TXN_TOKEN_AUDIENCE="shop.example",
    )
    public = spec_key().public_key
    for issuer in ("invoices", "accounts"):
        remote_key_set(issuer).set_keys({KID: public})


def verify_vector(name: str, token: str):
    """The library's verifier on ``token`` as the request of vector ``name``."""
    requests = {
        "A": dict(method="GET", path="/api/orders/", body=b"", query="ids=1%2C2"),
        "B": dict(method="POST", path="/api/orders/", body=BODY),
        "D": dict(method="GET", path="/api/customers/42/orders/", body=b"", txn_token=VECTORS["C"]["token"]),
    }
    if name == "C":
        return verify_txn_token(token, now=AT)
    return verify(token, now=AT, **requests[name])


def test_spec_md_holds_four_vectors():
    assert sorted(VECTORS) == ["A", "B", "C", "D"]


def test_the_key_is_rfc_8032_test_1():
    key = spec_key()
    assert key.public_bytes.hex() == PUBLIC
    assert key.public_jwk()["x"] == "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"  # RFC 8037 A.1
    spec_jwk = json.loads(re.search(r"```json\n(\{\"kty\".*?)\n```", SPEC.read_text()).group(1))
    assert spec_jwk == key.public_jwk()


@pytest.mark.parametrize("name", ["A", "B", "C", "D"])
def test_the_library_makes_exactly_the_spec_token(name):
    token = made_by_the_library()[name]
    assert token == VECTORS[name]["token"]
    header, claims, _ = token.split(".")
    assert base64.urlsafe_b64decode(header + "==").decode() == VECTORS[name]["header"]
    assert base64.urlsafe_b64decode(claims + "==").decode() == VECTORS[name]["claims"]


def test_the_hash_claims_are_sha256_of_the_octets():
    """Computed here with hashlib alone."""
    assert len(BODY) == 28
    assert json.loads(VECTORS["A"]["claims"])["qh"] == sha256(b"ids=1%2C2")
    assert json.loads(VECTORS["B"]["claims"])["bh"] == sha256(BODY)
    assert json.loads(VECTORS["D"]["claims"])["tth"] == sha256(VECTORS["C"]["token"].encode())


@pytest.mark.parametrize("name", ["A", "B", "C", "D"])
def test_the_library_verifies_the_spec_tokens(as_orders, name):
    verified = verify_vector(name, VECTORS[name]["token"])
    if name == "D":
        assert (verified.txn.subject, verified.txn.txn) == ("42", "AgICAgICAgICAgICAgICAg")


# --- PyJWT: an independent implementation verifies our tokens, and mints tokens we accept -----------


def pyjwt_key():
    return jwt.PyJWK.from_dict(json.loads(json.dumps(spec_key().public_jwk())))


@pytest.mark.parametrize("name", ["A", "B", "C", "D"])
def test_pyjwt_verifies_the_spec_tokens(name):
    token = VECTORS[name]["token"]
    audience = "shop.example" if name == "C" else "orders"
    claims = jwt.decode(token, key=pyjwt_key(), algorithms=["EdDSA"], audience=audience,
                        options={"verify_exp": False, "verify_iat": False})
    assert claims == json.loads(VECTORS[name]["claims"])
    assert jwt.get_unverified_header(token)["typ"] == ("txntoken+jwt" if name == "C" else "ms+jwt")


def test_pyjwt_refuses_a_spec_token_with_one_claim_changed():
    header, claims, signature = VECTORS["C"]["token"].split(".")
    changed = b64url(VECTORS["C"]["claims"].replace('"sub":"42"', '"sub":"43"').encode())
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(f"{header}.{changed}.{signature}", key=pyjwt_key(), algorithms=["EdDSA"],
                   audience="shop.example", options={"verify_exp": False})


@pytest.mark.parametrize("name", ["A", "B", "C", "D"])
def test_the_library_accepts_what_pyjwt_mints(as_orders, name):
    claims = json.loads(VECTORS[name]["claims"])
    typ = json.loads(VECTORS[name]["header"])["typ"]
    token = jwt.encode(claims, spec_key().private_key, algorithm="EdDSA", headers={"kid": KID, "typ": typ})
    assert token != VECTORS[name]["token"]  # PyJWT writes its JSON its own way: other octets, same token
    verify_vector(name, token)


# --- jwcrypto: another independent implementation ---------------------------------------------------


def jwcrypto_key(*, private: bool = False) -> jwcrypto_jwk.JWK:
    document = {**spec_key().public_jwk()}
    if private:
        document["d"] = b64url(bytes.fromhex(SEED))
    return jwcrypto_jwk.JWK(**document)


@pytest.mark.parametrize("name", ["A", "B", "C", "D"])
def test_jwcrypto_verifies_the_spec_tokens(name):
    signed = jwcrypto_jws.JWS()
    signed.deserialize(VECTORS[name]["token"])
    signed.verify(jwcrypto_key(), alg="EdDSA")
    assert json.loads(signed.payload) == json.loads(VECTORS[name]["claims"])
    assert signed.jose_header == json.loads(VECTORS[name]["header"])


def test_jwcrypto_refuses_a_spec_token_signed_by_another_key():
    other = Ed25519PrivateKey.generate()
    header, claims, _ = VECTORS["A"]["token"].split(".")
    forged = f"{header}.{claims}.{b64url(other.sign(f'{header}.{claims}'.encode()))}"
    signed = jwcrypto_jws.JWS()
    signed.deserialize(forged)
    with pytest.raises(jwcrypto_jws.InvalidJWSSignature):
        signed.verify(jwcrypto_key(), alg="EdDSA")


@pytest.mark.parametrize("name", ["A", "B", "C", "D"])
def test_the_library_accepts_what_jwcrypto_mints(as_orders, name):
    signed = jwcrypto_jws.JWS(VECTORS[name]["claims"].encode())
    signed.add_signature(jwcrypto_key(private=True), alg="EdDSA", protected=json.loads(VECTORS[name]["header"]))
    token = signed.serialize(compact=True)
    verify_vector(name, token)


def test_the_library_refuses_what_jwcrypto_signs_with_another_key(as_orders):
    other = jwcrypto_jwk.JWK.generate(kty="OKP", crv="Ed25519")
    signed = jwcrypto_jws.JWS(VECTORS["C"]["claims"].encode())
    signed.add_signature(other, alg="EdDSA", protected=json.loads(VECTORS["C"]["header"]))
    with pytest.raises(exc.TokenRejected):
        verify_txn_token(signed.serialize(compact=True), now=AT)


def test_the_spec_jwks_document_parses():
    assert list(parse_jwks({"keys": [spec_key().public_jwk()]})) == [KID]
