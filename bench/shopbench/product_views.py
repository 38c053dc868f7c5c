"""The callee: one view body, four ways to let a caller in."""
from __future__ import annotations

import hmac

from django.conf import settings
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.models import Product
from ms_token.contrib.rest_framework import MSTokenAuthentication
from ms_token.contrib.rest_framework.permissions import HasServiceScope

# The article's first design sends its static token in the X-MS-TOKEN header too.
STATIC_TOKEN_HEADER = "HTTP_X_MS_TOKEN"


class StaticCaller:
    is_authenticated = True


class StaticTokenAuthentication(BaseAuthentication):
    """The article's first design: one secret shared by caller and callee, compared in constant time."""

    def authenticate(self, request):
        offered = request.META.get(STATIC_TOKEN_HEADER, "")
        if not hmac.compare_digest(offered.encode(), settings.BENCH_STATIC_TOKEN.encode()):
            raise exceptions.AuthenticationFailed("bad static token", code="token_invalid")
        return StaticCaller(), None

    def authenticate_header(self, request):
        return "Static-Token"


class CatalogueRead(APIView):
    """What every mode serves: the first active products, as product's API would list them."""

    def get(self, request, *args, **kwargs):
        rows = list(
            Product.objects.filter(is_active=True).order_by("id").values("id", "sku", "name", "price", "currency")[:5]
        )
        for row in rows:
            row["price"] = f"{row['price']:.2f}"
        return Response({"count": len(rows), "results": rows})


class NoAuth(CatalogueRead):
    authentication_classes: list = []
    permission_classes = [AllowAny]


class StaticToken(CatalogueRead):
    authentication_classes = [StaticTokenAuthentication]
    permission_classes = [IsAuthenticated]


class FromTokenSource(BasePermission):
    """The mode measures the token source it names: a self-signed token (``token_service`` None)
    for xms, one issued by the token service (``"user"``) for fetched; else 403, so a run that
    silently used the other source fails instead of reporting the wrong figures."""

    def has_permission(self, request, view):
        return getattr(request.user, "token_service", False) == view.token_service


class MSToken(CatalogueRead):
    """X-MS-TOKEN as built, self-signed by billing."""

    authentication_classes = [MSTokenAuthentication]
    permission_classes = [HasServiceScope, FromTokenSource]
    required_scopes = ["products:read"]
    token_service: str | None = None


class VerifyOnlyAuthentication(MSTokenAuthentication):
    """Diagnostic (bench/profile.py): every check of the verifier, but no replay store claim and
    no verification log line, so their share of a call can be read off as xms - xms-noreplay.
    Never for a service (a bad token is a 500 here)."""

    def authenticate(self, request):
        from ms_token.principal import ServicePrincipal
        from ms_token.verification import verify

        token = request.META.get("HTTP_X_MS_TOKEN")
        if token is None:
            return None
        verified = verify(token, method=request.method, path=request.path, body=request.body,
                          query=request.META.get("QUERY_STRING", ""))
        return ServicePrincipal(verified.caller, verified.scopes, verified.jti), verified.claims


class RedisReplayAuthentication(MSTokenAuthentication):
    """X-MS-TOKEN with the Redis replay store (what MS_REPLAY_CACHE=redis://... gives a service),
    beside the database store of the plain "xms" mode, in the same run."""

    def get_replay_store(self):
        from ms_token.replay import RedisReplayStore

        store = getattr(RedisReplayAuthentication, "_store", None)
        if store is None:
            store = RedisReplayAuthentication._store = RedisReplayStore(settings.BENCH_REDIS_URL)
        return store


class MSTokenRedisReplay(MSToken):
    authentication_classes = [RedisReplayAuthentication]


class MSTokenWithoutReplayStore(MSToken):
    authentication_classes = [VerifyOnlyAuthentication]


class FetchedMSToken(MSToken):
    """X-MS-TOKEN issued by the token service (issue 6: iss user, sub billing)."""

    token_service = "user"
