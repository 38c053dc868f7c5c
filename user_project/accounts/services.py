"""Writes of the user service: accounts, profile, and the token pairs that stand for a login."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import update_last_login
from django.db import IntegrityError, transaction
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.utils import datetime_from_epoch
from service_kit.errors import DomainError

from .models import User
from .selectors import user_get
from .tokens import ShopRefreshToken


class UsernameTaken(DomainError):
    """Another account already has this username."""

    code = "unique"
    detail = "A user with that username already exists."
    field = "username"


class RefreshRefused(DomainError):
    """The refresh token is invalid, expired, already used or logged out, or its user is gone."""

    status = 401
    code = "token_not_valid"
    detail = "Token is invalid or expired"
    www_authenticate = 'Bearer realm="api"'


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


def register_user(*, username: str, email: str, password: str) -> User:
    try:
        # A savepoint: a lost race on the unique username leaves the outer transaction usable.
        with transaction.atomic():
            return User.objects.create_user(username=username, email=email, password=password)
    except IntegrityError as exc:
        raise UsernameTaken() from exc


def update_profile(*, user: User, data: dict[str, Any]) -> User:
    """Change the editable profile fields in ``data`` (already validated); nothing else."""
    editable = {"email", "first_name", "last_name", "shipping_address"}
    changed = [field for field in data if field in editable]
    for field in changed:
        setattr(user, field, data[field])
    if changed:
        user.save(update_fields=changed)
    return user


def issue_token_pair(*, user: User) -> TokenPair:
    """Log ``user`` in: a new refresh token (recorded as outstanding) and its access token."""
    refresh = ShopRefreshToken.for_user(user)
    update_last_login(None, user)  # shown in the admin; the one login record we keep
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh))


def _verified_refresh(raw: str) -> ShopRefreshToken:
    try:
        return ShopRefreshToken(raw)  # signature, iss/aud, expiry, type, blacklist
    except TokenError as exc:
        raise RefreshRefused(str(exc.args[0])) from exc


def _token_user(token: ShopRefreshToken) -> User | None:
    try:
        user_id = int(token.get(jwt_settings.USER_ID_CLAIM))
    except (TypeError, ValueError):
        return None
    return user_get(user_id=user_id)


def _revoke(token: ShopRefreshToken, *, user: User | None) -> None:
    """Blacklist ``token``; refuse it if someone else did so first.

    ``check_blacklist`` ran when the token was read, but two requests with the same token can
    both get past it. The blacklist row is unique per token, so only one of them creates it;
    the other is refused, and a stolen refresh token cannot be rotated twice.
    """
    outstanding, _ = OutstandingToken.objects.get_or_create(
        jti=token[jwt_settings.JTI_CLAIM],
        defaults={
            "user": user,
            "token": str(token),
            "created_at": token.current_time,
            "expires_at": datetime_from_epoch(token["exp"]),
        },
    )
    _, created = BlacklistedToken.objects.get_or_create(token=outstanding)
    if not created:
        raise RefreshRefused("Token is blacklisted")


def rotate_refresh_token(*, refresh: str) -> TokenPair:
    """Trade a refresh token for a new pair; the old refresh token is dead from then on.

    The new pair is built from the database user, not copied from the old token, so a change of
    username or staff status reaches the next access token, and a deactivated user gets none.
    """
    token = _verified_refresh(refresh)
    user = _token_user(token)
    if user is None or not user.is_active:
        raise RefreshRefused("No active account found for the given token.")
    with transaction.atomic():
        _revoke(token, user=user)
        new = ShopRefreshToken.for_user(user)
    return TokenPair(access=str(new.access_token), refresh=str(new))


def logout(*, refresh: str) -> None:
    """Kill a refresh token (access tokens die on their own within minutes)."""
    token = _verified_refresh(refresh)
    with transaction.atomic():
        _revoke(token, user=_token_user(token))


def ensure_demo_staff(*, username: str, password: str) -> User:
    """The demo staff account, created once and reset on every run so the printed login works.

    Superuser as well as staff, so the same login also manages users in this service's admin.
    The password skips the validators on purpose: it is the operator's choice, from the env.
    """
    with transaction.atomic():
        user, _ = User.objects.select_for_update().get_or_create(
            username=username, defaults={"email": f"{username}@example.com"}
        )
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(password)
        user.save()
    return user
