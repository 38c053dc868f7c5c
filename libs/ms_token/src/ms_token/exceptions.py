"""What can go wrong: plain exceptions, no web framework.

The core raises ``TokenRejected`` (with a refusal ``code``), ``VerificationUnavailable`` and
``ServiceCallError``; ``ms_token.contrib.rest_framework`` turns them into DRF errors at the
boundary (401/403 with the code, 503).
"""
from __future__ import annotations

# The refusal codes of the contract (all 401), plus insufficient_scope (403).
TOKEN_INVALID = "token_invalid"
TOKEN_EXPIRED = "token_expired"
TOKEN_REPLAYED = "token_replayed"
TOKEN_AUDIENCE_MISMATCH = "token_audience_mismatch"
TOKEN_REQUEST_MISMATCH = "token_request_mismatch"
UNTRUSTED_ISSUER = "untrusted_issuer"
INSUFFICIENT_SCOPE = "insufficient_scope"
# Transaction tokens: a bad one, or one not bound by tth (401); a view that needs one for a
# subject and gets none, or one for another subject (403).
TXN_TOKEN_INVALID = "txn_token_invalid"
TXN_TOKEN_REQUIRED = "txn_token_required"
SUBJECT_MISMATCH = "subject_mismatch"
# A transaction token service refuses the end user's token it was asked to exchange (401).
SUBJECT_TOKEN_INVALID = "subject_token_invalid"


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
    """A call to a peer service failed: dead, slow, 5xx, or it refused our token (401/403).
    ``code``: the ``code`` of the peer's error answer, when it gave one."""

    def __init__(self, service: str, reason: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(f"{service}: {reason}")
        self.service = service
        self.reason = reason
        self.status = status
        self.code = code


class SubjectTokenRejected(Exception):
    """The transaction token service refused the end user's token (``subject_token_invalid``):
    expired, revoked, of an inactive user; or the request being served carries none."""
