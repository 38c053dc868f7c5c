"""Verifying a token against the request it came with: every check but the replay store.

The checks run cheapest first and stop at the first failure:

 1. size (at most ``MAX_TOKEN_BYTES``), before any decoding
 2. three segments of strict base64url (no padding, no other characters); the signature is 86
    characters (64 bytes)
 3. header: a JSON object with exactly ``alg``, ``typ``, ``kid`` and no duplicate keys
 4. ``alg`` is ``EdDSA`` (exactly), 5. ``typ`` is ``ms+jwt``, 6. ``kid`` matches ``KID_PATTERN``
 7. payload is a JSON object without duplicate keys; the caller is trusted (exact match): the
    caller is ``iss``, or ``sub`` when ``iss`` is the token service (``TOKEN_SERVICE_ISSUER``);
    any other token carrying ``sub`` is refused
 8. the key ``kid`` is one the issuer publishes (its JWKS, cached; URL from our settings only;
    our own key ring when the issuer is this service)
 9. the Ed25519 signature (libsodium)
10. claims present and well typed: strings, and integers (not bools, not floats) in [0, 2^63)
11. ``aud`` is this service, 12. ``exp``/``iat``/``nbf`` with leeway, lifetime <= maximum
13. ``htm``/``htu``/``bh`` match the request, 14. the requested scopes are granted to the caller

The replay check (``replay.py``) comes last, in ``authentication.py``; its refusal is made with
``rejection`` too, so every refusal logs the same issuer, jti and caller.
"""
from __future__ import annotations

import base64
import json
import re
import time
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError

from .jwks import KeySetUnavailable, UnknownKeyError, public_key
from .keys import KID_PATTERN
from . import exceptions as exc
from .settings import ms_token_settings
from .tokens import ALGORITHM, TOKEN_TYPE, body_hash

# Three base64url segments; an Ed25519 signature (64 bytes) is exactly 86 characters.
_TOKEN_SHAPE = re.compile(r"([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{86})")
_HEADER_FIELDS = frozenset({"alg", "typ", "kid"})
_JTI_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,128}")
_STRING_CLAIMS = ("iss", "aud", "jti", "scope", "htm", "htu")
_MAX_NUMERIC_DATE = 2**63
# The replay store remembers a jti this much longer than the token can pass the expiry check,
# so a copy verified just before expiry cannot claim it after the original row was pruned.
_REPLAY_MARGIN = 60


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    issuer: str  # iss: whose key signed it; with jti, the replay key
    jti: str
    scopes: frozenset[str]
    expires_at: int  # exp + leeway + a margin: how long the replay store must remember the jti
    claims: dict[str, Any]
    caller: str  # the calling service: iss, or sub of a token-service token
    token_service: str | None = None  # iss of a token-service token (it vouched for caller)


def rejection(code: str, detail: str, claims: dict[str, Any] | None = None) -> exc.TokenRejected:
    """A refusal, with the issuer, jti and caller of ``claims`` (when known) for the log."""
    error = exc.TokenRejected(code, detail)
    if claims is not None:
        error.issuer, error.jti, error.caller = claims.get("iss"), claims.get("jti"), claims.get("sub")
    return error


def signature_is_valid(key: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    """Ed25519 by libsodium: about half the CPU of OpenSSL's verify (39 against 80 µs on the
    bench machine), and every call a service accepts pays it. libsodium is the stricter of the
    two: it also refuses small-order and non-canonical points."""
    try:
        crypto_sign_open(signature + message, key.public_bytes_raw())
    except BadSignatureError:
        return False
    return True


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        raise ValueError("duplicate key")
    return document


def _no_constants(name: str) -> None:
    raise ValueError(f"{name} is not a number")


def _json_segment(segment: str, what: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        document = json.loads(raw, object_pairs_hook=_unique_keys, parse_constant=_no_constants)
    except (ValueError, RecursionError) as error:  # binascii.Error, JSON, UTF-8: all ValueError
        raise rejection(exc.TOKEN_INVALID, f"{what} is not valid base64url JSON") from error
    if type(document) is not dict:
        raise rejection(exc.TOKEN_INVALID, f"{what} is not a JSON object")
    return document


# Every token of one key has the same header: parse and check it once. Only headers that passed
# are kept, and the cache is emptied when full, so garbage cannot grow it.
_valid_headers: dict[str, str] = {}
_VALID_HEADERS_MAX = 256


def _header_kid(segment: str) -> str:
    """The ``kid`` of a header that passes checks 3-6."""
    header = _json_segment(segment, "header")
    if header.keys() != _HEADER_FIELDS:
        raise rejection(exc.TOKEN_INVALID, "header must hold exactly alg, typ and kid")
    if header["alg"] != ALGORITHM:
        raise rejection(exc.TOKEN_INVALID, "algorithm not allowed")
    if header["typ"] != TOKEN_TYPE:
        raise rejection(exc.TOKEN_INVALID, f"typ must be {TOKEN_TYPE}")
    kid = header["kid"]
    if type(kid) is not str or not KID_PATTERN.fullmatch(kid):
        raise rejection(exc.TOKEN_INVALID, "malformed kid")
    if len(_valid_headers) >= _VALID_HEADERS_MAX:
        _valid_headers.clear()
    _valid_headers[segment] = kid
    return kid


def _numeric_date(claims: dict[str, Any], name: str) -> int:
    value = claims.get(name)
    if type(value) is not int or not 0 <= value < _MAX_NUMERIC_DATE:
        raise rejection(exc.TOKEN_INVALID, f"claim {name} must be an integer NumericDate", claims)
    return value


def verify(token: str, *, method: str, path: str, body: bytes, now: float | None = None) -> VerifiedToken:
    """Every check but the replay store. Raises ``TokenRejected`` or ``VerificationUnavailable``."""
    config = ms_token_settings
    if len(token) > config.MAX_TOKEN_BYTES:
        raise rejection(exc.TOKEN_INVALID, "token too large")
    shape = _TOKEN_SHAPE.fullmatch(token)
    if shape is None:
        raise rejection(exc.TOKEN_INVALID, "token is not three base64url segments")
    header_segment, payload_segment, signature_segment = shape.groups()

    kid = _valid_headers.get(header_segment) or _header_kid(header_segment)

    claims = _json_segment(payload_segment, "payload")
    issuer = claims.get("iss")
    if type(issuer) is not str:
        raise rejection(exc.TOKEN_INVALID, "claim iss must be a string", claims)
    # A token of the token service names the calling service in sub; the caller's grant still
    # comes from our own policy. Nobody else may speak for another service.
    if "sub" in claims:
        caller, token_service = claims["sub"], issuer
        if issuer != config.TOKEN_SERVICE_ISSUER or type(caller) is not str:
            raise rejection(exc.TOKEN_INVALID, "only the token service's tokens carry sub", claims)
    else:
        caller, token_service = issuer, None
    granted = config.TRUSTED_ISSUERS.get(caller)
    if granted is None:
        raise rejection(exc.UNTRUSTED_ISSUER, "issuer not trusted", claims)
    try:
        verifying_key = public_key(issuer, kid)  # our own key ring when we are the issuer
    except UnknownKeyError as error:
        raise rejection(exc.TOKEN_INVALID, "the issuer publishes no such key", claims) from error
    except KeySetUnavailable as error:
        raise exc.VerificationUnavailable(f"keys of {issuer} unavailable: {error}") from error
    signature = base64.urlsafe_b64decode(signature_segment + "==")
    if not signature_is_valid(verifying_key, signature, token[: shape.end(2)].encode("ascii")):
        raise rejection(exc.TOKEN_INVALID, "bad signature", claims)

    for name in _STRING_CLAIMS:
        if type(claims.get(name)) is not str:
            raise rejection(exc.TOKEN_INVALID, f"claim {name} must be a string", claims)
    expires = _numeric_date(claims, "exp")
    issued = _numeric_date(claims, "iat")
    not_before = _numeric_date(claims, "nbf") if "nbf" in claims else None
    jti = claims["jti"]
    if not _JTI_PATTERN.fullmatch(jti):
        raise rejection(exc.TOKEN_INVALID, "malformed jti", claims)

    if claims["aud"] != config.SERVICE_NAME:
        raise rejection(exc.TOKEN_AUDIENCE_MISMATCH, f"token is not meant for {config.SERVICE_NAME}", claims)

    now = time.time() if now is None else now
    leeway = config.LEEWAY
    if now > expires + leeway:
        raise rejection(exc.TOKEN_EXPIRED, "token expired", claims)
    if issued > now + leeway or (not_before is not None and not_before > now + leeway):
        raise rejection(exc.TOKEN_INVALID, "token issued in the future", claims)
    if not 0 < expires - issued <= config.MAX_TOKEN_TTL:
        raise rejection(exc.TOKEN_INVALID, f"lifetime must be within 1..{config.MAX_TOKEN_TTL} s", claims)

    if claims["htm"] != method or claims["htu"] != path:
        raise rejection(exc.TOKEN_REQUEST_MISMATCH, "token signed for another method or path", claims)
    if claims.get("bh") != (body_hash(body) if body else None):
        raise rejection(exc.TOKEN_REQUEST_MISMATCH, "token signed for another body", claims)

    scopes = frozenset(claims["scope"].split())
    if not scopes <= granted:
        raise rejection(exc.INSUFFICIENT_SCOPE, "scope not granted to this caller", claims)
    return VerifiedToken(issuer, jti, scopes, expires + leeway + _REPLAY_MARGIN, claims, caller, token_service)
