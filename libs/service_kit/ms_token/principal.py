"""Who is calling, once an X-MS-TOKEN has been verified."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServicePrincipal:
    """``request.user`` for a verified service call: the calling service and its granted scopes.

    It is authenticated (DRF's ``IsAuthenticated`` passes) but is not an end user: views for end
    users use ``service_kit.permissions.IsEndUser`` (the default), views for services
    ``HasServiceScope``.
    """

    service: str
    scopes: frozenset[str]
    jti: str = ""

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
