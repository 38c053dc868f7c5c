"""Small views every service uses."""
from __future__ import annotations

from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from .branding import service_title


def api_root_view(endpoints: dict[str, str]):
    """A browsable ``/api/`` index: ``endpoints`` maps a label to a URL name."""

    class ApiRootView(APIView):
        permission_classes = [AllowAny]
        schema = None  # an index, not an operation worth documenting

        def get_view_name(self) -> str:
            return service_title()  # the browsable API's heading: "Product service", not "Api Root"

        def get(self, request, format=None):
            return Response(
                {label: reverse(name, request=request, format=format) for label, name in endpoints.items()}
            )

    ApiRootView.__doc__ = "The endpoints of this service."
    return ApiRootView.as_view()
