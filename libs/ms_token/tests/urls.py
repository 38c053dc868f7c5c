"""The test service's URLs: its JWKS, and views for service callers."""
from django.http import JsonResponse
from django.urls import include, path
from rest_framework.authentication import SessionAuthentication
from rest_framework.response import Response
from rest_framework.views import APIView

from ms_token.client import ServiceClient
from ms_token.contrib.rest_framework import HasServiceScope, HasTxnTokenSubject, MSTokenAuthentication
from ms_token.txn_tokens import txn_token_for


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


class SessionFirstView(ServiceOnlyView):
    """The X-MS-TOKEN class after one that has no challenge (DRF would answer its refusals 403)."""

    authentication_classes = [SessionAuthentication, MSTokenAuthentication]


class CallsBillingView(APIView):
    """Calls the billing service; a failing peer must come out as 503."""

    authentication_classes = []
    permission_classes = []

    def get(self, request):
        return Response(ServiceClient("billing").get("/api/bills/", scope="bills:read").json())


class ActsForOneUserView(APIView):
    """A service may read a user's orders only while serving that user (a transaction token)."""

    permission_classes = [HasServiceScope, HasTxnTokenSubject]
    required_scopes = ["products:read"]
    txn_token_subject_kwarg = "user_id"

    def get(self, request, user_id):
        return Response({"service": request.user.service, "subject": request.user.subject, "txn": request.user.txn})


class ForgetsItsSubjectKwargView(ActsForOneUserView):
    """Names a URL argument its URL does not have: a configuration error."""

    txn_token_subject_kwarg = "customer_id"


class CallsUserForItsCallerView(APIView):
    """Serves an end user (a Bearer token, not checked here) and calls the user service twice on
    their behalf: one transaction token, exchanged once, carried on both calls."""

    authentication_classes = []
    permission_classes = []

    def get(self, request, user_id):
        users = ServiceClient("user")
        answers = [
            users.get(f"/api/internal/users/{user_id}/", scope="users:read", txn_token=txn_token_for(request)).json()
            for _ in range(2)
        ]
        return Response({"answers": answers})


def healthz(request):
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("healthz", healthz),
    path("", include("ms_token.urls")),
    path("api/service-only/", ServiceOnlyView.as_view(), name="service-only"),
    path("api/session-first/", SessionFirstView.as_view(), name="session-first"),
    path("api/users/<int:user_id>/misconfigured/", ForgetsItsSubjectKwargView.as_view(), name="misconfigured"),
    path("api/calls-billing/", CallsBillingView.as_view(), name="calls-billing"),
    path("api/users/<int:user_id>/orders/", ActsForOneUserView.as_view(), name="acts-for-one-user"),
    path("api/calls-user/<int:user_id>/", CallsUserForItsCallerView.as_view(), name="calls-user"),
]
