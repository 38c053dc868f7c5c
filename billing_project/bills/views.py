"""The billing API: thin views over ``services`` (writes) and ``selectors`` (reads)."""

from __future__ import annotations

from functools import partial

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from ms_token.txn_tokens import txn_token_for
from service_kit.serializers import ErrorSerializer
from service_kit.user_auth import UserTokenAuthentication

from . import selectors, services
from .models import IDEMPOTENCY_KEY_MAX_LENGTH, Bill, Delivery
from .serializers import (
    BillCreateSerializer,
    BillSerializer,
    DeliveryCreateSerializer,
    DeliverySerializer,
)

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"

_error = OpenApiResponse(ErrorSerializer)
_unavailable = OpenApiResponse(
    ErrorSerializer, description="A peer service is down, slow or failing; nothing stored."
)


class InvalidIdempotencyKey(exceptions.ValidationError):
    default_code = "invalid_idempotency_key"


def caller_user_id(request: Request) -> int:
    """The user id of the user token (billing has no user table of its own)."""
    try:
        user_id = int(request.user.id)
    except (TypeError, ValueError) as exc:
        raise exceptions.AuthenticationFailed(
            "The token names no usable user id.", code="token_invalid"
        ) from exc
    if user_id < 1:
        raise exceptions.AuthenticationFailed("The token names no usable user id.", code="token_invalid")
    return user_id


def idempotency_key_of(request: Request) -> str | None:
    key = request.headers.get(IDEMPOTENCY_KEY_HEADER)
    if key is None:
        return None
    if not (0 < len(key) <= IDEMPOTENCY_KEY_MAX_LENGTH and key.isascii() and key.isprintable()):
        raise InvalidIdempotencyKey(
            {IDEMPOTENCY_KEY_HEADER: [f"1 to {IDEMPOTENCY_KEY_MAX_LENGTH} printable ASCII characters."]}
        )
    return key


class UserTokenView(GenericAPIView):
    """Bills belong to shop users, named by their user token: a local session (a billing admin)
    or a service token has no bills."""

    authentication_classes = [UserTokenAuthentication]

    @property
    def user_id(self) -> int:
        return caller_user_id(self.request)

    def get_bill(self) -> Bill:
        bill = selectors.bill_of_user(user_id=self.user_id, bill_id=self.kwargs["pk"])
        if bill is None:
            raise exceptions.NotFound("No such bill.")
        return bill


class BillListCreateView(UserTokenView):
    serializer_class = BillSerializer

    def get_queryset(self):
        return selectors.bills_of_user(user_id=self.user_id)

    @extend_schema(summary="The caller's bills, newest first", responses={200: BillSerializer(many=True)})
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(BillSerializer(page, many=True).data)

    @extend_schema(
        summary="Make a bill at the product service's current prices",
        description=(
            "Only product ids and quantities are read. With an `Idempotency-Key`, a retry with the same "
            "key and body answers 200 with the bill made first (header `Idempotent-Replayed: true`); "
            "the same key with another body is 422; a retry while the first is still running is 409."
        ),
        request=BillCreateSerializer,
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_KEY_HEADER,
                {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": IDEMPOTENCY_KEY_MAX_LENGTH,
                    # Printable ASCII; no space at either end, which HTTP would not carry.
                    "pattern": "^[!-~]([ -~]*[!-~])?$",
                },
                OpenApiParameter.HEADER,
                description="Any unique string per intended bill (e.g. a UUID); kept at least 24 hours.",
            )
        ],
        examples=[
            OpenApiExample(
                "Two of product 1", value={"items": [{"product_id": 1, "quantity": 2}]}, request_only=True
            )
        ],
        responses={
            201: BillSerializer,
            200: OpenApiResponse(BillSerializer, description="Replay of an Idempotency-Key: the same bill."),
            400: _error,
            409: _error,
            422: _error,
            503: _unavailable,
        },
    )
    def post(self, request: Request) -> Response:
        user_id = self.user_id
        idempotency_key = idempotency_key_of(request)
        payload = BillCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        lines = [services.BillLine(**item) for item in payload.validated_data["items"]]
        outcome = services.create_bill(user_id=user_id, lines=lines, idempotency_key=idempotency_key)
        headers = {"Location": reverse("bill-detail", kwargs={"pk": outcome.bill.pk}, request=request)}
        if not outcome.created:
            headers[REPLAYED_HEADER] = "true"
        return Response(
            BillSerializer(outcome.bill).data,
            status=status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK,
            headers=headers,
        )


class BillDetailView(UserTokenView):
    serializer_class = BillSerializer

    @extend_schema(summary="One of the caller's bills", responses={200: BillSerializer, 404: _error})
    def get(self, request: Request, pk: int) -> Response:
        return Response(BillSerializer(self.get_bill()).data)


class BillDeliveryView(UserTokenView):
    serializer_class = DeliverySerializer

    @extend_schema(
        summary="The delivery of one of the caller's bills", responses={200: DeliverySerializer, 404: _error}
    )
    def get(self, request: Request, pk: int) -> Response:
        delivery: Delivery | None = selectors.delivery_of_user_bill(user_id=self.user_id, bill_id=pk)
        if delivery is None:
            raise exceptions.NotFound("This bill has no delivery.")
        return Response(DeliverySerializer(delivery).data)

    @extend_schema(
        summary="Initiate the delivery of one of the caller's bills",
        description=(
            "Without `shipping_address` the user's profile address is asked of the user service, "
            "with a transaction token for the caller exchanged for their access token. "
            "A second call answers 200 with the delivery initiated first."
        ),
        request=DeliveryCreateSerializer,
        responses={
            201: DeliverySerializer,
            200: OpenApiResponse(DeliverySerializer, description="Already initiated: that delivery."),
            400: _error,
            401: OpenApiResponse(
                ErrorSerializer, description="subject_token_invalid: the user service refused the caller's token."
            ),
            404: _error,
            503: _unavailable,
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        bill = self.get_bill()
        payload = DeliveryCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        outcome = services.initiate_delivery(
            bill=bill,
            shipping_address=payload.validated_data.get("shipping_address"),
            # The bill is the caller's (get_bill): the Bearer token's user is its owner.
            owner_txn_token=partial(txn_token_for, request),
        )
        return Response(
            DeliverySerializer(outcome.delivery).data,
            status=status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK,
        )
