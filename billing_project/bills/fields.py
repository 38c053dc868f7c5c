"""Money columns that every database stores exactly.

A ``DecimalField`` is exact on PostgreSQL (``numeric``) but not on SQLite, which keeps decimals
as 8-byte floats and where Django reads them back to 15 significant digits: a bill total of
``19999999999970.01`` comes back as ``...70.00``. :class:`HundredthsField` keeps an amount as a
whole number of hundredths in a 64-bit integer column instead, which both databases hold,
compare, sum and multiply exactly; Python code sees a ``Decimal`` with two places.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core import exceptions
from django.db import models

HUNDREDTH = Decimal("0.01")
# What a signed 64-bit column (SQLite INTEGER, PostgreSQL bigint) holds, in hundredths.
MAX_HUNDREDTHS = 2**63 - 1


def to_hundredths(amount: Decimal | int | str) -> int:
    """``Decimal("12.34")`` -> ``1234``; ValueError for anything that is not a whole number of
    hundredths within the column (never rounded)."""
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
        hundredths = value.scaleb(2)
        exact = value.is_finite() and hundredths == hundredths.to_integral_value()
    except InvalidOperation as exc:
        raise ValueError(f"{amount!r} is not an amount") from exc
    if not exact:
        raise ValueError(f"{amount!r} is not a whole number of hundredths")
    if abs(hundredths) > MAX_HUNDREDTHS:
        raise ValueError(f"{amount!r} is beyond what the column holds")
    return int(hundredths)


def from_hundredths(hundredths: int) -> Decimal:
    """``1234`` -> ``Decimal("12.34")`` (always two places)."""
    return Decimal(hundredths).scaleb(-2)


class HundredthsField(models.BigIntegerField):
    """An amount with two decimal places, stored as whole hundredths (``bigint``).

    Lookups take amounts too (``total__gte=Decimal("10.00")``); an amount with a fraction of a
    hundredth is refused with a ValueError, never rounded.
    """

    description = "Amount with two decimal places, stored as an integer number of hundredths"

    def from_db_value(self, value: int | None, expression: Any, connection: Any) -> Decimal | None:
        return None if value is None else from_hundredths(value)

    def to_python(self, value: Any) -> Decimal | None:
        if value is None or isinstance(value, Decimal):
            return value
        try:
            return from_hundredths(to_hundredths(value))
        except ValueError as exc:
            raise exceptions.ValidationError(
                "Enter an amount with at most two decimal places.", code="invalid", params={"value": value}
            ) from exc

    def get_prep_value(self, value: Any) -> int | None:
        if value is None or isinstance(value, models.expressions.Expression):
            return value
        if isinstance(value, (float, bool)):  # a float has already lost the cents
            raise TypeError(f"{self.name}: an amount must be a Decimal, an int or a string, not {value!r}")
        return to_hundredths(value)

    def formfield(self, **kwargs: Any) -> forms.Field:
        defaults = {"decimal_places": 2, "required": not self.blank, "label": self.verbose_name}
        return forms.DecimalField(**{**defaults, **kwargs})
