"""Writes of the user service: accounts, profile, and the token pairs that stand for a login."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import update_last_login
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.utils import datetime_from_epoch
from service_kit.errors import DomainError
from service_kit.usernames import username_key

from .models import USERNAME_TAKEN_MESSAGE, RevokedLogin, User
from .selectors import login_revoked, user_get
from .tokens import RefreshTokenReused, ShopRefreshToken


class UsernameTaken(DomainError):
    """Another account already has this username."""

    code = "unique"
    detail = USERNAME_TAKEN_MESSAGE
    field = "username"


class RefreshRefused(DomainError):
    """The refresh token is invalid, expired, already used or logged out, or its user is gone."""

    status = 401
    code = "token_not_valid"
    detail = "Token is invalid or expired"
    www_authenticate = 'Bearer realm="api"'


class _AlreadyRevoked(Exception):
    """Another request blacklisted the token first."""


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
    """The refresh token, if it may be used. One that was already replaced or logged out comes
    back only from whoever kept a copy: its whole login is revoked (``revoke_login``)."""
    try:
        token = ShopRefreshToken(raw)  # signature, iss/aud, expiry, type, blacklist
    except RefreshTokenReused as exc:
        revoke_login(sid=exc.token.login)
        raise RefreshRefused(str(exc.args[0])) from exc
    except TokenError as exc:
        raise RefreshRefused(str(exc.args[0])) from exc
    if login_revoked(sid=token.login):
        raise RefreshRefused("Token is revoked: a token of its login was used twice")
    return token


def _token_user(token: ShopRefreshToken) -> User | None:
    try:
        user_id = int(token.get(jwt_settings.USER_ID_CLAIM))
    except (TypeError, ValueError):
        return None
    return user_get(user_id=user_id)


def _revoke(token: ShopRefreshToken, *, user: User | None) -> None:
    """Blacklist ``token``; ``_AlreadyRevoked`` if someone else did so first.

    ``check_blacklist`` ran when the token was read, but two requests with the same token can
    both get past it. The blacklist row is unique per token, so only one of them creates it (the
    other waits for its commit, then finds it): a refresh token is never rotated twice.
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
        raise _AlreadyRevoked


@contextmanager
def _revoking(token: ShopRefreshToken, *, user: User | None) -> Iterator[None]:
    """A transaction that starts by blacklisting ``token``. A token someone else blacklisted
    meanwhile was used twice: its login is revoked, and the token refused."""
    try:
        with transaction.atomic():
            _revoke(token, user=user)
            yield
    except _AlreadyRevoked:
        revoke_login(sid=token.login)  # after the rollback, so that it stays
        raise RefreshRefused("Token is blacklisted") from None


def rotate_refresh_token(*, refresh: str) -> TokenPair:
    """Trade a refresh token for a new pair of the same login; the old refresh token is dead
    from then on.

    The new pair is built from the database user, not copied from the old token, so a change of
    username or staff status reaches the next access token, and a deactivated user gets none.
    """
    token = _verified_refresh(refresh)
    user = _token_user(token)
    if user is None or not user.is_active:
        raise RefreshRefused("No active account found for the given token.")
    with _revoking(token, user=user):
        new = ShopRefreshToken.for_user(user, login=token.login)
    return TokenPair(access=str(new.access_token), refresh=str(new))


def logout(*, refresh: str) -> None:
    """Kill a refresh token, and so the rest of its line (access tokens die on their own within
    minutes). The user's other logins live on."""
    token = _verified_refresh(refresh)
    with _revoking(token, user=_token_user(token)):
        pass


def revoke_login(*, sid: str) -> None:
    """Refuse every refresh token of the login ``sid`` from now on: those already issued live at
    most ``REFRESH_TOKEN_LIFETIME``, and so does the record. Records past that go."""
    now = timezone.now()
    leeway = jwt_settings.LEEWAY  # seconds, or a timedelta
    leeway = leeway if isinstance(leeway, timedelta) else timedelta(seconds=leeway)
    expires_at = now + jwt_settings.REFRESH_TOKEN_LIFETIME + leeway
    RevokedLogin.objects.filter(expires_at__lt=now).delete()
    RevokedLogin.objects.update_or_create(sid=sid, defaults={"revoked_at": now, "expires_at": expires_at})


def ensure_demo_staff(*, username: str, password: str) -> User:
    """The demo staff account, created once and reset on every run so the printed login works.

    Superuser as well as staff, so the same login also manages users in this service's admin.
    The password skips the validators on purpose: it is the operator's choice, from the env.
    """
    with transaction.atomic():
        user, _ = User.objects.select_for_update().get_or_create(
            username_key=username_key(username), defaults={"username": username, "email": f"{username}@example.com"}
        )
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(password)
        user.save()
    return user
