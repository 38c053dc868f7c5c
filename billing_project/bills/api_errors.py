"""The boundary: billing's plain exceptions turned into DRF errors with a ``code``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rest_framework import exceptions, status
from rest_framework.exceptions import ErrorDetail

from .exceptions import (
    BillingError,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    InvalidBillItems,
    ShippingAddressMissing,
)


class IdempotencyConflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "A request with this Idempotency-Key is still being processed; retry shortly."
    default_code = "idempotency_key_in_use"


class IdempotencyMismatch(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was used with another request body; use a new key."
    default_code = "idempotency_key_reused"


def item_errors(exc: InvalidBillItems) -> exceptions.ValidationError:
    """``{"items": {1: {"product_id": [...]}}}``: the bad items by index, as DRF's list
    serializer reports them."""
    items: dict[int, dict[str, list[ErrorDetail]]] = {}
    for problem in exc.problems:
        items.setdefault(problem.index, {}).setdefault(problem.field, []).append(
            ErrorDetail(problem.message, problem.code)
        )
    return exceptions.ValidationError({"items": items})


def api_exception(exc: Exception) -> Exception:
    """The DRF exception to answer ``exc`` with (``exc`` itself if it is not ours)."""
    if isinstance(exc, InvalidBillItems):
        translated = item_errors(exc)
    elif isinstance(exc, IdempotencyKeyInUse):
        translated = IdempotencyConflict()
    elif isinstance(exc, IdempotencyKeyReused):
        translated = IdempotencyMismatch()
    elif isinstance(exc, ShippingAddressMissing):
        translated = exceptions.ValidationError(
            {
                "shipping_address": [
                    ErrorDetail(
                        "No shipping address in the request, and none in the user's profile.",
                        code="shipping_address_required",
                    )
                ]
            }
        )
    else:
        return exc
    translated.__cause__ = exc
    return translated


@contextmanager
def as_api_errors() -> Iterator[None]:
    """Run a service call; answer billing's own failures as DRF errors (chained). A failing
    peer (``ServiceCallError``) is left to service_kit's handler, which answers 503."""
    try:
        yield
    except BillingError as exc:
        raise api_exception(exc) from exc
