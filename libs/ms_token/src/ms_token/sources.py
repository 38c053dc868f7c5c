"""Where the client's tokens come from: ``MS_TOKEN_SOURCE`` (``MS_TOKEN["TOKEN_SOURCE"]``).

- ``self`` (default), ``SelfSignedTokenSource``: each token is signed with this service's own key.
- ``token-service``, ``TokenServiceTokenSource``: each token is asked from a central token
  service (``TOKEN_SERVICE_ISSUER``'s ``POST /api/service-tokens/``), which signs it with its
  key and names us in ``sub``.

Another source is a class with the same ``token`` method, registered by name in
``MS_TOKEN["TOKEN_SOURCES"]``.
"""
from __future__ import annotations

import logging
from typing import Protocol

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from .keys import SigningKey
from .client import ServiceClient, connection_retries, exchange_for_token
from .exceptions import ServiceCallError
from .settings import ms_token_settings
from .tokens import body_hash, mint, query_hash, txn_token_hash

logger = logging.getLogger(__name__)

# The token service's endpoint, and the scope its client assertion must carry.
TOKEN_ENDPOINT_PATH = "/api/service-tokens/"
ASSERTION_SCOPE = "service-tokens:request"


class TokenSource(Protocol):
    def token(
        self, *, audience: str, scope: str, method: str, path: str, body: bytes | None, query: str = "",
        txn_token: str | None = None,
    ) -> str:
        """A token for exactly one request (``path`` as the callee's Django sees it, ``query`` as
        sent, ``txn_token`` the ``Txn-Token`` it carries); called again for every attempt."""


class SelfSignedTokenSource:
    def __init__(self, *, issuer: str | None = None, key: SigningKey | None = None) -> None:
        self.issuer = issuer  # None: settings.SERVICE_NAME
        self.key = key  # None: our newest key, re-read on rotation

    def token(
        self, *, audience: str, scope: str, method: str, path: str, body: bytes | None, query: str = "",
        txn_token: str | None = None,
    ) -> str:
        return mint(
            audience, scope, method, path, body, query=query, txn_token=txn_token, issuer=self.issuer, key=self.key
        )


class TokenServiceTokenSource:
    """Asks the token service for every token (one POST per attempt of the call it is for).

    It asks for a token bound to the request's method, path and the hashes of its query string,
    body and transaction token (``qh``, ``bh``, ``tth``). The POST is authenticated by a client
    assertion in the spirit of RFC 7523 ``private_key_jwt``:
    an ordinary X-MS-TOKEN that we sign ourselves (``assertion_source``), for the token service
    (``aud``), scope ``service-tokens:request``, bound to this POST and its body, living
    ``TOKEN_TTL`` and
    accepted once. The answer's ``token`` is signed by the token service (``iss``) and names us
    in ``sub``; the callee checks it as any token, against its own policy for us.

    The POST is a ``ServiceClient`` call (keep-alive session per thread, timeouts, the answer
    read by a deadline and within a size cap, a new assertion per attempt) with one rule of its
    own: a connection that fails is tried once more, POST though it is (a stale keep-alive
    connection must not fail a call; a token nobody received is harmless). Anything else that
    goes wrong (timeout, trickle, refusal, 5xx, garbage) raises ``ServiceCallError`` -> 503.
    """

    attempts = 2

    def __init__(
        self,
        *,
        token_service: str | None = None,
        base_url: str | None = None,
        assertion_source: TokenSource | None = None,
        timeout: tuple[float, float] | None = None,
    ) -> None:
        self.token_service = token_service or ms_token_settings.TOKEN_SERVICE_ISSUER
        if not self.token_service:
            raise ImproperlyConfigured("MS_TOKEN_SOURCE=token-service needs MS_TOKEN['TOKEN_SERVICE_ISSUER']")
        self.client = ServiceClient(
            self.token_service,
            token_source=assertion_source or SelfSignedTokenSource(),
            base_url=base_url,
            timeout=timeout,
            retry=connection_retries(self.attempts),
        )

    @property
    def url(self) -> str:
        return self.client.base_url + TOKEN_ENDPOINT_PATH

    def token(
        self, *, audience: str, scope: str, method: str, path: str, body: bytes | None, query: str = "",
        txn_token: str | None = None,
    ) -> str:
        # The token service binds hashes only: it never sees the query, the body or the
        # transaction token themselves.
        wanted = {"audience": audience, "scope": scope, "method": method.upper(), "path": path}
        if query:
            wanted["query_hash"] = query_hash(query)
        if body:
            wanted["body_hash"] = body_hash(body)
        if txn_token is not None:
            wanted["txn_token_hash"] = txn_token_hash(txn_token)
        try:
            return exchange_for_token(
                self.client, TOKEN_ENDPOINT_PATH, scope=ASSERTION_SCOPE, json=wanted, field="token", status=200
            )
        except ServiceCallError as error:  # unreachable, too slow, garbage, 5xx, 401, 403, no token
            logger.warning("token service %s: %s", self.token_service, error.reason)
            raise ServiceCallError(self.token_service, f"token service: {error.reason}", status=error.status) from error


def get_token_source() -> TokenSource:
    name = ms_token_settings.TOKEN_SOURCE
    try:
        dotted = ms_token_settings.TOKEN_SOURCES[name]
    except KeyError:
        raise ImproperlyConfigured(f"MS_TOKEN_SOURCE={name!r} is not one of {sorted(ms_token_settings.TOKEN_SOURCES)}") from None
    source: TokenSource = import_string(dotted)()
    return source
