"""The token service: ``POST /api/service-tokens/``."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from service_kit.middleware import current_request_id
from service_kit.parsers import JSONParser
from ms_token.contrib.rest_framework import MSTokenAuthentication
from ms_token.contrib.rest_framework.exceptions import TokenInvalid
from ms_token.contrib.rest_framework.permissions import HasServiceScope
from ms_token.sources import ASSERTION_SCOPE
from service_kit.serializers import ErrorSerializer

from . import services
from .serializers import ServiceTokenRequestSerializer, ServiceTokenSerializer


class IsSelfSignedAssertion(BasePermission):
    """The client assertion is signed by the caller itself (its own key), never a token that the
    token service issued: a token must not buy another token."""

    def has_permission(self, request, view) -> bool:
        if getattr(request.user, "token_service", None) is not None:
            raise TokenInvalid("The client assertion must be signed by the calling service itself.")
        return True


class ServiceTokenView(generics.GenericAPIView):
    """Issue one X-MS-TOKEN for one request of the calling service.

    The caller authenticates with a client assertion: an X-MS-TOKEN it signs with its own key
    for this endpoint (aud = this service, htm POST, htu this path, bh of this body), scope
    ``service-tokens:request``, accepted once. The token returned is signed by this service
    (iss), names the caller in sub, and is bound to the method, path and body hash asked for.
    """

    authentication_classes = [MSTokenAuthentication]
    permission_classes = [HasServiceScope, IsSelfSignedAssertion]
    required_scopes = [ASSERTION_SCOPE]
    parser_classes = [JSONParser]  # JSON only (the assertion's bh is over the raw body bytes)
    serializer_class = ServiceTokenRequestSerializer

    @extend_schema(
        responses={
            200: ServiceTokenSerializer,
            **{status: OpenApiResponse(ErrorSerializer) for status in (400, 401, 403)},
        }
    )
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        issued = services.service_token_issue(
            caller=request.user.service,
            assertion_jti=request.user.jti,
            request_id=current_request_id(),
            **serializer.validated_data,
        )
        # RFC 6749 5.1: a response carrying a token is never cached.
        return Response(ServiceTokenSerializer(issued).data, headers={"Cache-Control": "no-store"})
