"""End-user bearer tokens: issued by the user service, verified by every service.

The user service signs access and refresh tokens (djangorestframework-simplejwt) with its own
Ed25519 key (``EdDSA``), naming the key in the ``kid`` header. Product and billing verify them
statelessly with the keys the user service publishes at ``/.well-known/jwks.json``: they keep no
user table and share no secret with it.

    SIMPLE_JWT = {..., "AUTH_TOKEN_CLASSES": ("service_kit.user_auth.UserAccessToken",)}
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import jwt
from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.exceptions import TokenBackendError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from ms_token.contrib.rest_framework.exceptions import ServiceUnavailable
from ms_token.jwks import KeySetUnavailable, UnknownKeyError, own_verifying_key, public_key
from ms_token.keys import KID_PATTERN, SigningKey, own_key_ring
from ms_token.settings import ms_token_settings

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

USER_TOKEN_ISSUER = "user"  # the service whose keys sign user tokens
USER_TOKEN_TYPE = "JWT"


class UserTokenBackend(TokenBackend):
    """simplejwt's backend with keys chosen by ``kid``: our own ring in the user service, the
    user service's published keys everywhere else."""

    def __init__(self) -> None:
        # simplejwt's own settings (SIMPLE_JWT): algorithm, audience, issuer, leeway.
        super().__init__(
            jwt_settings.ALGORITHM,
            audience=jwt_settings.AUDIENCE,
            issuer=jwt_settings.ISSUER,
            leeway=jwt_settings.LEEWAY,
        )

    def encode_with(self, payload: dict[str, Any], key: SigningKey) -> str:
        claims = {**payload, "aud": self.audience, "iss": self.issuer}
        return jwt.encode(
            claims,
            key.private_key,
            algorithm=self.algorithm,
            headers={"kid": key.kid, "typ": USER_TOKEN_TYPE},
        )

    def encode(self, payload: dict[str, Any]) -> str:
        return self.encode_with(payload, own_key_ring().signing_key)

    def get_verifying_key(self, token: Any) -> Any:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise TokenBackendError("Token is invalid") from exc
        kid = header.get("kid")
        if header.get("typ") != USER_TOKEN_TYPE or not isinstance(kid, str) or not KID_PATTERN.fullmatch(kid):
            raise TokenBackendError("Token is invalid")
        try:
            return self.key_for(kid)
        except UnknownKeyError as exc:
            raise TokenBackendError("Token is invalid") from exc
        except KeySetUnavailable as exc:
            raise ServiceUnavailable("The user service's keys cannot be fetched.") from exc

    def key_for(self, kid: str) -> Ed25519PublicKey:
        """A key the user service publishes (our own key ring in the user service)."""
        return public_key(USER_TOKEN_ISSUER, kid)


class RefreshTokenBackend(UserTokenBackend):
    """Refresh tokens are the user service's alone (no other service verifies one), and live
    a day: a key replaced by a rotation keeps verifying them after it is no longer published,
    for ``MS_TOKEN["RETIRED_KEY_VERIFIES_FOR"]``, so nobody is logged out by a rotation. A
    revoked key verifies nothing."""

    def key_for(self, kid: str) -> Ed25519PublicKey:
        if ms_token_settings.SERVICE_NAME != USER_TOKEN_ISSUER:
            return super().key_for(kid)
        return own_verifying_key(kid)


user_token_backend = UserTokenBackend()
refresh_token_backend = RefreshTokenBackend()


class UserAccessToken(AccessToken):
    _token_backend = user_token_backend


class UserRefreshToken(RefreshToken):
    _token_backend = refresh_token_backend
    access_token_class = UserAccessToken


class UserTokenAuthentication(JWTStatelessUserAuthentication):
    """``Authorization: Bearer <access>``, verified without a user table (``TokenUser``)."""
