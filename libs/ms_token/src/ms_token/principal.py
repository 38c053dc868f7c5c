"""Who is calling, once an X-MS-TOKEN has been verified."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServicePrincipal:
    """``request.user`` for a verified service call: the calling service and its granted scopes.

    ``token_service`` is the issuer that vouched for ``service`` (a token of the central token
    service, ``sub`` = ``service``); None when the caller signed the token itself.

    ``subject`` and ``txn``: the end user (``sub``) and the transaction (``txn``) of the
    transaction token the call carried, bound by the X-MS-TOKEN's ``tth`` and verified; None
    for a call made for no end user.

    It is authenticated (DRF's ``IsAuthenticated`` passes) but is not an end user: views for end
    users need a permission that refuses it (``isinstance(request.user, ServicePrincipal)``),
    views for services ``HasServiceScope`` (and ``HasTxnTokenSubject`` to act for one user only).
    """

    service: str
    scopes: frozenset[str]
    jti: str = ""
    token_service: str | None = None
    subject: str | None = None
    txn: str | None = None

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
