"""What a service caller may do: the callee's view names the scopes it needs."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

if TYPE_CHECKING:  # rest_framework.views imports the authentication classes, and so this module
    from rest_framework.views import APIView

from ...principal import ServicePrincipal
from .exceptions import InsufficientScope

__all__ = ["HasServiceScope", "InsufficientScope", "required_scopes_for"]


def required_scopes_for(view: Any, method: str) -> frozenset[str]:
    """``view.required_scopes``: a list for every method, or a dict by method (``"*"`` for any)."""
    required: Any = getattr(view, "required_scopes", None) or ()
    if isinstance(required, dict):
        required = required.get(method, required.get("*", ()))
    return frozenset(str(scope) for scope in required)


class HasServiceScope(BasePermission):
    """Admits a verified service caller whose token carries every scope the view requires.

    A view that names no scope for the method admits no service. A service without the scope is
    refused with 403 ``insufficient_scope`` (raised, so that it wins inside ``A | B``).
    """

    def has_permission(self, request: Request, view: APIView) -> bool:
        principal = request.user
        if not isinstance(principal, ServicePrincipal):
            return False
        needed = required_scopes_for(view, request.method or "")
        if not needed:
            return False
        missing = needed - principal.scopes
        if missing:
            raise InsufficientScope(
                f"This call needs scope {' '.join(sorted(missing))}; the token carries "
                f"{' '.join(sorted(principal.scopes)) or 'none'}."
            )
        return True
