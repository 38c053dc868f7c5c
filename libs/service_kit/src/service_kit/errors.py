"""One error shape for every service: ``{"detail": "...", "code": "..."}`` with a 4xx status.

DRF's own exceptions already carry a message and a code; this handler flattens them into that
shape. Validation errors keep the field-by-field detail under ``errors`` and name the first bad
field in ``detail``, so a client can show one line and a form can show them all.

A service's own rules refuse with a ``DomainError`` (raised in ``services.py``, free of HTTP):
the handler is the one place that answers them, as it answers a Django ``ValidationError`` from
a model or a service.
"""
from __future__ import annotations

import logging
import sys
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.views.debug import SafeExceptionReporterFilter
from ms_token.contrib.rest_framework.exceptions import ServiceUnavailable
from ms_token.contrib.rest_framework.handlers import as_api_exception, www_authenticate
from rest_framework import exceptions, serializers
from rest_framework.response import Response

__all__ = ["DomainError", "ServiceUnavailable", "error_body", "exception_handler"]

logger = logging.getLogger(__name__)


class DomainError(Exception):
    """A rule of the service's own domain refuses the request.

    Subclasses set ``status`` (400 by default), ``code`` and a default ``detail``; ``field``
    names the input at fault, or ``errors`` gives DRF's field-by-field structure when several
    are. ``exception_handler`` answers it in the one error shape; nothing else translates it.
    """

    status: int = 400
    code: str = "invalid"
    detail: str = "The request cannot be processed."
    field: str | None = None
    # For a 401: the challenge the answer carries (RFC 9110 requires one).
    www_authenticate: str | None = None

    def __init__(self, detail: str | None = None, *, code: str | None = None, errors: Any = None) -> None:
        self.detail = detail or self.detail
        self.code = code or self.code
        self.errors = errors
        super().__init__(self.detail)

    def as_api_exception(self) -> exceptions.APIException:
        errors = self.errors
        if errors is None and self.field is not None:
            errors = {self.field: [exceptions.ErrorDetail(self.detail, code=self.code)]}
        if errors is not None:
            translated: exceptions.APIException = exceptions.ValidationError(errors)
        else:
            translated = exceptions.APIException(self.detail, code=self.code)
        translated.status_code = self.status
        translated.www_authenticate = self.www_authenticate  # type: ignore[attr-defined]
        return translated


def _first_error(detail: Any, path: str = "") -> tuple[str, str, str]:
    """The first (field path, message, code) in a nested validation error structure."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            if key == "non_field_errors":
                sub = path
            else:
                sub = f"{path}.{key}" if path else str(key)
            return _first_error(value, sub)
    if isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, (dict, list)):
                sub = f"{path}[{index}]" if path else f"[{index}]"
                if isinstance(value, dict) and not value:
                    continue
                return _first_error(value, sub)
            return _first_error(value, path)
    code = getattr(detail, "code", None) or "invalid"
    return path, str(detail), code


def error_body(detail: str, code: str, **extra: Any) -> dict[str, Any]:
    return {"detail": detail, "code": code, **extra}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    # Imported here: rest_framework.views reads the authentication classes at import time,
    # and those import this module.
    from rest_framework.views import exception_handler as drf_exception_handler

    # A peer failed us (ServiceCallError): our caller gets a 503 naming the peer, not a 500.
    exc = as_api_exception(exc)
    if isinstance(exc, DomainError):
        exc = exc.as_api_exception()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(serializers.as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # not an API error: Django's 500 handling (and logging) applies

    if isinstance(exc, exceptions.ValidationError):
        field, message, code = _first_error(exc.detail)
        detail = f"{field}: {message}" if field else message
        response.data = error_body(detail, code, errors=exc.detail)
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        if isinstance(detail, dict) and "detail" in detail:
            # simplejwt nests its own {"detail", "code", "messages"} inside ``detail``; the
            # first message says why ("Token has wrong type"), the detail only that it failed.
            messages = detail.get("messages") or [{}]
            detail = messages[0].get("message") or detail["detail"]
            code = str(exc.detail.get("code") or getattr(exc, "default_code", "error"))
        else:
            code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        extra = getattr(exc, "extra", None) or {}
        response.data = error_body(str(detail), code, **extra)

    challenge = www_authenticate(exc)
    if challenge:
        response["WWW-Authenticate"] = challenge
    return response


def not_found(request, exception=None) -> JsonResponse:
    """``handler404`` for URLs that match no route."""
    return JsonResponse(error_body("Not found.", "not_found"), status=404)


def server_error(request) -> JsonResponse:
    """``handler500``: still JSON, never a traceback page. Django calls it while handling the
    error: a database that does not answer is a 503 here too (``service_kit.unavailable``)."""
    from .unavailable import DATABASE_UNAVAILABLE, database_unavailable_response

    if isinstance(sys.exc_info()[1], DATABASE_UNAVAILABLE):
        return database_unavailable_response()
    return JsonResponse(error_body("Internal server error.", "server_error"), status=500)


def bad_request(request, exception=None) -> JsonResponse:
    return JsonResponse(error_body("Bad request.", "bad_request"), status=400)


def method_not_allowed(allowed: list[str]) -> JsonResponse:
    response = JsonResponse(error_body("Method not allowed.", "method_not_allowed"), status=405)
    response["Allow"] = ", ".join(allowed)
    return response


def csrf_failure(request, reason: str = "") -> JsonResponse:
    """``CSRF_FAILURE_VIEW``: a refused form post is JSON like every other error."""
    return JsonResponse(error_body(f"CSRF check failed: {reason}", "csrf_failed"), status=403)


def permission_denied(request, exception=None) -> JsonResponse:
    return JsonResponse(error_body("Permission denied.", "permission_denied"), status=403)


# The request itself as WSGI servers describe it; every other META key of a WSGI request is the
# server's or, under runserver, the whole process environment (database URLs with passwords).
_REQUEST_META = frozenset({
    "REQUEST_METHOD", "PATH_INFO", "SCRIPT_NAME", "QUERY_STRING", "CONTENT_TYPE", "CONTENT_LENGTH",
    "REMOTE_ADDR", "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL",
})


class TracebackOnlyReporterFilter(SafeExceptionReporterFilter):
    """``DEFAULT_EXCEPTION_REPORTER_FILTER``: debug mode's error page (and error reports) keep the
    traceback and the request's own headers, and show no settings and no environment; sensitive
    POST parameters (passwords of the login forms) are hidden in debug mode too."""

    def is_active(self, request) -> bool:
        return True

    def get_safe_settings(self) -> dict:
        return {}

    def get_safe_request_meta(self, request) -> dict:
        meta = super().get_safe_request_meta(request)
        return {key: value for key, value in meta.items() if key.startswith("HTTP_") or key in _REQUEST_META}
