"""The catalogue: what can be bought, and at what price."""
from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from .currencies import CURRENCY_CHOICES, DEFAULT_CURRENCY

MIN_PRICE = Decimal("0.01")

sku_validator = RegexValidator(
    r"\A[A-Za-z0-9][A-Za-z0-9._-]*\Z",
    "A SKU is letters, digits, '.', '_' and '-', starting with a letter or digit.",
    code="invalid",
)


class Product(models.Model):
    sku = models.CharField(max_length=64, unique=True, validators=[sku_validator])
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="", max_length=5000)
    price = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(MIN_PRICE)])
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
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"
