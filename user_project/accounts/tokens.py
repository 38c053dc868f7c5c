"""The token pair this service issues: service_kit's EdDSA tokens plus who the user is.

Product and billing keep no user table, so everything they need to decide (who, staff or not)
travels in the access token. The claims are set on the refresh token, from which simplejwt
copies them into every access token it derives.

Every refresh token also names the login it descends from (``sid``): one per login, passed on
from each refresh token to the one that replaces it, so that one reused token can end its whole
line (the token family of RFC 9700's refresh token rotation).
"""
from __future__ import annotations

from uuid import uuid4

from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from service_kit.user_auth import UserRefreshToken

from .models import User

LOGIN_CLAIM = "sid"


class RefreshTokenReused(TokenError):
    """A refresh token that was already rotated or logged out came back (``token`` is verified)."""

    def __init__(self, token: "ShopRefreshToken") -> None:
        super().__init__("Token is blacklisted")
        self.token = token


class ShopRefreshToken(UserRefreshToken):
    no_copy_claims = (*UserRefreshToken.no_copy_claims, LOGIN_CLAIM)  # a refresh token's business

    @classmethod
    def for_user(cls, user: User, *, login: str | None = None) -> "ShopRefreshToken":
        """A refresh token of ``login`` (the ``sid`` of the token it replaces), or of a new login."""
        token = super().for_user(user)  # user_id (as a string) and an outstanding-token row
        token["username"] = user.get_username()
        token["is_staff"] = bool(user.is_staff)
        token[LOGIN_CLAIM] = login or uuid4().hex
        return token

    @property
    def login(self) -> str:
        """The login this token descends from; a token issued before logins were named is one
        of its own."""
        sid = self.get(LOGIN_CLAIM)
        return sid if isinstance(sid, str) and sid else str(self[jwt_settings.JTI_CLAIM])

    def check_blacklist(self) -> None:
        # simplejwt's check, with the verified token in the error: its reuse ends its login.
        try:
            super().check_blacklist()
        except TokenError as exc:
            raise RefreshTokenReused(self) from exc
