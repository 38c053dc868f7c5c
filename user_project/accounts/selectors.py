"""Reads of the user service."""
from __future__ import annotations

from .models import User

# Ids come from URLs; anything outside a signed 64-bit integer cannot be a row, and asking the
# database about it would be an overflow error instead of a 404.
_MAX_ID = 2**63 - 1


def user_get(*, user_id: int) -> User | None:
    if not 0 < user_id <= _MAX_ID:
        return None
    return User.objects.filter(pk=user_id).first()


def user_authenticate(*, request, username: str, password: str) -> User | None:
    """The active user with these credentials, or None (Django's auth backends decide)."""
    from django.contrib.auth import authenticate

    user = authenticate(request=request, username=username, password=password)
    return user if user is not None and user.is_active else None
