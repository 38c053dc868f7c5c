"""Reads of the token service. Read on every request, never cached: switching a caller off or
changing a grant in the admin takes effect from the next request."""
from __future__ import annotations

from dataclasses import dataclass

from django.db.models import OuterRef, Subquery

from .models import ServiceCaller, ServiceGrant


@dataclass(frozen=True)
class CallerGrant:
    """A registered caller, and the scopes it may get for one audience (empty: no grant)."""

    is_enabled: bool
    scopes: frozenset[str]


def service_caller_grant(*, name: str, audience: str) -> CallerGrant | None:
    """The caller ``name`` with its grant for ``audience``, in one query; None when unregistered."""
    # one grant per (caller, audience) by constraint: no ordering needed
    grant = ServiceGrant.objects.filter(caller=OuterRef("pk"), audience=audience).order_by().values("scopes")[:1]
    row = ServiceCaller.objects.filter(name=name).values("is_enabled", scopes=Subquery(grant)).first()
    if row is None:
        return None
    return CallerGrant(is_enabled=row["is_enabled"], scopes=frozenset((row["scopes"] or "").split()))
