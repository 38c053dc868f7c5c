"""The transaction token service: ``POST /api/txn-tokens/``."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from ms_token.contrib.rest_framework import HasServiceScope, MSTokenAuthentication
from ms_token.txn_tokens import TXN_TOKEN_REQUEST_SCOPE
from service_kit.middleware import current_request_id
from service_kit.parsers import JSONParser
from service_kit.serializers import ErrorSerializer

from . import services
from .serializers import TxnTokenRequestSerializer, TxnTokenSerializer


class TxnTokenView(generics.GenericAPIView):
    """Exchange an end user's access token for a transaction token.

    For a service serving that user's request (X-MS-TOKEN, scope ``txn-tokens:request``). The
    transaction token (``typ`` ``txntoken+jwt``, ``aud`` ``shop``, ``sub`` the user, ``req_wl``
    the calling service) lives ``MS_TOKEN["TXN_TOKEN_TTL"]`` seconds and never past the access
    token; the caller sends it as ``Txn-Token`` on the calls it makes for that user, each bound by
    its X-MS-TOKEN's ``tth``. It is not a credential: as a Bearer token or an X-MS-TOKEN it is refused.
    """

    authentication_classes = [MSTokenAuthentication]
    permission_classes = [HasServiceScope]
    required_scopes = [TXN_TOKEN_REQUEST_SCOPE]
    parser_classes = [JSONParser]  # JSON only (the X-MS-TOKEN's bh is over the raw body bytes)
    serializer_class = TxnTokenRequestSerializer

    @extend_schema(
        responses={
            201: TxnTokenSerializer,
            **{code: OpenApiResponse(ErrorSerializer) for code in (400, 401, 403)},
        }
    )
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        issued = services.txn_token_issue(
            requester=request.user.service,
            assertion_jti=request.user.jti,
            request_id=current_request_id(),
            **serializer.validated_data,
        )
        # RFC 6749 5.1: a response carrying a token is never cached.
        return Response(
            TxnTokenSerializer(issued).data, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"}
        )
