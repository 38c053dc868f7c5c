"""The stand-in service's URLs: the common ones, an admin and an index, and an endpoint that
echoes parsed JSON."""
from django.contrib import admin
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from service_kit.urls import common_urlpatterns, handler400, handler403, handler404, handler500  # noqa: F401 (Django reads them here)
from service_kit.views import api_root_view


class EchoView(APIView):
    """Anyone may post JSON; it is parsed by the service's parser and echoed back."""

    authentication_classes = []
    permission_classes = []

    def post(self, request):
        return Response({"received": request.data})


urlpatterns = [
    *common_urlpatterns(),
    path("admin/", admin.site.urls),
    path("api/", api_root_view({"echo": "echo"}), name="api-root"),
    path("api/echo/", EchoView.as_view(), name="echo"),
]
