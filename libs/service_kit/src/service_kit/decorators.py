"""View decorators (no DRF imports here: the authentication classes import this package)."""
from __future__ import annotations

from functools import wraps

from django.views.decorators.csrf import csrf_exempt

from .errors import method_not_allowed


def plain_get_view(view):
    """A read-only plain Django view (health, JWKS): other methods get a JSON 405, and no CSRF
    check runs first to answer a stray POST with an HTML 403."""

    @csrf_exempt
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            return method_not_allowed(["GET", "HEAD"])
        return view(request, *args, **kwargs)

    return wrapper
