"""The catalogue: what can be bought, and at what price."""
from __future__ import annotations

import re
from decimal import Decimal

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from .currencies import CURRENCY_CHOICES, DEFAULT_CURRENCY

MIN_PRICE = Decimal("0.01")
MAX_PRICE_DIGITS = 12
PRICE_DECIMAL_PLACES = 2
# A price as text: ASCII digits, maybe a fraction (its length is the decimal-places check's).
# Decimal() reads far more ("１２", "1_000", "1e3", "+1"), so inputs are held to this first.
PRICE_TEXT = re.compile(r"[0-9]+(\.[0-9]+)?", re.ASCII)

sku_validator = RegexValidator(
    r"\A[A-Za-z0-9][A-Za-z0-9._-]*\Z",
    "A SKU is letters, digits, '.', '_' and '-', starting with a letter or digit.",
    code="invalid",
)


class Product(models.Model):
    # Unique ignoring case: the constraint on Lower(sku) below, on every database.
    sku = models.CharField(max_length=64, validators=[sku_validator])
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="", max_length=5000)
    price = models.DecimalField(
        max_digits=MAX_PRICE_DIGITS, decimal_places=PRICE_DECIMAL_PLACES, validators=[MinValueValidator(MIN_PRICE)]
    )
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, default=DEFAULT_CURRENCY)
    # False = removed from the catalogue (soft delete): bills that name it stay meaningful.
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            # The database refuses a free or negative price even if a writer skips validation.
            models.CheckConstraint(condition=Q(price__gt=0), name="catalog_product_price_positive"),
            # "mug-1" and "MUG-1" are one product to a person reading a bill or a label.
            models.UniqueConstraint(
                Lower("sku"),
                name="catalog_product_sku_unique_ignoring_case",
                violation_error_code="unique",
                violation_error_message="A product with this SKU already exists (SKUs ignore case).",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"
