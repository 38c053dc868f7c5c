"""Reads of the token service. Read on every request, never cached: switching a caller off or
changing a grant in the admin takes effect from the next request."""
from __future__ import annotations

from .models import ServiceCaller, ServiceGrant


def service_caller_get(*, name: str) -> ServiceCaller | None:
    return ServiceCaller.objects.filter(name=name).first()


def service_grant_scopes(*, caller: ServiceCaller, audience: str) -> frozenset[str]:
    """The scopes ``caller`` may get for ``audience``; empty when it has no grant there."""
    grant = ServiceGrant.objects.filter(caller=caller, audience=audience).first()
    return grant.scope_set if grant is not None else frozenset()
