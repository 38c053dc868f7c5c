"""What a service caller may do: the callee's view names the scopes it needs, and the end user a
call must be made for (the subject of its transaction token)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

if TYPE_CHECKING:  # rest_framework.views imports the authentication classes, and so this module
    from rest_framework.views import APIView

from ...principal import ServicePrincipal
from .exceptions import InsufficientScope, SubjectMismatch, TxnTokenRequired

__all__ = ["HasServiceScope", "HasTxnTokenSubject", "InsufficientScope", "required_scopes_for"]


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


class HasTxnTokenSubject(BasePermission):
    """Admits a verified service call made for the end user the URL names: its transaction token
    (``Txn-Token``, bound by ``tth``, verified) has ``sub`` equal to the URL argument
    ``view.txn_token_subject_kwarg``. With ``HasServiceScope`` first:

        permission_classes = [HasServiceScope, HasTxnTokenSubject]
        required_scopes = ["users:read"]
        txn_token_subject_kwarg = "user_id"      # path("users/<int:user_id>/", ...)

    No transaction token: 403 ``txn_token_required``; one for another user: 403
    ``subject_mismatch`` (both raised, so that they win inside ``A | B``). A caller that is not
    a service is not admitted (False). A view whose URL does not capture
    ``txn_token_subject_kwarg`` is a configuration error (``ImproperlyConfigured``), never a
    comparison with a missing value.
    """

    def has_permission(self, request: Request, view: APIView) -> bool:
        principal = request.user
        if not isinstance(principal, ServicePrincipal):
            return False
        name = getattr(view, "txn_token_subject_kwarg", None)
        if not name:
            raise ImproperlyConfigured(f"{type(view).__name__} must name txn_token_subject_kwarg")
        if name not in view.kwargs:
            # Checked before the subject: a missing argument must not compare as "None".
            raise ImproperlyConfigured(
                f"{type(view).__name__}.txn_token_subject_kwarg is {name!r}, which its URL does not "
                f"capture (it captures: {', '.join(sorted(view.kwargs)) or 'nothing'})"
            )
        if principal.subject is None:
            raise TxnTokenRequired()
        if principal.subject != str(view.kwargs[name]):
            raise SubjectMismatch(f"The transaction token is for another user than {name} of this URL.")
        return True
