"""What can go wrong in billing's own rules: domain errors raised by the services, free of HTTP;
service_kit's exception handler answers them in the one error shape."""

from __future__ import annotations

from dataclasses import dataclass

from rest_framework.exceptions import ErrorDetail
from service_kit.errors import DomainError


class BillingError(DomainError):
    """Base of billing's domain errors."""


@dataclass(frozen=True)
class ItemProblem:
    """Why one requested line cannot be billed; ``index`` is its place in the request."""

    index: int
    field: str
    message: str
    code: str


class InvalidBillItems(BillingError):
    """``errors`` is ``{"items": {1: {"product_id": [...]}}}``: the bad items by index, as DRF's
    list serializer reports them."""

    def __init__(self, problems: list[ItemProblem]) -> None:
        items: dict[int, dict[str, list[ErrorDetail]]] = {}
        for problem in problems:
            items.setdefault(problem.index, {}).setdefault(problem.field, []).append(
                ErrorDetail(problem.message, problem.code)
            )
        super().__init__(
            "; ".join(f"items.{p.index}.{p.field}: {p.message}" for p in problems), errors={"items": items}
        )
        self.problems = problems


class IdempotencyKeyInUse(BillingError):
    """Another request with this key is still being served."""

    status = 409
    code = "idempotency_key_in_use"
    detail = "A request with this Idempotency-Key is still being processed; retry shortly."


class IdempotencyKeyReused(BillingError):
    """The key was first used with another request body."""

    status = 422
    code = "idempotency_key_reused"
    detail = "This Idempotency-Key was used with another request body; use a new key."


class ShippingAddressMissing(BillingError):
    """Neither the request nor the user's profile has a shipping address."""

    code = "shipping_address_required"
    detail = "No shipping address in the request, and none in the user's profile."
    field = "shipping_address"
