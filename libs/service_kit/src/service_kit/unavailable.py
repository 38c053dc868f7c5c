"""A database that does not answer is a 503, never a 500.

PostgreSQL restarting, a failover, a connection limit reached: the request could not be
served now and may be sent again (bills carry an Idempotency-Key for that), which is what 503
with ``Retry-After`` says. A 500 would say our code is wrong. DRF's handler leaves these
errors to Django, so one middleware answers them for API and HTML views alike.
"""
from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse

from .errors import error_body

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 1


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        # Django's InterfaceError is no OperationalError: a connection closed under us.
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        logger.warning("database unavailable: %s", str(exception).strip().splitlines()[0] if str(exception).strip() else exception)
        response = JsonResponse(
            error_body("The database is unavailable. Try again shortly.", "service_unavailable"), status=503
        )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
