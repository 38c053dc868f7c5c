"""``exception_handler``: DRF's, plus what the X-MS-TOKEN errors need.

    REST_FRAMEWORK = {"EXCEPTION_HANDLER": "ms_token.contrib.rest_framework.exception_handler"}

- a ``ServiceCallError`` (a peer dead, slow, failing, or refusing our token) becomes a 503
  naming the peer, never a 500;
- a ``SubjectTokenRejected`` (the end user's token refused by the transaction token service)
  becomes a 401 ``subject_token_invalid``;
- an X-MS-TOKEN refusal is a 401 carrying ``WWW-Authenticate: MS-Token`` even when another
  authentication class comes first: DRF takes the challenge from the first class only, and
  turns the 401 into a 403 when that class has none (``SessionAuthentication``, say);
- an error body of DRF's ``{"detail": ...}`` shape names its ``code`` too
  (``{"detail": "...", "code": "token_replayed"}``): clients act on the code.

A project with a handler of its own calls ``exception_handler`` first, or ``as_api_exception``
and ``www_authenticate`` to do the same in its own order.
"""
from __future__ import annotations

import logging
from typing import Any

from rest_framework import status
from rest_framework.exceptions import APIException, AuthenticationFailed
from rest_framework.response import Response

from ...exceptions import ServiceCallError, SubjectTokenRejected

from .exceptions import ServiceUnavailable, SubjectTokenInvalid

logger = logging.getLogger("ms_token")


def as_api_exception(exc: Exception) -> Exception:
    """``exc``, with a ``ServiceCallError`` turned into a 503 ``ServiceUnavailable`` and a
    ``SubjectTokenRejected`` into a 401 ``SubjectTokenInvalid``."""
    if isinstance(exc, ServiceCallError):
        logger.warning("peer service call failed: %s", exc)
        return ServiceUnavailable(f"The {exc.service} service is unavailable. Try again shortly.")
    if isinstance(exc, SubjectTokenRejected):
        logger.info("no transaction token for the end user: %s", exc)
        return SubjectTokenInvalid()
    return exc


def www_authenticate(exc: Exception) -> str | None:
    """The ``WWW-Authenticate`` value an X-MS-TOKEN refusal must carry, else None."""
    return getattr(exc, "www_authenticate", None)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    # Imported here: rest_framework.views reads the authentication classes when imported.
    from rest_framework.views import exception_handler as drf_exception_handler

    exc = as_api_exception(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    challenge = www_authenticate(exc)
    if challenge:
        response["WWW-Authenticate"] = challenge
        # A refusal with a challenge of its own stays a 401 (RFC 9110: a 401 names a challenge,
        # which DRF found none of in the view's first authentication class).
        if response.status_code == status.HTTP_403_FORBIDDEN and isinstance(exc, AuthenticationFailed):
            response.status_code = exc.status_code = status.HTTP_401_UNAUTHORIZED
    data = response.data
    if isinstance(exc, APIException) and isinstance(data, dict) and set(data) == {"detail"}:
        data["code"] = getattr(data["detail"], "code", None) or exc.default_code
    return response
