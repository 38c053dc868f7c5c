"""Where the client's tokens come from.

``SelfSignedTokenSource`` (the default, ``MS_TOKEN_SOURCE=self``) signs each token with this
service's own key. Another source (e.g. a token service) is a class with the same ``token``
method, registered by name in ``MS_TOKEN["TOKEN_SOURCES"]`` and chosen with ``MS_TOKEN_SOURCE``.
"""
from __future__ import annotations

from typing import Protocol

from django.utils.module_loading import import_string

from ..keys import SigningKey
from .settings import ms_token_settings
from .tokens import mint


class TokenSource(Protocol):
    def token(self, *, audience: str, scope: str, method: str, path: str, body: bytes | None) -> str:
        """A token for exactly one request; called again for every attempt."""


class SelfSignedTokenSource:
    def __init__(self, *, issuer: str | None = None, key: SigningKey | None = None) -> None:
        self.issuer = issuer  # None: settings.SERVICE_NAME
        self.key = key  # None: our newest key, re-read on rotation

    def token(self, *, audience: str, scope: str, method: str, path: str, body: bytes | None) -> str:
        return mint(audience, scope, method, path, body, issuer=self.issuer, key=self.key)


def get_token_source() -> TokenSource:
    name = ms_token_settings.TOKEN_SOURCE
    try:
        dotted = ms_token_settings.TOKEN_SOURCES[name]
    except KeyError:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"MS_TOKEN_SOURCE={name!r} is not one of {sorted(ms_token_settings.TOKEN_SOURCES)}") from None
    return import_string(dotted)()
