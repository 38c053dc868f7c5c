"""The DRF side of ms_token: authentication, permission, errors, exception handler.

    "DEFAULT_AUTHENTICATION_CLASSES": ["ms_token.contrib.rest_framework.MSTokenAuthentication"]
    "EXCEPTION_HANDLER": "ms_token.contrib.rest_framework.exception_handler"
    permission_classes = [HasServiceScope]; required_scopes = ["orders:read"]
    permission_classes = [HasServiceScope, HasTxnTokenSubject]; txn_token_subject_kwarg = "user_id"
"""
from .authentication import MSTokenAuthentication
from .exceptions import (
    InsufficientScope,
    MSTokenRefused,
    ServiceUnavailable,
    SubjectMismatch,
    SubjectTokenInvalid,
    TxnTokenInvalid,
    TxnTokenRequired,
)
from .handlers import exception_handler
from .permissions import HasServiceScope, HasTxnTokenSubject

__all__ = [
    "HasServiceScope",
    "HasTxnTokenSubject",
    "InsufficientScope",
    "MSTokenAuthentication",
    "MSTokenRefused",
    "ServiceUnavailable",
    "SubjectMismatch",
    "SubjectTokenInvalid",
    "TxnTokenInvalid",
    "TxnTokenRequired",
    "exception_handler",
]
