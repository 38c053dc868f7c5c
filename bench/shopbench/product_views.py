"""The callee: one view body, four ways to let a caller in."""
from __future__ import annotations

import hmac

from django.conf import settings
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.models import Product
from service_kit.ms_token.authentication import MSTokenAuthentication
from service_kit.ms_token.permissions import HasServiceScope

STATIC_TOKEN_HEADER = "HTTP_X_STATIC_TOKEN"


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


class MSToken(CatalogueRead):
    """X-MS-TOKEN as built: self-signed by billing, or issued by the token service (issue 6)."""

    authentication_classes = [MSTokenAuthentication]
    permission_classes = [HasServiceScope]
    required_scopes = ["products:read"]
