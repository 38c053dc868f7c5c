"""The token pair this service issues: service_kit's EdDSA tokens plus who the user is.

Product and billing keep no user table, so everything they need to decide (who, staff or not)
travels in the access token. The claims are set on the refresh token, from which simplejwt
copies them into every access token it derives.
"""
from __future__ import annotations

from service_kit.user_auth import UserRefreshToken

from .models import User


class ShopRefreshToken(UserRefreshToken):
    @classmethod
    def for_user(cls, user: User) -> "ShopRefreshToken":
        token = super().for_user(user)  # user_id (as a string) and an outstanding-token row
        token["username"] = user.get_username()
        token["is_staff"] = bool(user.is_staff)
        return token
