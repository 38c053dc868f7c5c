"""What can go wrong, in two layers.

The library raises plain exceptions (``TokenRejected`` with a contract ``code``,
``VerificationUnavailable``, ``ServiceCallError``); ``authentication.py`` turns the first two
into the DRF errors below at the boundary, and ``service_kit.errors`` turns ``ServiceCallError``
into a 503.
"""
from __future__ import annotations

from rest_framework import exceptions

from ..errors import ServiceUnavailable

# The refusal codes of the contract (all 401), plus insufficient_scope (403).
TOKEN_INVALID = "token_invalid"
TOKEN_EXPIRED = "token_expired"
TOKEN_REPLAYED = "token_replayed"
TOKEN_AUDIENCE_MISMATCH = "token_audience_mismatch"
TOKEN_REQUEST_MISMATCH = "token_request_mismatch"
UNTRUSTED_ISSUER = "untrusted_issuer"
INSUFFICIENT_SCOPE = "insufficient_scope"


class TokenRejected(Exception):
    """The token must be refused. ``issuer``/``jti``/``caller`` are filled in once known, for the log."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.issuer: str | None = None
        self.jti: str | None = None
        self.caller: str | None = None  # sub of a token-service token


class VerificationUnavailable(Exception):
    """A dependency of verification (the issuer's JWKS, the replay store) does not answer."""


class ReplayStoreUnavailable(VerificationUnavailable):
    pass


class ServiceCallError(Exception):
    """A call to a peer service failed: dead, slow, 5xx, or it refused our token (401/403)."""

    def __init__(self, service: str, reason: str, *, status: int | None = None) -> None:
        super().__init__(f"{service}: {reason}")
        self.service = service
        self.reason = reason
        self.status = status


# --- DRF side ----------------------------------------------------------------------------


AUTHENTICATE_HEADER = "MS-Token"


class MSTokenRefused(exceptions.AuthenticationFailed):
    """401 with ``WWW-Authenticate: MS-Token`` (set by ``service_kit.errors``)."""

    www_authenticate = AUTHENTICATE_HEADER
    default_code = TOKEN_INVALID
    default_detail = "The X-MS-TOKEN is invalid."


class TokenInvalid(MSTokenRefused):
    pass


class TokenExpired(MSTokenRefused):
    default_code = TOKEN_EXPIRED
    default_detail = "The X-MS-TOKEN has expired."


class TokenReplayed(MSTokenRefused):
    default_code = TOKEN_REPLAYED
    default_detail = "The X-MS-TOKEN was already used."


class TokenAudienceMismatch(MSTokenRefused):
    default_code = TOKEN_AUDIENCE_MISMATCH
    default_detail = "The X-MS-TOKEN is meant for another service."


class TokenRequestMismatch(MSTokenRefused):
    default_code = TOKEN_REQUEST_MISMATCH
    default_detail = "The X-MS-TOKEN was signed for another method, path or body."


class UntrustedIssuer(MSTokenRefused):
    default_code = UNTRUSTED_ISSUER
    default_detail = "The X-MS-TOKEN's issuer is not trusted here."


class InsufficientScope(exceptions.PermissionDenied):
    """403: the token asks for a scope the callee does not grant its caller (authentication), or
    lacks one the view needs (``HasServiceScope``)."""

    default_code = INSUFFICIENT_SCOPE
    default_detail = "The service token does not carry the scope this call needs."


class VerificationServiceUnavailable(ServiceUnavailable):
    default_code = "service_unavailable"
    default_detail = "The X-MS-TOKEN cannot be verified right now. Try again shortly."


DRF_REFUSALS: dict[str, type[exceptions.APIException]] = {
    TOKEN_INVALID: TokenInvalid,
    TOKEN_EXPIRED: TokenExpired,
    TOKEN_REPLAYED: TokenReplayed,
    TOKEN_AUDIENCE_MISMATCH: TokenAudienceMismatch,
    TOKEN_REQUEST_MISMATCH: TokenRequestMismatch,
    UNTRUSTED_ISSUER: UntrustedIssuer,
    INSUFFICIENT_SCOPE: InsufficientScope,
}
