"""DRF authentication for the ``X-MS-TOKEN`` header.

    REST_FRAMEWORK = {"DEFAULT_AUTHENTICATION_CLASSES": [
        ..., "ms_token.contrib.rest_framework.MSTokenAuthentication", ...]}

No header: ``None`` (other classes may authenticate), unless a ``Txn-Token`` came alone (401
``txn_token_invalid``: nothing binds it). Otherwise the token must be admitted
(``ms_token.admission.admit``: every check, with the request's method, path, raw query string,
body and ``Txn-Token``, then the replay store) or the request is refused (401 with
``WWW-Authenticate: MS-Token``; 403 ``insufficient_scope``; 503 when an issuer's keys or the
replay store do not answer). ``request.user`` is a ``ServicePrincipal`` (the calling service:
``iss``, or ``sub`` of a token-service token; the end user and transaction of a verified
transaction token), ``request.auth`` the verified claims.
"""
from __future__ import annotations

from typing import Any

from django.http.request import RawPostDataException
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from ... import exceptions as exc
from ...admission import admit, log_refusal
from ...principal import ServicePrincipal
from ...replay import ReplayStore, get_replay_store
from .exceptions import AUTHENTICATE_HEADER, DRF_REFUSALS, VerificationServiceUnavailable

# Only the hyphenated header: runserver and gunicorn drop "X_MS_TOKEN" (underscores) before
# it could land in the same META key. See README ("The header's spelling").
META_KEY = "HTTP_X_MS_TOKEN"
TXN_TOKEN_META_KEY = "HTTP_TXN_TOKEN"


class MSTokenAuthentication(BaseAuthentication):
    def get_replay_store(self) -> ReplayStore:
        """The store that makes each token single use: the settings' one (override to pin one)."""
        return get_replay_store()

    def authenticate(self, request: Request) -> tuple[ServicePrincipal, dict[str, Any]] | None:
        meta = request.META
        token = meta.get(META_KEY)
        txn_token = meta.get(TXN_TOKEN_META_KEY)
        if token is None:
            if txn_token is None:
                return None
            refused = exc.TokenRejected(exc.TXN_TOKEN_INVALID, "a Txn-Token travels only with the X-MS-TOKEN that binds it")
            log_refusal(refused)
            raise DRF_REFUSALS[refused.code](refused.detail)
        try:
            verified = admit(
                token,
                method=request.method or "",
                path=request.path,
                body=self._body(request),
                query=meta.get("QUERY_STRING", ""),
                txn_token=txn_token,
                store=self.get_replay_store(),
            )
        except exc.TokenRejected as error:
            raise DRF_REFUSALS[error.code](error.detail) from error
        except exc.VerificationUnavailable as error:
            raise VerificationServiceUnavailable() from error
        txn = verified.txn
        principal = ServicePrincipal(
            verified.caller, verified.scopes, verified.jti, verified.token_service,
            None if txn is None else txn.subject, None if txn is None else txn.txn,
        )
        return principal, verified.claims

    @staticmethod
    def _body(request: Request) -> bytes:
        django_request = getattr(request, "_request", request)
        try:
            return django_request.body
        except RawPostDataException as error:  # something parsed a stream before us
            rejected = exc.TokenRejected(exc.TOKEN_REQUEST_MISMATCH, "request body no longer readable")
            log_refusal(rejected)
            raise rejected from error

    def authenticate_header(self, request: Request) -> str:
        return AUTHENTICATE_HEADER
