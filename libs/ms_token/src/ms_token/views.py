"""``/.well-known/jwks.json``: this service's public keys, for its peers to verify with."""
from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from .jwks import JWKS_MAX_AGE
from .keys import own_key_ring


def published_keys(request: HttpRequest) -> JsonResponse:
    """The JWKS document (public keys only), for any method: wrap it to restrict methods your
    way (``jwks_view`` answers GET and HEAD)."""
    response = JsonResponse(own_key_ring().jwks())
    # How long a verifier, or a cache in between, may keep these keys: short enough that a
    # revoked key leaves every verifier within the contract's bound, even through a cache, and
    # counted in keys.ACTIVATION_SECONDS, so no cache hides a new key past the time it signs.
    response["Cache-Control"] = f"public, max-age={JWKS_MAX_AGE}"
    return response


jwks_view = csrf_exempt(require_safe(published_keys))
