"""Service tokens for the e2e tests, made the two ways a caller gets them (issue 6):

- ``library_token``: self-signed by the project's library with the test keys, as
  `python manage_all.py ms-token --from billing ...` would print it (``MS_TOKEN_SOURCE=self``);
- ``token_service_token``: asked over HTTP from the running token service
  (user, ``POST /api/service-tokens/``) with a client assertion signed by billing's key, as
  billing does with ``MS_TOKEN_SOURCE=token-service``.

A ``path`` may carry a query string (``/api/products/?ids=1,2``): the token binds it as written
(``qh``); ``txn_token`` binds a transaction token (``tth``).
"""
from __future__ import annotations

import base64
import hashlib
import json

import requests

from shopdev.shop import Shop

TOKEN_ENDPOINT = "/api/service-tokens/"
ASSERTION_SCOPE = "service-tokens:request"
TXN_TOKEN_ENDPOINT = "/api/txn-tokens/"


def library_token(
    shop: Shop,
    *,
    method: str,
    path: str,
    issuer: str = "billing",
    audience: str = "product",
    scope: str = "products:read",
    body: bytes | None = None,
    txn_token: str | None = None,
    ttl: int = 30,
    key=None,
) -> str:
    return shop.mint(issuer, audience=audience, scope=scope, method=method, path=path, body=body,
                     txn_token=txn_token, ttl=ttl)


def sha256_b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")


def request_token_service(
    shop: Shop, *, method: str, path: str, caller: str = "billing", audience: str = "product",
    scope: str = "products:read", assertion: str | None = None, txn_token: str | None = None,
) -> requests.Response:
    """One POST to the token service, authenticated by ``caller``'s client assertion (or the
    given ``assertion``): the raw answer."""
    path, _, query = path.partition("?")
    wanted = {"audience": audience, "scope": scope, "method": method, "path": path}
    if query:
        wanted["query_hash"] = sha256_b64url(query.encode())
    if txn_token:
        wanted["txn_token_hash"] = sha256_b64url(txn_token.encode())
    body = json.dumps(wanted).encode()
    if assertion is None:
        assertion = library_token(
            shop, method="POST", path=TOKEN_ENDPOINT, issuer=caller, audience="user", scope=ASSERTION_SCOPE, body=body
        )
    return requests.post(
        shop.url("user") + TOKEN_ENDPOINT,
        data=body,
        headers={"X-MS-TOKEN": assertion, "Content-Type": "application/json"},
        timeout=10,
    )


def token_service_token(shop: Shop, *, method: str, path: str, **kwargs) -> str:
    """A token the token service issues to billing for that request (what billing would send)."""
    response = request_token_service(shop, method=method, path=path, **kwargs)
    assert response.status_code == 200, f"token service answered {response.status_code}: {response.text[:300]}"
    return response.json()["token"]


def exchange_txn_token(shop: Shop, subject_token: str, *, caller: str = "billing") -> requests.Response:
    """billing's POST /api/txn-tokens/ for the end user of ``subject_token``: the raw answer."""
    body = json.dumps({"subject_token": subject_token}).encode()
    token = library_token(shop, method="POST", path=TXN_TOKEN_ENDPOINT, issuer=caller, audience="user",
                          scope="txn-tokens:request", body=body)
    return requests.post(
        shop.url("user") + TXN_TOKEN_ENDPOINT,
        data=body,
        headers={"X-MS-TOKEN": token, "Content-Type": "application/json"},
        timeout=10,
    )


def txn_token_for(shop: Shop, subject_token: str) -> str:
    """A transaction token for that user, as billing gets one."""
    response = exchange_txn_token(shop, subject_token)
    assert response.status_code == 201, f"txn-tokens answered {response.status_code}: {response.text[:300]}"
    return response.json()["txn_token"]
