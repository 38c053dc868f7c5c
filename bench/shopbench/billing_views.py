"""The caller: one billing -> product call per request, timed inside billing."""
from __future__ import annotations

import threading
import time

import requests
from django.conf import settings
from django.http import HttpRequest, JsonResponse

from ms_token.client import ServiceCallError, ServiceClient
from ms_token.settings import ms_token_settings

class ConstantSource:
    """A token source that sends the same value every time: the static shared token of the
    article's first design, or a placeholder for "none" (which the callee ignores). Every mode
    then goes through the same ServiceClient, so the figures differ by authentication alone."""

    def __init__(self, value: str) -> None:
        self.value = value

    def token(self, **request) -> str:
        return self.value


def _token_service_source():
    """The issue 6 token source (a token fetched from the user service before every call)."""
    from django.utils.module_loading import import_string

    path = ms_token_settings.TOKEN_SOURCES.get("token-service")
    if not path:
        return None
    return import_string(path)()


_unauthenticated = ServiceClient("product", token_source=ConstantSource("none"))
_static = ServiceClient("product", token_source=ConstantSource(settings.BENCH_STATIC_TOKEN))
_self_signed = ServiceClient("product")
_fetched = None
_fetched_lock = threading.Lock()


def _fetched_client() -> ServiceClient:
    global _fetched
    if _fetched is None:
        with _fetched_lock:
            if _fetched is None:
                source = _token_service_source()
                if source is None:
                    raise LookupError("no 'token-service' token source: issue 6 is not built")
                _fetched = ServiceClient("product", token_source=source)
    return _fetched


# Billing's real read of product carries a query (?ids=...), which the X-MS-TOKEN binds (qh):
# every mode sends the same one, so the figures differ by authentication alone.
QUERY = {"ids": "1,2,3"}


def _call(client: ServiceClient, path: str) -> int:
    try:
        return client.get(path, scope="products:read", params=QUERY).status_code
    except ServiceCallError as error:
        return getattr(error, "status", None) or 503


CALLERS = {
    "none": lambda: _call(_unauthenticated, "/bench/none/"),
    "static": lambda: _call(_static, "/bench/static/"),
    "xms": lambda: _call(_self_signed, "/bench/xms/"),
    "xms-redis": lambda: _call(_self_signed, "/bench/xms-redis/"),
    "fetched": lambda: _call(_fetched_client(), "/bench/fetched/"),
    "xms-noreplay": lambda: _call(_self_signed, "/bench/xms-noreplay/"),  # diagnostic, bench/profile.py
}


def call(request: HttpRequest, mode: str) -> JsonResponse:
    caller = CALLERS.get(mode)
    if caller is None:
        return JsonResponse({"detail": f"unknown mode {mode}", "code": "not_found"}, status=404)
    started = time.perf_counter()
    try:
        status = caller()
    except LookupError as error:
        return JsonResponse({"detail": str(error), "code": "not_available"}, status=501)
    except requests.RequestException as error:
        return JsonResponse({"detail": str(error), "code": "peer_failed", "status": 0}, status=502)
    return JsonResponse({"status": status, "us": round((time.perf_counter() - started) * 1e6)})
