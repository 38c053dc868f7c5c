"""The stand-in "product" service's URLs: the common ones plus views for service callers."""
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from service_kit.ms_token.client import ServiceClient
from service_kit.ms_token.permissions import HasServiceScope
from service_kit.urls import common_urlpatterns, handler400, handler403, handler404, handler500  # noqa: F401 (Django reads them here)


class ServiceOnlyView(APIView):
    """Needs a verified service token with products:read (any method, so bodies can be tested)."""

    permission_classes = [HasServiceScope]
    required_scopes = ["products:read"]

    def get(self, request):
        return Response(
            {"service": request.user.service, "scopes": sorted(request.user.scopes), "jti": request.user.jti}
        )

    post = put = patch = delete = get


class EchoView(APIView):
    """Anyone may post JSON; it is parsed by the service's parser and echoed back."""

    authentication_classes = []
    permission_classes = []

    def post(self, request):
        return Response({"received": request.data})


class CallsBillingView(APIView):
    """Calls the billing service; a failing peer must come out as 503."""

    permission_classes = []

    def get(self, request):
        return Response(ServiceClient("billing").get("/api/bills/", scope="bills:read").json())


urlpatterns = [
    *common_urlpatterns(),
    path("api/service-only/", ServiceOnlyView.as_view(), name="service-only"),
    path("api/calls-billing/", CallsBillingView.as_view(), name="calls-billing"),
    path("api/echo/", EchoView.as_view(), name="echo"),
]
