"""DRF authentication for the ``X-MS-TOKEN`` header.

    REST_FRAMEWORK = {"DEFAULT_AUTHENTICATION_CLASSES": [
        ..., "service_kit.ms_token.authentication.MSTokenAuthentication", ...]}

No header: ``None`` (other classes may authenticate). Otherwise the token must pass every check
of ``verification.verify`` and then the replay store, or the request is refused (401 with
``WWW-Authenticate: MS-Token``; 403 ``insufficient_scope``; 503 when the issuer's keys or the
replay store do not answer). ``request.user`` is a ``ServicePrincipal`` (the calling service:
``iss``, or ``sub`` of a token-service token), ``request.auth`` the verified claims. One log line
per verification: issuer, jti, outcome, code, caller; never the token.
"""
from __future__ import annotations

import logging
import re

from django.http.request import RawPostDataException
from rest_framework.authentication import BaseAuthentication

from . import exceptions as exc
from .principal import ServicePrincipal
from .replay import get_replay_store
from .verification import VerifiedToken, rejection, verify

logger = logging.getLogger("service_kit.ms_token")

# Only the hyphenated header: runserver and gunicorn drop "X_MS_TOKEN" (underscores) before
# it could land in the same META key. See README ("The header").
META_KEY = "HTTP_X_MS_TOKEN"
_LOGGABLE = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def loggable(value: object) -> str:
    """``value`` itself if it looks like a name, else ``-``: what a log line may show of text
    from outside (a refused token's claims, a peer's error code), which could otherwise break
    the line or flood the log."""
    return value if isinstance(value, str) and _LOGGABLE.fullmatch(value) else "-"


def log_verification(issuer: object, jti: object, outcome: str, code: str, caller: object = None) -> None:
    # caller: the service a token-service token speaks for (sub); else the issuer itself.
    fields = {
        "issuer": loggable(issuer),
        "jti": loggable(jti),
        "outcome": outcome,
        "code": code,
        "caller": loggable(issuer if caller is None else caller),
    }
    logger.info(
        "ms_token verification issuer=%(issuer)s jti=%(jti)s outcome=%(outcome)s code=%(code)s"
        " caller=%(caller)s",
        fields,
        extra={"ms_token": fields},
    )


class MSTokenAuthentication(BaseAuthentication):
    def get_replay_store(self):
        """The store that makes each token single use: the settings' one (override to pin one)."""
        return get_replay_store()

    def authenticate(self, request):
        token = request.META.get(META_KEY)
        if token is None:
            return None
        try:
            verified = verify(token, method=request.method, path=request.path, body=self._body(request))
        except exc.TokenRejected as error:
            raise self._refused(error) from error
        except exc.VerificationUnavailable as error:
            raise self._unavailable(error, None) from error
        try:
            fresh = self.get_replay_store().claim(f"{verified.issuer}:{verified.jti}", verified.expires_at)
        except exc.VerificationUnavailable as error:
            raise self._unavailable(error, verified) from error
        if not fresh:
            error = rejection(exc.TOKEN_REPLAYED, "token already used", verified.claims)
            raise self._refused(error) from error
        log_verification(verified.issuer, verified.jti, "accepted", "-", verified.caller)
        principal = ServicePrincipal(verified.caller, verified.scopes, verified.jti, verified.token_service)
        return principal, verified.claims

    @staticmethod
    def _refused(error: exc.TokenRejected) -> Exception:
        log_verification(error.issuer, error.jti, "refused", error.code, error.caller)
        return exc.DRF_REFUSALS[error.code](error.detail)

    @staticmethod
    def _unavailable(error: exc.VerificationUnavailable, verified: VerifiedToken | None) -> Exception:
        """The issuer's keys (nothing verified yet) or the replay store (token verified) do
        not answer: 503, logged with what is known for sure."""
        logger.warning("ms_token verification unavailable: %s", error)
        if verified is None:
            log_verification(None, None, "unavailable", "service_unavailable")
        else:
            log_verification(verified.issuer, verified.jti, "unavailable", "service_unavailable", verified.caller)
        return exc.VerificationServiceUnavailable()

    @staticmethod
    def _body(request) -> bytes:
        django_request = getattr(request, "_request", request)
        try:
            return django_request.body
        except RawPostDataException as error:  # something parsed a stream before us
            rejected = exc.TokenRejected(exc.TOKEN_REQUEST_MISMATCH, "request body no longer readable")
            raise rejected from error

    def authenticate_header(self, request) -> str:
        return exc.AUTHENTICATE_HEADER
