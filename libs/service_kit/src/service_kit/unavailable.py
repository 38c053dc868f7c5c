"""A database that does not answer is a 503, never a 500.

PostgreSQL restarting, a failover, a connection limit reached: the request could not be
served now and may be sent again (bills carry an Idempotency-Key for that), which is what 503
with ``Retry-After`` says. A 500 would say our code is wrong. A view's error (DRF leaves these
to Django) is answered by the middleware, quietly; one raised outside any view (a middleware
that reads the database, such as the login forms' throttle) reaches ``handler500``, which
answers it the same way (``service_kit.errors.server_error``).
"""
from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse

from .errors import error_body

logger = logging.getLogger(__name__)

# Django's InterfaceError is no OperationalError: a connection closed under us.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 1


def database_unavailable_response() -> JsonResponse:
    response = JsonResponse(
        error_body("The database is unavailable. Try again shortly.", "service_unavailable"), status=503
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, DATABASE_UNAVAILABLE):
            return None
        first_line = (str(exception).strip().splitlines() or [type(exception).__name__])[0]
        logger.warning("database unavailable: %s", first_line)
        return database_unavailable_response()
