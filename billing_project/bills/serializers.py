"""Request and response shapes of the billing API."""

from __future__ import annotations

from rest_framework import serializers
from service_kit.serializers import VisibleTextField
from service_kit.urls import MAX_LISTED_ID

from .models import (
    MAX_LINES_PER_BILL,
    MAX_QUANTITY,
    PRICE_DIGITS,
    SHIPPING_ADDRESS_MAX_LENGTH,
    TOTAL_DIGITS,
    Bill,
    BillItem,
    Delivery,
)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer only: ``"3"``, ``3.0`` and ``true`` are not quantities or ids."""

    default_error_messages = {"invalid": "A whole number (JSON integer) is required."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class BillLineInputSerializer(serializers.Serializer):
    # Bounded as the product service bounds its ids: anything else it would refuse with a 400,
    # which billing can only answer as its own fault (503); here it is the caller's (400).
    product_id = StrictIntegerField(min_value=1, max_value=MAX_LISTED_ID)
    quantity = StrictIntegerField(min_value=1, max_value=MAX_QUANTITY)


class BillCreateSerializer(serializers.Serializer):
    """Only product ids and quantities: names, prices and totals come from the product service."""

    items = BillLineInputSerializer(many=True, allow_empty=False, max_length=MAX_LINES_PER_BILL)

    def validate_items(self, items: list[dict]) -> list[dict]:
        first_index: dict[int, int] = {}
        errors: dict[int, dict] = {}
        for index, item in enumerate(items):
            seen_at = first_index.setdefault(item["product_id"], index)
            if seen_at != index:
                message = (
                    f"Product {item['product_id']} is already item {seen_at}; give it once with the "
                    "total quantity."
                )
                errors[index] = {"product_id": [serializers.ErrorDetail(message, code="duplicate_product")]}
        if errors:
            raise serializers.ValidationError(errors)
        return items


def amount_field(*, max_digits: int) -> serializers.DecimalField:
    """An amount as a decimal string with two places (``"19.99"``), never a float."""
    return serializers.DecimalField(max_digits=max_digits, decimal_places=2, read_only=True)


class BillItemSerializer(serializers.ModelSerializer):
    unit_price = amount_field(max_digits=PRICE_DIGITS)
    line_total = amount_field(max_digits=TOTAL_DIGITS)

    class Meta:
        model = BillItem
        fields = ["product_id", "sku", "name", "unit_price", "quantity", "line_total"]
        read_only_fields = fields


class BillSerializer(serializers.ModelSerializer):
    items = BillItemSerializer(many=True, read_only=True)
    total = amount_field(max_digits=TOTAL_DIGITS)

    class Meta:
        model = Bill
        fields = ["id", "user_id", "items", "total", "currency", "status", "created_at"]
        read_only_fields = fields


class DeliveryCreateSerializer(serializers.Serializer):
    # Invisible characters only (a zero-width space) are no address: the profile's is asked for.
    shipping_address = VisibleTextField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=SHIPPING_ADDRESS_MAX_LENGTH,
        help_text="Where to ship; leave out to use the shipping address of the user's profile.",
    )


class DeliverySerializer(serializers.ModelSerializer):
    bill_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = Delivery
        fields = ["id", "bill_id", "status", "shipping_address", "tracking_code", "created_at"]
        read_only_fields = fields

