"""Bearer authentication inside the user service, where the user table lives."""
from __future__ import annotations

from rest_framework import exceptions
from rest_framework_simplejwt import exceptions as jwt_exceptions
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.tokens import Token
from service_kit.user_auth import UserAccessToken

from .models import User


class TokenNotValid(exceptions.AuthenticationFailed):
    """A user token that is malformed, forged, expired, of the wrong type or revoked.

    DRF's exception, not simplejwt's ``InvalidToken``/``AuthenticationFailed``: those nest
    ``{"detail", "code"}`` inside ``detail``, which does not render in the one error shape
    every service uses.
    """

    default_detail = "Token is invalid or expired."
    default_code = "token_not_valid"


class UserJWTAuthentication(JWTAuthentication):
    """``Authorization: Bearer <access>`` resolved to the database user, so a deactivated or
    deleted account is locked out at once, not when its token expires."""

    def authenticate(self, request) -> tuple[User, Token] | None:
        try:
            return super().authenticate(request)
        except jwt_exceptions.AuthenticationFailed as exc:
            detail = exc.detail  # simplejwt's nested {"detail": ..., "code": ...}
            raise TokenNotValid(str(detail["detail"]), code=str(detail["code"])) from exc

    def get_validated_token(self, raw_token: bytes) -> Token:
        try:
            return UserAccessToken(raw_token)
        except jwt_exceptions.TokenError as exc:
            raise TokenNotValid(str(exc.args[0])) from exc
