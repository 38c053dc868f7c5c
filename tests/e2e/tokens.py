"""Service tokens for the e2e tests: made by the project's library with the test keys, as
`python manage_all.py ms-token --from billing ...` would print them."""
from __future__ import annotations

from shop import Shop


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


def _library_mint():
    """The library reads Django settings at import; this process runs no Django project, so it
    gets the least settings that minting needs (the issuer and key are passed explicitly)."""
    from django.conf import settings

    if not settings.configured:
        settings.configure(SERVICE_NAME="billing", MS_TOKEN={})
    from service_kit.ms_token.tokens import mint

    return mint
