"""Liveness (``/healthz``) and readiness (``/readyz``) views."""
from __future__ import annotations

import logging

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from .decorators import plain_get_view

logger = logging.getLogger(__name__)


@never_cache
@plain_get_view
def healthz(request) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _database_ready() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _replay_store_ready() -> None:
    from ms_token.replay import get_replay_store

    get_replay_store().ping()


READINESS_CHECKS = {"database": _database_ready, "replay_store": _replay_store_ready}


@never_cache
@plain_get_view
def readyz(request) -> JsonResponse:
    checks: dict[str, str] = {}
    ready = True
    for name, check in READINESS_CHECKS.items():
        try:
            check()
            checks[name] = "ok"
        except Exception as exc:  # any failure means "not ready", whatever raised it
            logger.warning("readiness check %s failed: %s", name, exc)
            checks[name] = "unavailable"
            ready = False
    body = {"status": "ready" if ready else "unavailable", "checks": checks}
    if not ready:
        body.update(detail="Not ready: a dependency does not answer.", code="not_ready")
    return JsonResponse(body, status=200 if ready else 503)


# By path: AllowedHostsMiddleware answers these whatever the Host header (see there).
PROBES = {"/healthz": healthz, "/readyz": readyz}
