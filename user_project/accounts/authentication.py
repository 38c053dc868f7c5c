"""Bearer authentication inside the user service, where the user table lives."""
from __future__ import annotations

from rest_framework_simplejwt.authentication import JWTAuthentication


class UserJWTAuthentication(JWTAuthentication):
    """``Authorization: Bearer <access>`` resolved to the database user, so a deactivated or
    deleted account is locked out at once, not when its token expires. The token class
    (``SIMPLE_JWT["AUTH_TOKEN_CLASSES"]``) verifies with the user service's own key ring."""
