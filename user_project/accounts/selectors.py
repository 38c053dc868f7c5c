"""Reads of the user service."""
from __future__ import annotations

from service_kit.usernames import username_key

from .models import RevokedLogin, User


def user_get(*, user_id: int) -> User | None:
    """``user_id`` comes from an ``<id:...>`` URL: within what a database id can hold."""
    return User.objects.filter(pk=user_id).first()


def active_user_get(*, user_id: int) -> User | None:
    """The active user ``user_id`` (a database id: positive, below 2**63), or None."""
    return User.objects.filter(pk=user_id, is_active=True).first()


def user_authenticate(*, request, username: str, password: str) -> User | None:
    """The active user with these credentials, or None (Django's auth backends decide)."""
    from django.contrib.auth import authenticate

    user = authenticate(request=request, username=username, password=password)
    return user if user is not None and user.is_active else None


def username_taken(*, username: str, except_user_id: int | None = None) -> bool:
    """Whether an account (other than ``except_user_id``) has this name in any spelling."""
    return User.objects.filter(username_key=username_key(username)).exclude(pk=except_user_id).exists()


def login_revoked(*, sid: str) -> bool:
    """Whether the login ``sid`` was revoked (a refresh token of it was used twice)."""
    return RevokedLogin.objects.filter(sid=sid).exists()
