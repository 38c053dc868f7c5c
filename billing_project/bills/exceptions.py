"""What can go wrong in billing's own rules: plain exceptions, turned into HTTP answers by the
views (``bills.api_errors``), so services stay free of HTTP."""

from __future__ import annotations

from dataclasses import dataclass


class BillingError(Exception):
    """Base of billing's domain errors."""


@dataclass(frozen=True)
class ItemProblem:
    """Why one requested line cannot be billed; ``index`` is its place in the request."""

    index: int
    field: str
    message: str
    code: str


class InvalidBillItems(BillingError):
    def __init__(self, problems: list[ItemProblem]) -> None:
        super().__init__("; ".join(f"items.{p.index}.{p.field}: {p.message}" for p in problems))
        self.problems = problems


class IdempotencyKeyInUse(BillingError):
    """Another request with this key is still being served."""


class IdempotencyKeyReused(BillingError):
    """The key was first used with another request body."""


class ShippingAddressMissing(BillingError):
    """Neither the request nor the user's profile has a shipping address."""
