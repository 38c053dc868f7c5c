"""The test service's URLs: its JWKS, and views for service callers."""
from django.http import JsonResponse
from django.urls import include, path
from rest_framework.response import Response
from rest_framework.views import APIView

from ms_token.client import ServiceClient
from ms_token.contrib.rest_framework import HasServiceScope


class ServiceOnlyView(APIView):
    """Needs a verified service token with products:read (any method, so bodies can be tested)."""

    permission_classes = [HasServiceScope]
    required_scopes = ["products:read"]

    def get(self, request):
        return Response({
            "service": request.user.service,
            "scopes": sorted(request.user.scopes),
            "jti": request.user.jti,
            "request_id": request.headers.get("X-Request-ID"),
        })

    post = put = patch = delete = get


class CallsBillingView(APIView):
    """Calls the billing service; a failing peer must come out as 503."""

    authentication_classes = []
    permission_classes = []

    def get(self, request):
        return Response(ServiceClient("billing").get("/api/bills/", scope="bills:read").json())


def healthz(request):
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("healthz", healthz),
    path("", include("ms_token.urls")),
    path("api/service-only/", ServiceOnlyView.as_view(), name="service-only"),
    path("api/calls-billing/", CallsBillingView.as_view(), name="calls-billing"),
]
