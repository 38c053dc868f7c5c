"""Who is calling, once an X-MS-TOKEN has been verified."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServicePrincipal:
    """``request.user`` for a verified service call: the calling service and its granted scopes.

    ``token_service`` is the issuer that vouched for ``service`` (a token of the central token
    service, ``sub`` = ``service``); None when the caller signed the token itself.

    It is authenticated (DRF's ``IsAuthenticated`` passes) but is not an end user: views for end
    users need a permission that refuses it (``isinstance(request.user, ServicePrincipal)``),
    views for services ``HasServiceScope``.
    """

    service: str
    scopes: frozenset[str]
    jti: str = ""
    token_service: str | None = None

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    id = None
    pk = None

    @property
    def username(self) -> str:
        return f"service:{self.service}"

    def __str__(self) -> str:
        return self.username
