"""Transaction tokens: the end user behind a service call (draft-ietf-oauth-transaction-tokens).

A service serving an end user's request exchanges the user's access token (the subject token)
at the transaction token service (``MS_TOKEN["TXN_TOKEN_ISSUER"]``, ``POST /api/txn-tokens/``)
for a short-lived transaction token, and sends it as ``Txn-Token`` on the calls it makes for that
user; each call's fresh X-MS-TOKEN binds it by hash (``tth``). The callee verifies both
(``verification.verify``, check 14) and so knows for whom the call is made
(``ServicePrincipal.subject``); ``HasTxnTokenSubject`` lets a view serve that user only.

    from ms_token.txn_tokens import txn_token_for

    def view(request, user_id):
        users.get(f"/api/internal/users/{user_id}/", scope="users:read", txn_token=txn_token_for(request))

``txn_token_for(request)`` exchanges the request's Bearer token on its first call and returns the
same transaction token on every later call while that request is served: one exchange per
incoming request at most, and none for a request that never asks. Pass
``functools.partial(txn_token_for, request)`` to code that needs one only on some paths.
"""
from __future__ import annotations

import re
import threading
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from .client import TXN_TOKEN_HEADER, ServiceClient, connection_retries, exchange_for_token
from .exceptions import SUBJECT_TOKEN_INVALID, ServiceCallError, SubjectTokenRejected
from .settings import ms_token_settings, on_reload

__all__ = [
    "TXN_TOKEN_ENDPOINT_PATH",
    "TXN_TOKEN_HEADER",
    "TXN_TOKEN_REQUEST_SCOPE",
    "TxnTokenExchange",
    "bearer_token",
    "txn_token_for",
]

# The transaction token service's endpoint, and the scope a caller's X-MS-TOKEN needs there.
TXN_TOKEN_ENDPOINT_PATH = "/api/txn-tokens/"
TXN_TOKEN_REQUEST_SCOPE = "txn-tokens:request"
META_KEY = "HTTP_TXN_TOKEN"
_BEARER = re.compile(r"Bearer +([A-Za-z0-9._~+/-]+=*) *", re.IGNORECASE)
_REQUEST_ATTRIBUTE = "_ms_token_txn_token"


class TxnTokenExchange:
    """The client side of a transaction token service: ``exchange(subject_token)`` POSTs
    ``{"subject_token"}`` to ``<TXN_TOKEN_ISSUER's URL>/api/txn-tokens/`` with an X-MS-TOKEN of
    scope ``txn-tokens:request`` (from the configured token source) and returns the
    ``txn_token`` of its 201. A connection that fails is tried once more.

    Raises ``SubjectTokenRejected`` when the service refuses the subject token (401
    ``subject_token_invalid``), ``ServiceCallError`` for anything else (down, slow, refusing us,
    garbage: a 503 for the end user)."""

    attempts = 2

    def __init__(self, *, issuer: str | None = None, client: ServiceClient | None = None) -> None:
        issuer = issuer or ms_token_settings.TXN_TOKEN_ISSUER
        if not issuer:
            raise ImproperlyConfigured("transaction tokens need MS_TOKEN['TXN_TOKEN_ISSUER']")
        self.issuer = issuer
        self.client = client or ServiceClient(issuer, retry=connection_retries(self.attempts))

    def exchange(self, subject_token: str) -> str:
        try:
            return exchange_for_token(
                self.client, TXN_TOKEN_ENDPOINT_PATH, scope=TXN_TOKEN_REQUEST_SCOPE,
                json={"subject_token": subject_token}, field="txn_token", status=201,
            )
        except ServiceCallError as error:
            if error.status == 401 and error.code == SUBJECT_TOKEN_INVALID:
                raise SubjectTokenRejected(f"{self.issuer} refused the subject token") from error
            raise


def bearer_token(request: Any) -> str | None:
    """The token of the request's ``Authorization: Bearer <token>`` header, or None."""
    django_request = getattr(request, "_request", request)  # DRF's Request wraps Django's
    match = _BEARER.fullmatch(django_request.META.get("HTTP_AUTHORIZATION", ""))
    return match.group(1) if match else None


def txn_token_for(request: Any, *, exchange: TxnTokenExchange | None = None) -> str:
    """The transaction token of the end user whose request (Django's or DRF's) is being served:
    its Bearer token exchanged on the first call (``exchange``, default: one for
    ``TXN_TOKEN_ISSUER``), the same token on every later call for this request.

    Raises ``SubjectTokenRejected`` when the request has no Bearer token or the service refuses
    it, ``ServiceCallError`` when the service cannot be had."""
    django_request = getattr(request, "_request", request)
    token: str | None = getattr(django_request, _REQUEST_ATTRIBUTE, None)
    if token is None:
        subject_token = bearer_token(django_request)
        if subject_token is None:
            raise SubjectTokenRejected("the request carries no Bearer token to act on")
        token = (exchange or default_exchange()).exchange(subject_token)
        setattr(django_request, _REQUEST_ATTRIBUTE, token)
    return token


_exchanges: dict[str, TxnTokenExchange] = {}  # by issuer: keep-alive sessions are reused
_exchanges_lock = threading.Lock()


def default_exchange() -> TxnTokenExchange:
    """The shared exchange with ``TXN_TOKEN_ISSUER``."""
    issuer = ms_token_settings.TXN_TOKEN_ISSUER
    exchange = _exchanges.get(issuer) if issuer else None
    if exchange is None:
        with _exchanges_lock:
            exchange = _exchanges.get(issuer) if issuer else None
            if exchange is None:
                exchange = TxnTokenExchange()
                _exchanges[exchange.issuer] = exchange
    return exchange


@on_reload
def _forget_exchanges() -> None:
    # The issuer's URL or our token source may have changed (tests).
    with _exchanges_lock:
        _exchanges.clear()
