"""Request ids: accepted from ``X-Request-ID`` (when sane) or made, returned, logged, passed on.
A JSON answer for a request Django would refuse with its own page (a Host outside
``ALLOWED_HOSTS``, a body over the size limit). And Django's CommonMiddleware, minus its one way
to a 500."""
from __future__ import annotations

import contextvars
import logging
import re
import uuid

from django.conf import settings
from django.core.exceptions import DisallowedHost, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import JsonResponse
from django.middleware.common import CommonMiddleware as DjangoCommonMiddleware

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

_current_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)


def current_request_id() -> str | None:
    """The id of the request being served by this thread, for outgoing calls and logs."""
    return _current_request_id.get()


def request_id_headers() -> dict[str, str]:
    """``MS_TOKEN["PEER_HEADERS"]``: every call to a peer passes the request id on."""
    request_id = _current_request_id.get()
    return {REQUEST_ID_HEADER: request_id} if request_id else {}


class RequestIDMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if _SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = _current_request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _current_request_id.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


class RequestIDLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # Django logs a 4xx/5xx ("Unauthorized: /api/...") after the middleware has returned,
        # when the context variable is reset again; its record carries the request itself.
        request = getattr(record, "request", None)
        record.request_id = current_request_id() or getattr(request, "request_id", None) or "-"
        return True


class AllowedHostsMiddleware:
    """A ``Host`` outside ``ALLOWED_HOSTS`` is a JSON 400 ``disallowed_host``, with debug on or
    off. Django raises ``DisallowedHost`` wherever the host is first read, and answers it with
    its debug page (settings, request, environment) in debug mode.

    The probes (``/healthz``, ``/readyz``) answer whatever the Host: an orchestrator's probe
    names the address it connects to (the pod's IP), which no ``ALLOWED_HOSTS`` lists. They say
    nothing that depends on the host, and no other middleware runs for them then.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            request.get_host()
        except DisallowedHost:
            from .health import PROBES

            probe = PROBES.get(request.path_info)
            if probe is not None:
                return probe(request)
            logging.getLogger("django.security.DisallowedHost").warning(
                "refused a request for a host not in ALLOWED_HOSTS"
            )
            return _json_error("The Host header names a host this service does not serve.", "disallowed_host", 400)
        return self.get_response(request)


class RequestSizeMiddleware:
    """A body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is a JSON 413 ``request_too_large`` before
    anything reads it (the services take no file uploads, so the limit is on the whole body),
    and so is a form with more than ``DATA_UPLOAD_MAX_NUMBER_FIELDS`` fields met by a view.
    Django's own answer would be its debug page in debug mode."""

    TOO_LARGE = (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django reads such a body as empty
        if limit is not None and length > limit:
            return _json_error(f"The request body is too large: at most {limit} bytes.", "request_too_large", 413)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, self.TOO_LARGE):
            return _json_error("The request body is too large, or has too many fields.", "request_too_large", 413)
        return None


def _json_error(detail: str, code: str, status: int) -> JsonResponse:
    from .errors import error_body  # errors imports DRF, which this module must not at import

    return JsonResponse(error_body(detail, code), status=status)


# Methods whose body a redirect would lose: the client repeats a 301 as a GET.
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class CommonMiddleware(DjangoCommonMiddleware):
    """Django's, with two JSON 404s:

    - a request with a body to a path that lacks its final slash: Django redirects it (the
      client then drops the body) or, with DEBUG, raises a RuntimeError (a 500). It gets a JSON
      404 naming the path to use instead; GET and HEAD are still redirected.
    - with DEBUG (the ``make up`` default), a path that matches nothing: Django's HTML page of
      URL patterns stays for a browser (it asks for text/html); API clients get the JSON 404
      they get with DEBUG off.
    """

    def process_response(self, request, response):
        if response.status_code == 404 and request.method in _BODY_METHODS and self.should_redirect_with_slash(request):
            return _not_found(f"Not found. This path ends with a slash: {request.path}/")
        response = super().process_response(request, response)
        if (
            response.status_code == 404
            and settings.DEBUG
            and response.get("Content-Type", "").startswith("text/html")
            and "text/html" not in request.headers.get("Accept", "")
        ):
            return _not_found("Not found.")
        return response


def _not_found(detail: str):
    return _json_error(detail, "not_found", 404)
