"""How products and listing filters look on the wire."""
from __future__ import annotations

import re

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty
from service_kit.serializers import StrictModelSerializer
from service_kit.urls import MAX_LISTED_ID

from .models import MAX_PRICE_DIGITS, MIN_PRICE, PRICE_DECIMAL_PLACES, PRICE_TEXT, Product, sku_validator
from .selectors import PRODUCT_ORDERINGS

MAX_IDS = 100


# The prices a client may send, as the schema tells it: ASCII digits, at most two decimals, more
# than zero, below 10**10 (the column's 12 digits). Leading zeros are digits too ("012.50").
PRICE_PATTERN = r"^(0*[1-9][0-9]{0,9}(\.[0-9]{1,2})?|0+\.(0[1-9]|[1-9][0-9]?))$"


@extend_schema_field({"type": "string", "format": "decimal", "pattern": PRICE_PATTERN, "example": "19.99"})
class PriceField(serializers.DecimalField):
    """A price is a decimal string of ASCII digits: ``"12"``, ``"12.5"``, ``"12.50"``.

    DRF's DecimalField reads whatever ``Decimal()`` reads, which is far more: ``"１２.５０"``,
    ``"1_000.00"``, ``"1e3"``, ``"+12.50"``, ``" 12.50 "``, and JSON numbers. Here the shape is
    checked first; the digit counts and the minimum are DecimalField's own checks after it.
    """

    default_error_messages = {
        "not_a_string": "A price is a decimal string such as \"19.99\", not a number.",
        "invalid": "A price is ASCII digits with at most two decimals, such as \"19.99\".",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", MAX_PRICE_DIGITS)
        kwargs.setdefault("decimal_places", PRICE_DECIMAL_PLACES)
        kwargs.setdefault("min_value", MIN_PRICE)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string")
        if not PRICE_TEXT.fullmatch(data):
            self.fail("invalid")
        return super().to_internal_value(data)


class ProductSerializer(StrictModelSerializer):
    """Validates input and renders output; saving is the services' job, not the serializer's.
    Text fields are strict: ``123`` for a name is a 400, not the name "123"."""

    price = PriceField()

    class Meta:
        model = Product
        fields = ["id", "sku", "name", "description", "price", "currency", "is_active", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        # No UniqueValidator: the services' full_clean() checks the SKU once (and the database
        # constraint under a race), so a write asks the database about it once, not twice.
        # Not trimmed: " MUG-1" is refused as its pattern says, not quietly taken as "MUG-1".
        extra_kwargs = {"sku": {"validators": [sku_validator], "trim_whitespace": False}}


_ID = "[1-9][0-9]{0,%d}" % (len(str(MAX_LISTED_ID)) - 1)  # 1 to MAX_LISTED_ID
IDS_PATTERN = rf"^{_ID}(,{_ID}){{0,{MAX_IDS - 1}}}$"
_IDS = re.compile(IDS_PATTERN[1:-1], re.ASCII)


@extend_schema_field({"type": "string", "pattern": IDS_PATTERN, "example": "1,2,3"})
class IdListField(serializers.Field):
    """``1,2,3``: at most :data:`MAX_IDS` positive ids, no spaces, no leading zeros. Present but
    empty is an error, not "all"."""

    default_error_messages = {
        "invalid": "Expected a comma-separated list of positive integer ids, e.g. 1,2,3.",
        "too_many": f"At most {MAX_IDS} ids per request.",
    }

    def get_value(self, dictionary):
        return dictionary.get(self.field_name, empty)

    def to_internal_value(self, data) -> list[int]:
        if not isinstance(data, str):
            self.fail("invalid")
        if data.count(",") >= MAX_IDS:
            self.fail("too_many")
        if not _IDS.fullmatch(data):
            self.fail("invalid")
        return list(dict.fromkeys(int(part) for part in data.split(",")))

    def to_representation(self, value):
        return ",".join(str(v) for v in value)


class ProductListFilterSerializer(serializers.Serializer):
    """The query parameters of the product listing."""

    ids = IdListField(required=False, help_text=f"Only these products: comma-separated ids, at most {MAX_IDS}.")
    search = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text="Text in the name or the SKU."
    )
    ordering = serializers.ChoiceField(choices=list(PRODUCT_ORDERINGS), required=False)
