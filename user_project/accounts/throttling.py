from __future__ import annotations

import hashlib

from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle, SimpleRateThrottle


class LoginRateThrottle(ScopedRateThrottle):
    """DRF's scoped throttle (scope from the view's ``throttle_scope``, keyed by client IP for
    anonymous callers), with the rate read from settings on every request rather than frozen
    at import, so ``LOGIN_THROTTLE_RATE`` and settings overrides in tests take effect."""

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class LoginUsernameRateThrottle(SimpleRateThrottle):
    """Login attempts per account, from whatever addresses they come: password guessing spread
    over many addresses is limited too, which the per-address throttle cannot do.

    Keyed on the case-folded username ("Alice" and "alice" are one account to a guesser, and
    the database refuses such twins: a unique index on Lower(username)), hashed so that any text
    makes a safe cache key. A body without a string username is not counted: the serializer
    refuses it before any password is checked. Rate: ``DEFAULT_THROTTLE_RATES["login_username"]``
    (env ``LOGIN_USERNAME_THROTTLE_RATE``), read on every request; ``default_rate`` when unset.
    """

    scope = "login_username"
    default_rate = "20/hour"

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope, self.default_rate)

    def get_cache_key(self, request, view) -> str | None:
        data = request.data
        username = data.get("username") if isinstance(data, dict) else None
        if not isinstance(username, str):
            return None
        digest = hashlib.sha256(username.casefold().encode("utf-8", "surrogatepass")).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": digest}
