"""Permissions for end users (callers with a user access token or a local session)."""
from __future__ import annotations

from rest_framework.permissions import BasePermission

from ms_token.principal import ServicePrincipal


class IsEndUser(BasePermission):
    """A signed-in person, never a service: the default for every view, so that a service token
    opens only the views that name its scope."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and not isinstance(user, ServicePrincipal))


class IsStaffUser(IsEndUser):
    """A signed-in staff person (``is_staff`` in the user token, or a local staff session)."""

    def has_permission(self, request, view) -> bool:
        return super().has_permission(request, view) and bool(request.user.is_staff)
