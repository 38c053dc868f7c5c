from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle


class LoginRateThrottle(ScopedRateThrottle):
    """DRF's scoped throttle (scope from the view's ``throttle_scope``, keyed by client IP for
    anonymous callers), with the rate read from settings on every request rather than frozen
    at import, so ``LOGIN_THROTTLE_RATE`` and settings overrides in tests take effect."""

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
