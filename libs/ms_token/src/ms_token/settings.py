"""The library's settings, read from ``settings.MS_TOKEN`` (a dict), DRF ``api_settings`` style.

    from ms_token.settings import ms_token_settings
    ms_token_settings.LEEWAY

Every name lives under ``MS_TOKEN``; nothing is read from the environment (that is the project
settings module's job). Values are resolved lazily, on first use, and again whenever a test
overrides ``MS_TOKEN`` (Django's ``setting_changed``), so importing this module never needs
configured settings.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

# The token format's own ceiling on a token's life (SPEC.md, seconds). A setting may lower it.
FORMAT_MAX_TOKEN_TTL = 300
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")

DEFAULTS: dict[str, Any] = {
    # This service's name: the iss of the tokens it signs, the aud it accepts. Required.
    "SERVICE_NAME": None,
    # Peer name -> base URL ("http://orders.internal:8000"): where ServiceClient calls it and,
    # unless JWKS_URLS says otherwise, where its keys are (<URL>/.well-known/jwks.json).
    "SERVICE_URLS": {},
    "JWKS_URLS": {},
    # Issuer -> the scopes this service may grant it, e.g. {"invoices": ["orders:read"]}.
    "TRUSTED_ISSUERS": {},
    # Our own signing key(s): PEM text, a PEM file, or a directory of key files
    # (<KEYS_DIR>/<SERVICE_NAME>/<kid>.pem, see keys.py), in that order of precedence.
    "SIGNING_KEY": None,
    "SIGNING_KEY_FILE": None,
    "KEYS_DIR": None,
    # Seconds a replaced key of ours still verifies tokens that only this service checks
    # (jwks.own_verifying_key: a refresh token, say) after it stopped signing; never less than
    # it stays published (keys.RETENTION_SECONDS).
    "RETIRED_KEY_VERIFIES_FOR": 600,
    # A peer's keys (its JWKS), in seconds: refreshed once this old, or sooner when its
    # Cache-Control max-age says so; used meanwhile for STALE_WHILE_REFRESHING more, after which
    # a request waits for the refresh. When the JWKS cannot be fetched, the keys last fetched
    # stay in use until OUTAGE_GRACE after that fetch; then the peer's tokens get 503.
    "JWKS_REFRESH_INTERVAL": 60,
    "JWKS_STALE_WHILE_REFRESHING": 20,
    "JWKS_OUTAGE_GRACE": 600,
    "TOKEN_TTL": 30,  # seconds a minted token lives
    "MAX_TOKEN_TTL": FORMAT_MAX_TOKEN_TTL,  # a longer-lived token is refused
    "LEEWAY": 5,  # seconds of clock skew tolerated on exp, iat and nbf
    "MAX_TOKEN_BYTES": 4096,  # refused before any decoding
    # None: the database (this app's table); "redis://...": Redis.
    "REPLAY_CACHE": None,
    "REPLAY_DATABASE": "default",
    "REPLAY_PRUNE_EVERY": 200,  # delete expired rows on every N-th insert (no cron job)
    # PostgreSQL: commit the replay insert without waiting for the WAL flush (see replay.py).
    "REPLAY_ASYNC_COMMIT": True,
    "REDIS_TIMEOUT": 0.5,  # seconds; a Redis that does not answer in time means refusal
    # How ServiceClient gets its tokens: a name in TOKEN_SOURCES.
    "TOKEN_SOURCE": "self",
    "TOKEN_SOURCES": {
        "self": "ms_token.sources.SelfSignedTokenSource",
        "token-service": "ms_token.sources.TokenServiceTokenSource",
    },
    # A central token service's name (the iss of its tokens, its key in SERVICE_URLS). A token
    # with this iss and a sub speaks for the service sub. None: no token service.
    "TOKEN_SERVICE_ISSUER": None,
    # Transaction tokens (the end user behind a call, see txn_tokens.py). The service that
    # issues them: whose keys sign them, and whom txn_token_for() asks. None: no transaction
    # token is accepted (a call carrying one is refused) and none can be had.
    "TXN_TOKEN_ISSUER": None,
    # The aud they must carry: the trust domain they are valid in. None: none accepted.
    "TXN_TOKEN_AUDIENCE": None,
    # Seconds a transaction token issued by this service lives (never past its subject token).
    "TXN_TOKEN_TTL": 60,
    # ServiceClient
    "CONNECT_TIMEOUT": 2.0,
    "READ_TIMEOUT": 5.0,
    "RETRIES": 2,  # extra attempts, idempotent methods only
    "BACKOFF_FACTOR": 0.1,
    "TRUST_ENV": False,  # requests' proxy/netrc lookups cost time on every call
    # A callable (or its dotted path) returning headers to send with every call to a peer
    # (a request id, say); None: none.
    "PEER_HEADERS": None,
    # What records the library's metrics (observability.Metrics): an object, a class or its
    # dotted path ("ms_token.contrib.prometheus.PrometheusMetrics"); None: nothing.
    "METRICS": None,
}


class MSTokenSettings:
    """``ms_token_settings.NAME``: the ``MS_TOKEN`` value, else the default, checked once."""

    def __init__(self) -> None:
        # Reentrant: resolving imports the dotted paths of the settings, which may read them.
        self._lock = threading.RLock()
        self._resolved: dict[str, Any] | None = None

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"no ms_token setting {name!r}")
        # Only a name's first read after a (re)load comes here, so the lock costs the hot path
        # nothing; holding it while caching means a reload cannot slip in between reading the
        # old values and caching one of them (which would then outlive the reload).
        with self._lock:
            resolved = self._resolved
            if resolved is None:
                resolved = self._resolved = _resolve(getattr(settings, "MS_TOKEN", None) or {})
            value = resolved[name]
            # Cached on the instance: later reads are a plain attribute lookup (the hot path).
            self.__dict__[name] = value
        return value

    def reload(self) -> None:
        with self._lock:
            self._resolved = None
            for name in DEFAULTS:
                self.__dict__.pop(name, None)


def _number(minimum: float, *, above: bool = False) -> Callable[[Any], bool]:
    return lambda v: type(v) in (int, float) and (v > minimum if above else v >= minimum)


def _integer(minimum: int) -> Callable[[Any], bool]:
    return lambda v: type(v) is int and v >= minimum


def _optional(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda v: v is None or check(v)


def _name(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _path(value: Any) -> bool:
    return isinstance(value, (str, os.PathLike))


def _flag(value: Any) -> bool:
    return type(value) is bool


# What each plain value must be (the others are checked, and normalised, in _resolve).
_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "SIGNING_KEY": (_optional(lambda v: isinstance(v, str)), "PEM text or None"),
    "SIGNING_KEY_FILE": (_optional(_path), "a path or None"),
    "KEYS_DIR": (_optional(_path), "a path or None"),
    "RETIRED_KEY_VERIFIES_FOR": (_number(0), "a number of seconds (not negative)"),
    "JWKS_REFRESH_INTERVAL": (_number(0, above=True), "a positive number of seconds"),
    "JWKS_STALE_WHILE_REFRESHING": (_number(0), "a number of seconds (not negative)"),
    "JWKS_OUTAGE_GRACE": (_number(0), "a number of seconds (not negative)"),
    "TOKEN_TTL": (_integer(1), "a whole number of seconds"),
    "MAX_TOKEN_TTL": (_integer(1), "a whole number of seconds"),
    "LEEWAY": (_number(0), "a number of seconds (not negative)"),
    "MAX_TOKEN_BYTES": (_integer(1), "a positive whole number of bytes"),
    "REPLAY_DATABASE": (_name, "a database alias"),
    "REPLAY_PRUNE_EVERY": (_integer(1), "a positive whole number of claims"),
    "REPLAY_ASYNC_COMMIT": (_flag, "True or False"),
    "REDIS_TIMEOUT": (_number(0, above=True), "a positive number of seconds"),
    "TOKEN_SOURCE": (_name, "a name in TOKEN_SOURCES"),
    "TOKEN_SOURCES": (
        lambda v: isinstance(v, Mapping) and all(_name(k) and _name(p) for k, p in v.items()),
        "a dict of name -> dotted path",
    ),
    "TOKEN_SERVICE_ISSUER": (_optional(_name), "a service name or None"),
    "TXN_TOKEN_ISSUER": (_optional(_name), "a service name or None"),
    "TXN_TOKEN_AUDIENCE": (_optional(_name), "a name or None"),
    "TXN_TOKEN_TTL": (_integer(1), "a whole number of seconds"),
    "CONNECT_TIMEOUT": (_number(0, above=True), "a positive number of seconds"),
    "READ_TIMEOUT": (_number(0, above=True), "a positive number of seconds"),
    "RETRIES": (_integer(0), "a whole number (not negative)"),
    "BACKOFF_FACTOR": (_number(0), "a number (not negative)"),
    "TRUST_ENV": (_flag, "True or False"),
}


def check_ttl(ttl: Any, maximum: int, what: str) -> int:
    """``ttl`` if it is a whole number of seconds within 1..``maximum``, else ValueError: the one
    check of a token lifetime (settings, ``mint``, transaction tokens)."""
    if type(ttl) is not int or not 0 < ttl <= maximum:
        raise ValueError(f"{what} must be within 1..{maximum} seconds")
    return ttl


def _resolve(user: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(user, Mapping):
        raise ImproperlyConfigured("MS_TOKEN must be a dict")
    unknown = set(user) - set(DEFAULTS)
    if unknown:
        raise ImproperlyConfigured(f"MS_TOKEN: unknown setting(s) {', '.join(sorted(unknown))}")
    values = {**DEFAULTS, **user}
    name = values["SERVICE_NAME"]
    if not isinstance(name, str) or not name:
        raise ImproperlyConfigured("MS_TOKEN['SERVICE_NAME'] must name this service")
    # "" for "none" (an unset environment variable, say), as None.
    for optional_name in ("TOKEN_SERVICE_ISSUER", "TXN_TOKEN_ISSUER", "TXN_TOKEN_AUDIENCE", "REPLAY_CACHE"):
        values[optional_name] = values[optional_name] or None
    for setting, (valid, what) in _CHECKS.items():
        if not valid(values[setting]):
            # The type, not the value: SIGNING_KEY is a secret.
            given = type(values[setting]).__name__
            raise ImproperlyConfigured(f"MS_TOKEN['{setting}'] must be {what} (the {given} given is not)")
    for mapping in ("SERVICE_URLS", "JWKS_URLS"):
        urls = values[mapping]
        # An empty JWKS URL means none of its own: the one under SERVICE_URLS.
        url_given = _name if mapping == "SERVICE_URLS" else (lambda url: isinstance(url, str))
        if not isinstance(urls, Mapping) or not all(_name(peer) and url_given(url) for peer, url in urls.items()):
            raise ImproperlyConfigured(f"MS_TOKEN['{mapping}'] must map service name -> URL")
        values[mapping] = {peer: url.rstrip("/") for peer, url in urls.items()}
    values["TRUSTED_ISSUERS"] = _trust_policy(values["TRUSTED_ISSUERS"])
    for path_setting in ("SIGNING_KEY_FILE", "KEYS_DIR"):
        if values[path_setting]:
            values[path_setting] = Path(values[path_setting])
    try:
        check_ttl(values["MAX_TOKEN_TTL"], FORMAT_MAX_TOKEN_TTL, "MS_TOKEN['MAX_TOKEN_TTL']")
        check_ttl(values["TOKEN_TTL"], values["MAX_TOKEN_TTL"], "MS_TOKEN['TOKEN_TTL'] (at most MAX_TOKEN_TTL)")
        check_ttl(values["TXN_TOKEN_TTL"], FORMAT_MAX_TOKEN_TTL, "MS_TOKEN['TXN_TOKEN_TTL']")
    except ValueError as error:
        raise ImproperlyConfigured(str(error)) from None
    # Checked here, at first use, rather than at the first token (a 500 on every request).
    store = values["REPLAY_CACHE"]
    if store is not None and not (isinstance(store, str) and store.startswith(REDIS_SCHEMES)):
        raise ImproperlyConfigured("MS_TOKEN['REPLAY_CACHE'] must be None (the database) or a redis:// URL")
    if values["TOKEN_SOURCE"] not in values["TOKEN_SOURCES"]:
        raise ImproperlyConfigured(
            f"MS_TOKEN['TOKEN_SOURCE']={values['TOKEN_SOURCE']!r} is not one of {sorted(values['TOKEN_SOURCES'])}"
        )
    values["PEER_HEADERS"] = _callable(values["PEER_HEADERS"])
    values["METRICS"] = _metrics(values["METRICS"])
    return values


def _trust_policy(raw: Any) -> dict[str, frozenset[str]]:
    if not isinstance(raw, Mapping):
        raise ImproperlyConfigured("MS_TOKEN['TRUSTED_ISSUERS'] must map issuer -> list of scopes")
    policy = {}
    for issuer, scopes in raw.items():
        if not _name(issuer) or isinstance(scopes, (str, Mapping)) or not isinstance(scopes, Iterable) \
                or not all(isinstance(s, str) and s for s in scopes):
            raise ImproperlyConfigured(f"MS_TOKEN['TRUSTED_ISSUERS']: scopes for {issuer!r} must be a list of strings")
        policy[issuer] = frozenset(scopes)
    return policy


def _callable(value: Any) -> Callable[[], Mapping[str, str]] | None:
    if value is None:
        return None
    if callable(value):
        given: Callable[[], Mapping[str, str]] = value
        return given
    if isinstance(value, str):
        hook: Callable[[], Mapping[str, str]] = _imported("PEER_HEADERS", value)
        return hook
    raise ImproperlyConfigured("MS_TOKEN['PEER_HEADERS'] must be a callable or its dotted path")


def _metrics(value: Any) -> Any:
    if value is None:
        from .observability import NoMetrics

        return NoMetrics()
    if isinstance(value, str):
        value = _imported("METRICS", value)
    return value() if isinstance(value, type) else value


def _imported(setting: str, dotted: str) -> Any:
    try:
        return import_string(dotted)
    except ImportError as error:
        raise ImproperlyConfigured(f"MS_TOKEN['{setting}']: cannot import {dotted!r}: {error}") from error


ms_token_settings = MSTokenSettings()

# Other modules keep caches derived from settings (key sets by URL, stores); they connect to
# this signal's sender via ``on_reload``.
_reload_hooks: list[Callable[[], None]] = []


def on_reload(hook: Callable[[], None]) -> Callable[[], None]:
    """Call ``hook`` whenever ``MS_TOKEN`` changes (tests' ``override_settings``)."""
    _reload_hooks.append(hook)
    return hook


def reload_settings() -> None:
    """Read ``MS_TOKEN`` again and drop everything derived from it (done for you when
    ``override_settings`` or pytest-django's ``settings`` changes ``MS_TOKEN``)."""
    ms_token_settings.reload()
    for hook in _reload_hooks:
        hook()


def _reload(*, setting: str, **kwargs: Any) -> None:
    if setting == "MS_TOKEN":
        reload_settings()


setting_changed.connect(_reload)
