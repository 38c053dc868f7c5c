"""Minting: one signed X-MS-TOKEN for one request, and transaction tokens (``SPEC.md``).

    X-MS-TOKEN  header {"alg": "EdDSA", "typ": "ms+jwt", "kid": <signing key id>}
                claims iss, aud, iat, exp, jti, scope, htm, htu, then for the parts the request
                has: qh (its query), bh (its body), tth (the transaction token it carries)
    transaction header {"alg": "EdDSA", "typ": "txntoken+jwt", "kid": ...}
    token       claims iss, aud, iat, exp, txn, sub, req_wl

Every hash claim is base64url (no padding) of a SHA-256. The encoded header is computed once per
key; an X-MS-TOKEN costs one JSON dump, one signature and a few base64 encodings.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import time
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from .encoding import b64url_encode as b64url_encode  # also the library's, as before
from .keys import SigningKey, own_key_ring
from .settings import FORMAT_MAX_TOKEN_TTL, check_ttl, ms_token_settings

# Either token, compact: three base64url segments, the last an Ed25519 signature (64 bytes, 86
# characters). Groups: header, claims, signature.
TOKEN_SHAPE = re.compile(r"([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{86})")
TOKEN_TYPE = "ms+jwt"
TXN_TOKEN_TYPE = "txntoken+jwt"
ALGORITHM = "EdDSA"

_encoded_headers: dict[str, dict[str, bytes]] = {TOKEN_TYPE: {}, TXN_TOKEN_TYPE: {}}  # typ -> kid -> header
_compact_json = json.JSONEncoder(separators=(",", ":")).encode  # built once, not per call
_quote = json.encoder.encode_basestring_ascii  # a JSON string literal, quotes included


def body_hash(body: bytes) -> str:
    """The ``bh`` claim: base64url (no padding) of the body's SHA-256."""
    return b64url_encode(hashlib.sha256(body).digest()).decode("ascii")


def _wire_bytes(text: str) -> bytes:
    """The bytes a header or query string was sent as. WSGI servers (and Django's test client)
    give each byte as one character (ISO-8859-1), so that is reversed exactly; characters beyond
    it (an ASGI server decodes UTF-8) can only have been sent as UTF-8."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def query_hash(query: str) -> str:
    """The ``qh`` claim: of the query string exactly as sent, without ``?`` (``QUERY_STRING``)."""
    return body_hash(_wire_bytes(query))


def txn_token_hash(txn_token: str) -> str:
    """The ``tth`` claim: of the transaction token sent as ``Txn-Token`` (WIMSE's ``tth``)."""
    return body_hash(_wire_bytes(txn_token))


def encoded_header(key: SigningKey, token_type: str = TOKEN_TYPE) -> bytes:
    headers = _encoded_headers[token_type]
    header = headers.get(key.kid)
    if header is None:
        document = {"alg": ALGORITHM, "typ": token_type, "kid": key.kid}
        header = headers[key.kid] = b64url_encode(_compact_json(document).encode())
    return header


def mint(
    audience: str,
    scope: str,
    method: str,
    path: str,
    body: bytes | None = None,
    *,
    query: str | None = None,
    txn_token: str | None = None,
    issuer: str | None = None,
    ttl: int | None = None,
    key: SigningKey | None = None,
) -> str:
    """A new token for one request to ``audience``: ``path`` without host or query (as the
    callee's Django sees it), ``query`` the query string exactly as sent (without ``?``),
    ``txn_token`` the transaction token the request carries as ``Txn-Token``."""
    if ttl is None:
        ttl = ms_token_settings.TOKEN_TTL  # checked with the settings
    else:
        check_ttl(ttl, ms_token_settings.MAX_TOKEN_TTL, "ttl")
    if key is None:
        key = own_key_ring().signing_key
    now = int(time.time())
    # The claims JSON is written directly (strings escaped by json's own C quoting): far
    # cheaper than json.dumps of a dict (README, "Speed"), and minting is on every outgoing call.
    claims = (
        f'{{"iss":{_quote(issuer or ms_token_settings.SERVICE_NAME)},"aud":{_quote(audience)},'
        f'"iat":{now},"exp":{now + ttl},"jti":"{b64url_encode(os.urandom(16)).decode()}",'
        f'"scope":{_quote(scope)},"htm":{_quote(method.upper())},"htu":{_quote(path)}'
    )
    if query:
        claims += f',"qh":"{query_hash(query)}"'
    if body:
        claims += f',"bh":"{body_hash(body)}"'
    if txn_token is not None:
        claims += f',"tth":"{txn_token_hash(txn_token)}"'
    return _signed((claims + "}").encode(), key, TOKEN_TYPE)


def sign_claims(claims: dict[str, Any], *, key: SigningKey | None = None, token_type: str = TOKEN_TYPE) -> str:
    """A token of exactly ``claims`` (compact JSON, in their order), with mint's header (or the
    transaction token's, ``token_type=TXN_TOKEN_TYPE``), signed with ``key`` (default: our
    newest key). For issuers that set claims of their own, such as the token service's ``sub``;
    the caller is responsible for the claims the contract requires."""
    if key is None:
        key = own_key_ring().signing_key
    if token_type not in _encoded_headers:
        raise ValueError(f"unknown token type {token_type!r}")
    return _signed(_compact_json(claims).encode(), key, token_type)


def txn_token_claims(
    *,
    subject: str,
    requester: str,
    not_after: int | None = None,
    ttl: int | None = None,
    audience: str | None = None,
    issuer: str | None = None,
    now: int | None = None,
    txn: str | None = None,
) -> dict[str, Any]:
    """The claims of a new transaction token for ``subject`` (the end user), asked for by the
    service ``requester`` (``req_wl``): living ``ttl`` seconds (``TXN_TOKEN_TTL``) but never past
    ``not_after`` (the subject token's ``exp``); ``txn`` unique (random unless given)."""
    ttl = ms_token_settings.TXN_TOKEN_TTL if ttl is None else check_ttl(ttl, FORMAT_MAX_TOKEN_TTL, "ttl")
    audience = audience or ms_token_settings.TXN_TOKEN_AUDIENCE
    if not audience:
        raise ImproperlyConfigured("transaction tokens need MS_TOKEN['TXN_TOKEN_AUDIENCE'] (their trust domain)")
    issued = int(time.time()) if now is None else now
    expires = issued + ttl if not_after is None else min(issued + ttl, not_after)
    if expires <= issued:
        raise ValueError("the subject token expires before a transaction token could live")
    return {
        "iss": issuer or ms_token_settings.SERVICE_NAME,
        "aud": audience,
        "iat": issued,
        "exp": expires,
        "txn": txn or b64url_encode(os.urandom(16)).decode("ascii"),
        "sub": subject,
        "req_wl": requester,
    }


def mint_txn_token(*, key: SigningKey | None = None, **claims: Any) -> tuple[str, dict[str, Any]]:
    """A new transaction token (``txn_token_claims(**claims)``), signed with ``key`` (default:
    our newest key); returns the token and its claims (for the issuer's record)."""
    document = txn_token_claims(**claims)
    return sign_claims(document, key=key, token_type=TXN_TOKEN_TYPE), document


def _signed(claims_json: bytes, key: SigningKey, token_type: str) -> str:
    signing_input = encoded_header(key, token_type) + b"." + b64url_encode(claims_json)
    signature = key.private_key.sign(signing_input)
    return (signing_input + b"." + b64url_encode(signature)).decode("ascii")
