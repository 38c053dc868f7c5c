"""The core's refusals as DRF errors: 401 with ``WWW-Authenticate: MS-Token`` and the refusal
``code``, 403 ``insufficient_scope``, 503 when verification or a peer cannot be had."""
from __future__ import annotations

from rest_framework import exceptions, status

from ...exceptions import (
    INSUFFICIENT_SCOPE,
    TOKEN_AUDIENCE_MISMATCH,
    TOKEN_EXPIRED,
    TOKEN_INVALID,
    TOKEN_REPLAYED,
    TOKEN_REQUEST_MISMATCH,
    UNTRUSTED_ISSUER,
)


class ServiceUnavailable(exceptions.APIException):
    """503: something this request depends on (a peer, the replay store, a JWKS) did not answer."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "A service this request depends on is unavailable. Try again shortly."
    default_code = "service_unavailable"


AUTHENTICATE_HEADER = "MS-Token"


class MSTokenRefused(exceptions.AuthenticationFailed):
    """401 with ``WWW-Authenticate: MS-Token`` (set by ``exception_handler``: DRF itself takes the
    header from the first authentication class only)."""

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
