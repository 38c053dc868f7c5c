"""HTTP endpoints of the user service: validate, call a service or selector, render."""
from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from ms_token.contrib.rest_framework import HasServiceScope, HasTxnTokenSubject, MSTokenAuthentication
from ms_token.txn_tokens import TXN_TOKEN_HEADER
from service_kit.serializers import ErrorSerializer
from service_kit.throttling import LoginThrottle, RegisterThrottle

from . import services
from .selectors import user_authenticate, user_get
from .serializers import (
    InternalUserSerializer,
    LoginSerializer,
    ProfileSerializer,
    RefreshSerializer,
    RegisterSerializer,
    TokenPairSerializer,
)


def _errors(*statuses: int) -> dict[int, OpenApiResponse]:
    return {code: OpenApiResponse(ErrorSerializer) for code in statuses}


class CredentialsView(generics.GenericAPIView):
    """Base of the endpoints that take credentials in the body instead of a header.

    No authentication classes: a stale Bearer token or session must not stand in the way of
    logging in again (and no CSRF check applies, as no cookie is trusted).
    """

    authentication_classes = ()
    permission_classes = [AllowAny]

    def get_authenticate_header(self, request) -> str:
        # Without it DRF turns our 401s into 403s.
        return 'Bearer realm="api"'


class RegisterView(CredentialsView):
    """Create an account."""

    serializer_class = RegisterSerializer
    throttle_classes = [RegisterThrottle]  # per client address

    @extend_schema(responses={201: RegisterSerializer, **_errors(400, 429)})
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.register_user(**serializer.validated_data)
        return Response(self.get_serializer(user).data, status=status.HTTP_201_CREATED)


class LoginView(CredentialsView):
    """Exchange a username and password for an access and a refresh token."""

    serializer_class = LoginSerializer
    # Per client address, and per account whatever the address.
    throttle_classes = [LoginThrottle]

    @extend_schema(responses={200: TokenPairSerializer, **_errors(400, 401, 429)})
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_authenticate(request=request, **serializer.validated_data)
        if user is None:
            raise exceptions.AuthenticationFailed(
                "No active account found with the given credentials.", code="invalid_credentials"
            )
        pair = services.issue_token_pair(user=user)
        return Response(TokenPairSerializer(pair).data)


class RefreshView(CredentialsView):
    """Trade a refresh token for a new access and refresh token; the old refresh token dies."""

    serializer_class = RefreshSerializer

    @extend_schema(responses={200: TokenPairSerializer, **_errors(400, 401)})
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        pair = services.rotate_refresh_token(refresh=serializer.validated_data["refresh"])
        return Response(TokenPairSerializer(pair).data)


class LogoutView(CredentialsView):
    """Kill a refresh token: it is refused from then on."""

    serializer_class = RefreshSerializer

    @extend_schema(responses={205: OpenApiResponse(description="Logged out."), **_errors(400, 401)})
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.logout(refresh=serializer.validated_data["refresh"])
        return Response(status=status.HTTP_205_RESET_CONTENT)


class MeView(generics.GenericAPIView):
    """The signed-in user's own profile."""

    serializer_class = ProfileSerializer

    @extend_schema(responses={200: ProfileSerializer, **_errors(401, 403)})
    def get(self, request):
        return Response(self.get_serializer(request.user).data)

    @extend_schema(responses={200: ProfileSerializer, **_errors(400, 401, 403)})
    def patch(self, request):
        serializer = self.get_serializer(request.user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = services.update_profile(user=request.user, data=serializer.validated_data)
        return Response(self.get_serializer(user).data)


class InternalUserView(generics.GenericAPIView):
    """A user's contact and shipping details, for a service serving that user's request
    (X-MS-TOKEN with scope users:read, carrying a transaction token for that very user)."""

    serializer_class = InternalUserSerializer
    # Services only: a user's Bearer token or session is not even looked at here.
    authentication_classes = [MSTokenAuthentication]
    # The key of a service alone reads no one's address: only that of a user whose request it
    # serves (403 txn_token_required / subject_mismatch).
    permission_classes = [HasServiceScope, HasTxnTokenSubject]
    required_scopes = ["users:read"]
    txn_token_subject_kwarg = "user_id"

    @extend_schema(
        parameters=[
            OpenApiParameter(
                TXN_TOKEN_HEADER,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=True,
                description="A transaction token for this user (POST /api/txn-tokens/), bound by the X-MS-TOKEN's tth.",
            )
        ],
        responses={200: InternalUserSerializer, **_errors(401, 403, 404)},
    )
    def get(self, request, user_id: int):
        user = user_get(user_id=user_id)
        if user is None:
            raise exceptions.NotFound("No such user.")
        return Response(self.get_serializer(user).data)
