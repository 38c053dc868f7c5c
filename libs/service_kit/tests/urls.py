"""The stand-in service's URLs: the common ones plus an endpoint that echoes parsed JSON."""
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from service_kit.urls import common_urlpatterns, handler400, handler403, handler404, handler500  # noqa: F401 (Django reads them here)


class EchoView(APIView):
    """Anyone may post JSON; it is parsed by the service's parser and echoed back."""

    authentication_classes = []
    permission_classes = []

    def post(self, request):
        return Response({"received": request.data})


urlpatterns = [
    *common_urlpatterns(),
    path("api/echo/", EchoView.as_view(), name="echo"),
]
