"""The DRF side of ms_token: authentication, permission, errors, exception handler.

    "DEFAULT_AUTHENTICATION_CLASSES": ["ms_token.contrib.rest_framework.MSTokenAuthentication"]
    "EXCEPTION_HANDLER": "ms_token.contrib.rest_framework.exception_handler"
    permission_classes = [HasServiceScope]; required_scopes = ["orders:read"]
"""
from .authentication import MSTokenAuthentication
from .exceptions import InsufficientScope, MSTokenRefused, ServiceUnavailable
from .handlers import exception_handler
from .permissions import HasServiceScope

__all__ = [
    "HasServiceScope",
    "InsufficientScope",
    "MSTokenAuthentication",
    "MSTokenRefused",
    "ServiceUnavailable",
    "exception_handler",
]
