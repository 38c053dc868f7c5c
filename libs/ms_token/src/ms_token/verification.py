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
10. claims present and well typed: strings, and integers (not bools, not floats) in [0, 2^63);
    ``qh`` and ``bh``, when present, strings (``null`` too is refused)
11. ``aud`` is this service, 12. ``exp``/``iat``/``nbf`` with leeway, lifetime <= maximum
13. ``htm``/``htu``/``qh``/``bh`` match the request (a hash claim for a part the request lacks,
    or none for a part it has, is a mismatch)
14. ``tth`` and the ``Txn-Token`` come together, match, and the transaction token verifies
    (``verify_txn_token``): else ``txn_token_invalid``
15. the requested scopes are granted to the caller

The replay check (``replay.py``) comes last, in ``admission.py``; its refusal is made with
``rejection`` too, so every refusal logs the same issuer, jti and caller.
"""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError

from .encoding import b64url_decode
from .jwks import KeySetUnavailable, UnknownKeyError, VerifyingKey, verifying_key
from .keys import KID_PATTERN
from . import exceptions as exc
from .settings import FORMAT_MAX_TOKEN_TTL, ms_token_settings
from .tokens import ALGORITHM, TOKEN_SHAPE, TOKEN_TYPE, TXN_TOKEN_TYPE, body_hash, query_hash, txn_token_hash

_HEADER_FIELDS = frozenset({"alg", "typ", "kid"})
_JTI_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,128}")
_STRING_CLAIMS = ("iss", "aud", "jti", "scope", "htm", "htu")
_TXN_STRING_CLAIMS = ("iss", "aud", "txn", "sub", "req_wl")
_HASH_CLAIMS = ("qh", "bh")  # optional; when present, strings (tth: check 14's own code)
_MAX_SUBJECT_LENGTH = 255
_MAX_NUMERIC_DATE = 2**63
# The replay store remembers a jti this much longer than the token can pass the expiry check,
# so a copy verified just before expiry cannot claim it after the original row was pruned.
_REPLAY_MARGIN = 60


@dataclass(frozen=True, slots=True)
class VerifiedTxnToken:
    """A transaction token that passed ``verify_txn_token``: the end user behind a call."""

    issuer: str
    txn: str  # the transaction's id
    subject: str  # sub: the end user
    requester: str  # req_wl: the service that asked for it
    expires_at: int
    claims: dict[str, Any]


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    issuer: str  # iss: whose key signed it; with jti, the replay key
    jti: str
    scopes: frozenset[str]
    remember_until: int  # exp + leeway + a margin: how long the replay store must remember the jti
    claims: dict[str, Any]
    caller: str  # the calling service: iss, or sub of a token-service token
    token_service: str | None = None  # iss of a token-service token (it vouched for caller)
    txn: VerifiedTxnToken | None = None  # the transaction token the call carried (tth)

    @property
    def expires_at(self) -> int:
        """``remember_until``, by its earlier name (it is no expiry: the jti outlives the token)."""
        return self.remember_until


def rejection(code: str, detail: str, claims: dict[str, Any] | None = None) -> exc.TokenRejected:
    """A refusal, with the issuer, jti and caller of ``claims`` (when known) for the log."""
    error = exc.TokenRejected(code, detail)
    if claims is not None:
        error.issuer, error.jti, error.caller = claims.get("iss"), claims.get("jti"), claims.get("sub")
    return error


def signature_is_valid(key: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    """Ed25519 by libsodium: about half the CPU of OpenSSL's verify (README, "Speed"), and every
    call a service accepts pays it. libsodium is the stricter of the two: it also refuses
    small-order and non-canonical points."""
    return _signature_is_valid(key.public_bytes_raw(), signature, message)


def _signature_is_valid(raw_key: bytes, signature: bytes, message: bytes) -> bool:
    try:
        crypto_sign_open(signature + message, raw_key)
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
        raw = b64url_decode(segment)
        # UTF-8 strictly (RFC 7515): json.loads of bytes would also take UTF-16, UTF-32 and a BOM.
        document = json.loads(raw.decode("utf-8"), object_pairs_hook=_unique_keys, parse_constant=_no_constants)
    except (ValueError, RecursionError) as error:  # binascii.Error, JSON, UTF-8: all ValueError
        raise rejection(exc.TOKEN_INVALID, f"{what} is not valid base64url JSON") from error
    if type(document) is not dict:
        raise rejection(exc.TOKEN_INVALID, f"{what} is not a JSON object")
    return document


# Every token of one key has the same header: parse and check it once. Only headers that passed
# are kept (one cache per typ, so that no header passes as another type's), and a cache is
# emptied when full, so garbage cannot grow it.
_valid_headers: dict[str, str] = {}
_valid_txn_headers: dict[str, str] = {}
_VALID_HEADERS_MAX = 256


def _header_kid(segment: str, token_type: str = TOKEN_TYPE, valid: dict[str, str] = _valid_headers) -> str:
    """The ``kid`` of a header that passes checks 3-6 for ``token_type``, remembered in ``valid``."""
    header = _json_segment(segment, "header")
    if header.keys() != _HEADER_FIELDS:
        raise rejection(exc.TOKEN_INVALID, "header must hold exactly alg, typ and kid")
    if header["alg"] != ALGORITHM:
        raise rejection(exc.TOKEN_INVALID, "algorithm not allowed")
    if header["typ"] != token_type:
        raise rejection(exc.TOKEN_INVALID, f"typ must be {token_type}")
    kid = header["kid"]
    if type(kid) is not str or not KID_PATTERN.fullmatch(kid):
        raise rejection(exc.TOKEN_INVALID, "malformed kid")
    if len(valid) >= _VALID_HEADERS_MAX:
        valid.clear()
    valid[segment] = kid
    return kid


def _numeric_date(claims: dict[str, Any], name: str, logged: dict[str, Any] | None) -> int:
    value = claims.get(name)
    if type(value) is not int or not 0 <= value < _MAX_NUMERIC_DATE:
        raise rejection(exc.TOKEN_INVALID, f"claim {name} must be an integer NumericDate", logged)
    return value


# exp, iat and nbf (None when absent), each an integer NumericDate.
Times = tuple[int, int, int | None]


def _times(claims: dict[str, Any], logged: dict[str, Any] | None) -> Times:
    """The token's times, typed (check 10); ``logged``: the claims a refusal names, if any."""
    not_before = _numeric_date(claims, "nbf", logged) if "nbf" in claims else None
    return _numeric_date(claims, "exp", logged), _numeric_date(claims, "iat", logged), not_before


def _check_times(
    times: Times, now: float, *, max_lifetime: int, expired: str, what: str, logged: dict[str, Any] | None,
) -> None:
    """Check 12, for both token types: not expired (refused with the code ``expired``), not
    issued or valid in the future, lifetime within 1..``max_lifetime``; with the leeway.
    ``what`` starts each refusal's detail."""
    expires, issued, not_before = times
    leeway = ms_token_settings.LEEWAY
    if now > expires + leeway:
        raise rejection(expired, f"{what}expired", logged)
    if issued > now + leeway or (not_before is not None and not_before > now + leeway):
        raise rejection(exc.TOKEN_INVALID, f"{what}issued in the future", logged)
    if not 0 < expires - issued <= max_lifetime:
        raise rejection(exc.TOKEN_INVALID, f"{what}lifetime must be within 1..{max_lifetime} s", logged)


def _segments(token: str) -> re.Match[str]:
    """Checks 1 and 2: the token's three segments (groups 1-3)."""
    if len(token) > ms_token_settings.MAX_TOKEN_BYTES:
        raise rejection(exc.TOKEN_INVALID, "token too large")
    shape = TOKEN_SHAPE.fullmatch(token)
    if shape is None:
        raise rejection(exc.TOKEN_INVALID, "token is not three base64url segments")
    return shape


def _check_signature(shape: re.Match[str], key: VerifyingKey, claims: dict[str, Any] | None) -> None:
    """Check 9: the signature (group 3) over the header and payload segments as received."""
    signature = b64url_decode(shape.group(3))
    if not _signature_is_valid(key[1], signature, shape.string[: shape.end(2)].encode("ascii")):
        raise rejection(exc.TOKEN_INVALID, "bad signature", claims)


def _verifying_key(issuer: str, kid: str, claims: dict[str, Any] | None) -> VerifyingKey:
    try:
        return verifying_key(issuer, kid)  # our own key ring when we are the issuer
    except UnknownKeyError as error:
        raise rejection(exc.TOKEN_INVALID, "the issuer publishes no such key", claims) from error
    except KeySetUnavailable as error:
        raise exc.VerificationUnavailable(f"keys of {issuer} unavailable: {error}") from error


def verify(
    token: str,
    *,
    method: str,
    path: str,
    body: bytes,
    query: str = "",
    txn_token: str | None = None,
    now: float | None = None,
) -> VerifiedToken:
    """Every check but the replay store, for a request of ``method`` to ``path``
    (``request.path``) with ``query`` (``QUERY_STRING``, raw), ``body`` and the ``Txn-Token``
    header's value. Raises ``TokenRejected`` or ``VerificationUnavailable``."""
    config = ms_token_settings
    shape = _segments(token)
    header_segment, payload_segment, _signature = shape.groups()

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
    _check_signature(shape, _verifying_key(issuer, kid, claims), claims)

    for name in _STRING_CLAIMS:
        if type(claims.get(name)) is not str:
            raise rejection(exc.TOKEN_INVALID, f"claim {name} must be a string", claims)
    for name in _HASH_CLAIMS:
        # null included: a "qh": null must not pass as the absent qh of a request without query.
        if name in claims and type(claims[name]) is not str:
            raise rejection(exc.TOKEN_INVALID, f"claim {name} must be a string when present", claims)
    times = _times(claims, claims)
    jti = claims["jti"]
    if not _JTI_PATTERN.fullmatch(jti):
        raise rejection(exc.TOKEN_INVALID, "malformed jti", claims)

    if claims["aud"] != config.SERVICE_NAME:
        raise rejection(exc.TOKEN_AUDIENCE_MISMATCH, f"token is not meant for {config.SERVICE_NAME}", claims)

    now = time.time() if now is None else now
    _check_times(times, now, max_lifetime=config.MAX_TOKEN_TTL, expired=exc.TOKEN_EXPIRED, what="token ", logged=claims)

    if claims["htm"] != method or claims["htu"] != path:
        raise rejection(exc.TOKEN_REQUEST_MISMATCH, "token signed for another method or path", claims)
    if claims.get("qh") != (query_hash(query) if query else None):
        raise rejection(exc.TOKEN_REQUEST_MISMATCH, "token signed for another query string", claims)
    if claims.get("bh") != (body_hash(body) if body else None):
        raise rejection(exc.TOKEN_REQUEST_MISMATCH, "token signed for another body", claims)

    txn = None
    if txn_token is not None or "tth" in claims:
        txn = _bound_txn_token(claims, txn_token, now)

    scopes = frozenset(claims["scope"].split())
    if not scopes <= granted:
        raise rejection(exc.INSUFFICIENT_SCOPE, "scope not granted to this caller", claims)
    remember_until = times[0] + config.LEEWAY + _REPLAY_MARGIN
    return VerifiedToken(issuer, jti, scopes, remember_until, claims, caller, token_service, txn)


def _bound_txn_token(claims: dict[str, Any], txn_token: str | None, now: float) -> VerifiedTxnToken:
    """Check 14: the transaction token that the X-MS-TOKEN (``claims``) binds by ``tth``."""
    bound = claims.get("tth")
    if txn_token is None:
        raise rejection(exc.TXN_TOKEN_INVALID, "the token binds a transaction token (tth) the call does not carry", claims)
    if bound is None:
        raise rejection(exc.TXN_TOKEN_INVALID, "a Txn-Token must be bound by the X-MS-TOKEN's tth", claims)
    if type(bound) is not str or txn_token_hash(txn_token) != bound:
        raise rejection(exc.TXN_TOKEN_INVALID, "tth names another transaction token", claims)
    try:
        return verify_txn_token(txn_token, now=now)
    except exc.TokenRejected as error:
        raise rejection(exc.TXN_TOKEN_INVALID, error.detail, claims) from error


def verify_txn_token(token: str, *, now: float | None = None) -> VerifiedTxnToken:
    """A transaction token (``typ`` ``txntoken+jwt``) of ``TXN_TOKEN_ISSUER`` for
    ``TXN_TOKEN_AUDIENCE``: shape and header as an X-MS-TOKEN's, a key its issuer publishes, the
    signature, ``txn``/``sub``/``req_wl``, times with leeway, lifetime within the format's
    ``FORMAT_MAX_TOKEN_TTL``. Raises
    ``TokenRejected`` (``txn_token_invalid``) or ``VerificationUnavailable`` (its issuer's keys)."""
    try:
        return _verify_txn_token(token, time.time() if now is None else now)
    except exc.TokenRejected as error:
        if error.code == exc.TXN_TOKEN_INVALID:
            raise
        raise exc.TokenRejected(exc.TXN_TOKEN_INVALID, f"transaction token: {error.detail}") from error


def _verify_txn_token(token: str, now: float) -> VerifiedTxnToken:
    config = ms_token_settings
    accepted_issuer, accepted_audience = config.TXN_TOKEN_ISSUER, config.TXN_TOKEN_AUDIENCE
    if accepted_issuer is None or accepted_audience is None:
        raise exc.TokenRejected(exc.TXN_TOKEN_INVALID, "this service accepts no transaction tokens")
    shape = _segments(token)
    header_segment, payload_segment, _signature = shape.groups()
    kid = _valid_txn_headers.get(header_segment) or _header_kid(header_segment, TXN_TOKEN_TYPE, _valid_txn_headers)

    claims = _json_segment(payload_segment, "payload")
    if claims.get("iss") != accepted_issuer:
        raise rejection(exc.TOKEN_INVALID, "not issued by the transaction token service")
    _check_signature(shape, _verifying_key(accepted_issuer, kid, None), None)

    for name in _TXN_STRING_CLAIMS:
        if type(claims.get(name)) is not str:
            raise rejection(exc.TOKEN_INVALID, f"claim {name} must be a string")
    times = _times(claims, None)
    if not _JTI_PATTERN.fullmatch(claims["txn"]):
        raise rejection(exc.TOKEN_INVALID, "malformed txn")
    subject = claims["sub"]
    if not 0 < len(subject) <= _MAX_SUBJECT_LENGTH:
        raise rejection(exc.TOKEN_INVALID, "malformed sub")
    if claims["aud"] != accepted_audience:
        raise rejection(exc.TOKEN_INVALID, f"not meant for {accepted_audience}")
    _check_times(times, now, max_lifetime=FORMAT_MAX_TOKEN_TTL, expired=exc.TOKEN_INVALID, what="", logged=None)
    return VerifiedTxnToken(accepted_issuer, claims["txn"], subject, claims["req_wl"], times[0], claims)
