"""Service tokens for the e2e tests, made the two ways a caller gets them (issue 6):

- ``library_token``: self-signed by the project's library with the test keys, as
  `python manage_all.py ms-token --from billing ...` would print it (``MS_TOKEN_SOURCE=self``);
- ``token_service_token``: asked over HTTP from the running token service
  (user, ``POST /api/service-tokens/``) with a client assertion signed by billing's key, as
  billing does with ``MS_TOKEN_SOURCE=token-service``.
"""
from __future__ import annotations

import json

import requests

from shopdev.shop import Shop

TOKEN_ENDPOINT = "/api/service-tokens/"
ASSERTION_SCOPE = "service-tokens:request"


def library_token(
    shop: Shop,
    *,
    method: str,
    path: str,
    issuer: str = "billing",
    audience: str = "product",
    scope: str = "products:read",
    body: bytes | None = None,
    ttl: int = 30,
) -> str:
    mint = _library_mint()
    return mint(
        audience, scope, method, path, body, issuer=issuer, ttl=ttl, key=shop.signing_key(issuer)
    )


def request_token_service(
    shop: Shop, *, method: str, path: str, caller: str = "billing", audience: str = "product",
    scope: str = "products:read", assertion: str | None = None,
) -> requests.Response:
    """One POST to the token service, authenticated by ``caller``'s client assertion (or the
    given ``assertion``): the raw answer."""
    body = json.dumps({"audience": audience, "scope": scope, "method": method, "path": path}).encode()
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


def _library_mint():
    """The library reads Django settings at import; this process runs no Django project, so it
    gets the least settings that minting needs (the issuer and key are passed explicitly)."""
    from django.conf import settings

    if not settings.configured:
        settings.configure(MS_TOKEN={"SERVICE_NAME": "billing"})
    from ms_token.tokens import mint

    return mint
