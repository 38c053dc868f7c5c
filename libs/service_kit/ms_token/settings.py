"""The library's settings, DRF ``api_settings`` style: ``ms_token_settings.LEEWAY`` etc.

Values come from ``settings.MS_TOKEN`` (a dict), then the environment (``MS_REPLAY_CACHE``,
``MS_TOKEN_SOURCE``), then the defaults below. They are read once and re-read when a test
overrides ``MS_TOKEN``, ``SERVICE_NAME`` or ``SERVICE_URLS`` (Django's ``setting_changed``).
"""
from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed

# The contract: a token lives "never more than 300 s"; a setting may lower that, not raise it.
CONTRACT_MAX_TOKEN_TTL = 300
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")

DEFAULTS: dict[str, Any] = {
    # issuer -> the scopes this service may grant it, e.g. {"billing": ["products:read"]}
    "TRUSTED_ISSUERS": {},
    "TOKEN_TTL": 30,  # seconds a minted token lives
    "MAX_TOKEN_TTL": CONTRACT_MAX_TOKEN_TTL,  # a longer-lived token is refused
    "LEEWAY": 5,  # seconds of clock skew tolerated on exp, iat and nbf
    "MAX_TOKEN_BYTES": 4096,  # refused before any decoding
    # "" or None: the database; "redis://...": Redis. Default from the env MS_REPLAY_CACHE.
    "REPLAY_CACHE": None,
    "REPLAY_DATABASE": "default",
    "REPLAY_PRUNE_EVERY": 200,
    # PostgreSQL: commit the replay insert without waiting for the WAL flush (see replay.py)
    "REPLAY_ASYNC_COMMIT": True,  # delete expired rows on every N-th insert (no cron job)
    "REDIS_TIMEOUT": 0.5,  # seconds; a Redis that does not answer in time means refusal
    # How the client gets its tokens; default from the env MS_TOKEN_SOURCE.
    "TOKEN_SOURCE": None,
    "TOKEN_SOURCES": {
        "self": "service_kit.ms_token.sources.SelfSignedTokenSource",
        "token-service": "service_kit.ms_token.sources.TokenServiceTokenSource",
    },
    # The central token service (issue 6): its service name, which is the iss of its tokens and
    # the key of its URL in SERVICE_URLS (client: where to ask; callee: whose JWKS). A token with
    # this iss and a sub speaks for the service sub. None: accept no token-service tokens.
    "TOKEN_SERVICE_ISSUER": "user",
    # ServiceClient
    "CONNECT_TIMEOUT": 2.0,
    "READ_TIMEOUT": 5.0,
    "RETRIES": 2,  # extra attempts, idempotent methods only
    "BACKOFF_FACTOR": 0.1,
    "TRUST_ENV": False,  # requests' proxy/netrc lookups cost time on every call
}

ENVIRONMENT = {"REPLAY_CACHE": "MS_REPLAY_CACHE", "TOKEN_SOURCE": "MS_TOKEN_SOURCE"}


class MSTokenSettings:
    """Every value resolved up front, so reading one is a plain attribute lookup."""

    def __init__(self) -> None:
        self.reload()

    def reload(self) -> None:
        user = getattr(settings, "MS_TOKEN", None) or {}
        unknown = set(user) - set(DEFAULTS)
        if unknown:
            raise ImproperlyConfigured(f"MS_TOKEN: unknown setting(s) {', '.join(sorted(unknown))}")
        for name, default in DEFAULTS.items():
            if name in user:
                value = user[name]
            elif name in ENVIRONMENT:
                value = os.environ.get(ENVIRONMENT[name]) or default
            else:
                value = default
            setattr(self, name, value)
        self.SERVICE_NAME = settings.SERVICE_NAME
        self.TOKEN_SOURCE = self.TOKEN_SOURCE or "self"
        self.TOKEN_SERVICE_ISSUER = self.TOKEN_SERVICE_ISSUER or None
        self.TRUSTED_ISSUERS = self._trust_policy(self.TRUSTED_ISSUERS)
        if not 0 < self.MAX_TOKEN_TTL <= CONTRACT_MAX_TOKEN_TTL:
            raise ImproperlyConfigured(f"MS_TOKEN: MAX_TOKEN_TTL must be within 1..{CONTRACT_MAX_TOKEN_TTL}")
        if not 0 < self.TOKEN_TTL <= self.MAX_TOKEN_TTL:
            raise ImproperlyConfigured("MS_TOKEN: TOKEN_TTL must be positive and at most MAX_TOKEN_TTL")
        # Checked here, at startup, rather than at the first token (a 500 on every request).
        if self.REPLAY_CACHE and not self.REPLAY_CACHE.startswith(REDIS_SCHEMES):
            raise ImproperlyConfigured("MS_REPLAY_CACHE must be empty (the database) or a redis:// URL")

    @staticmethod
    def _trust_policy(raw: Any) -> dict[str, frozenset[str]]:
        if not isinstance(raw, dict):
            raise ImproperlyConfigured("MS_TOKEN['TRUSTED_ISSUERS'] must map issuer -> list of scopes")
        policy = {}
        for issuer, scopes in raw.items():
            if isinstance(scopes, str) or not all(isinstance(s, str) and s for s in scopes):
                raise ImproperlyConfigured(f"MS_TOKEN: scopes for {issuer!r} must be a list of strings")
            policy[issuer] = frozenset(scopes)
        return policy


ms_token_settings = MSTokenSettings()

_WATCHED = {"MS_TOKEN", "SERVICE_NAME", "SERVICE_URLS"}


def _reload(*, setting: str, **kwargs: Any) -> None:
    if setting in _WATCHED:
        ms_token_settings.reload()


setting_changed.connect(_reload)
