"""The core's refusals as DRF errors: 401 with ``WWW-Authenticate: MS-Token`` and the refusal
``code``, 403 ``insufficient_scope``, 503 when verification or a peer cannot be had."""
from __future__ import annotations

from rest_framework import exceptions, status

from ...exceptions import (
    INSUFFICIENT_SCOPE,
    SUBJECT_MISMATCH,
    SUBJECT_TOKEN_INVALID,
    TOKEN_AUDIENCE_MISMATCH,
    TOKEN_EXPIRED,
    TOKEN_INVALID,
    TOKEN_REPLAYED,
    TOKEN_REQUEST_MISMATCH,
    TXN_TOKEN_INVALID,
    TXN_TOKEN_REQUIRED,
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
    default_detail = "The X-MS-TOKEN was signed for another method, path, query string or body."


class UntrustedIssuer(MSTokenRefused):
    default_code = UNTRUSTED_ISSUER
    default_detail = "The X-MS-TOKEN's issuer is not trusted here."


class TxnTokenInvalid(MSTokenRefused):
    default_code = TXN_TOKEN_INVALID
    default_detail = "The transaction token is invalid or not bound to the X-MS-TOKEN (tth)."


class TxnTokenRequired(exceptions.PermissionDenied):
    """403: the view acts for one end user only, and the call carries no transaction token."""

    default_code = TXN_TOKEN_REQUIRED
    default_detail = "This call must carry a transaction token (Txn-Token) for the user it is made for."


class SubjectMismatch(exceptions.PermissionDenied):
    """403: the call's transaction token is for another end user than the one it asks about."""

    default_code = SUBJECT_MISMATCH
    default_detail = "The transaction token is for another user."


class SubjectTokenInvalid(exceptions.AuthenticationFailed):
    """401: the end user's token could not be exchanged for a transaction token (at the
    transaction token service: the subject token it was given; at a service that asked for one:
    the Bearer token of the request it serves)."""

    www_authenticate = 'Bearer error="invalid_token"'
    default_code = SUBJECT_TOKEN_INVALID
    default_detail = "The subject token is not a valid, unexpired access token of an active user."


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
    TXN_TOKEN_INVALID: TxnTokenInvalid,
}
