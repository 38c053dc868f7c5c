"""X-MS-TOKENs made by hand, as an attacker (or a careful peer) would: every byte is ours.

Built without the project's library, so that the e2e tests check the contract from outside:
a token right by the contract must be accepted, and each deformed one refused.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ms_token.keys import SigningKey


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def segment(obj: Any) -> str:
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


def body_hash(body: bytes) -> str:
    return b64url(hashlib.sha256(body).digest())


def claims(
    *,
    iss: str = "billing",
    aud: Any = "product",
    scope: str = "products:read",
    htm: str = "GET",
    htu: str = "/api/products/",
    ttl: int = 30,
    iat: int | None = None,
    body: bytes | None = None,
    **extra: Any,
) -> dict[str, Any]:
    now = int(time.time()) if iat is None else iat
    result = {
        "iss": iss,
        "aud": aud,
        "iat": now,
        "exp": now + ttl,
        "jti": secrets.token_urlsafe(16),
        "scope": scope,
        "htm": htm,
        "htu": htu,
    }
    if body:
        result["bh"] = body_hash(body)
    result.update(extra)
    return result


def header(key: SigningKey | None, **extra: Any) -> dict[str, Any]:
    result = {"alg": "EdDSA", "typ": "ms+jwt"}
    if key is not None:
        result["kid"] = key.kid
    result.update(extra)
    return result


def sign_ed25519(head: dict, payload: dict, private_key: Ed25519PrivateKey) -> str:
    signing_input = f"{segment(head)}.{segment(payload)}"
    return f"{signing_input}.{b64url(private_key.sign(signing_input.encode()))}"


def sign_hs256(head: dict, payload: dict, secret: bytes) -> str:
    signing_input = f"{segment(head)}.{segment(payload)}"
    return f"{signing_input}.{b64url(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"


def unsigned(head: dict, payload: dict) -> str:
    return f"{segment(head)}.{segment(payload)}."


def token(
    key: SigningKey,
    *,
    head: dict | None = None,
    drop: tuple[str, ...] = (),
    raw: dict[str, Any] | None = None,
    **claim_overrides: Any,
) -> str:
    """A token ``key``'s service would send (valid unless the overrides break it); ``raw`` claims
    replace the computed ones as they are (say, a number as a string)."""
    payload = claims(**claim_overrides)
    for name in drop:
        payload.pop(name, None)
    payload.update(raw or {})
    return sign_ed25519(head or header(key), payload, key.private_key)


def with_other_padding_bits(jws: str) -> str:
    """The same token, signature re-encoded with different unused low bits in its last base64
    character: a lenient decoder reads the same bytes, so it is the same signature."""
    head, payload, signature = jws.split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    # 64 signature bytes = 85 full characters + one carrying 2 data bits and 4 unused bits.
    last = alphabet.index(signature[-1])
    twin = alphabet[last ^ 0b01]
    assert base64.urlsafe_b64decode(signature[:-1] + twin + "==") == base64.urlsafe_b64decode(signature + "==")
    return f"{head}.{payload}.{signature[:-1] + twin}"
