"""Writes to the catalogue. Every write goes through here (API, admin actions, seed_demo), so
the model's rules are checked once, the same way, whatever the caller validated before."""
from __future__ import annotations

from collections.abc import Collection, Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from .currencies import DEFAULT_CURRENCY
from .models import Product

UPDATABLE_FIELDS = frozenset({"sku", "name", "description", "price", "currency", "is_active"})


def _duplicate_sku_error(sku: str) -> ValidationError:
    return ValidationError({"sku": ValidationError(f"A product with SKU {sku!r} already exists.", code="unique")})


def _sku_taken(product: Product) -> bool:
    """Another product has this SKU, in any case: "mug-1" takes "MUG-1" too."""
    return Product.objects.filter(sku__iexact=product.sku).exclude(pk=product.pk).exists()


def _check_sku_free(product: Product) -> None:
    if _sku_taken(product):
        raise _duplicate_sku_error(product.sku)


def _save(product: Product, *, changed: Collection[str] | None = None) -> Product:
    """Validate and save: insert a new product, or write only the ``changed`` fields of one
    (two concurrent edits of different fields both hold; an edit racing a deactivation does not
    bring the product back). A SKU taken by a concurrent writer between the check and the write
    surfaces as the same 400 as one taken long ago, not as an IntegrityError."""
    # The constraints are the database's (the SKU one would be a nameless form error here); the
    # SKU check below names the field, and the fields' validators already bound the price.
    product.full_clean(validate_constraints=False)
    _check_sku_free(product)
    try:
        with transaction.atomic():
            if changed is None:
                product.save(force_insert=True)
            else:
                product.save(update_fields=[*changed, "updated_at"])
    except IntegrityError as exc:
        if _sku_taken(product):
            raise _duplicate_sku_error(product.sku) from exc
        raise
    return product


def product_create(
    *,
    sku: str,
    name: str,
    price: Decimal,
    description: str = "",
    currency: str = DEFAULT_CURRENCY,
    is_active: bool = True,
) -> Product:
    product = Product(
        sku=sku, name=name, description=description, price=price, currency=currency, is_active=is_active
    )
    return _save(product)


def product_update(*, product: Product, changes: Mapping[str, Any]) -> Product:
    """Apply ``changes`` (any of :data:`UPDATABLE_FIELDS`) to ``product``."""
    unknown = set(changes) - UPDATABLE_FIELDS
    if unknown:
        raise ValueError(f"not updatable: {', '.join(sorted(unknown))}")
    for field, value in changes.items():
        setattr(product, field, value)
    return _save(product, changed=list(changes))


def product_deactivate(*, product: Product) -> Product:
    """Soft delete: out of the listings, still readable by id. Deactivating twice is a no-op."""
    if product.is_active:
        product.is_active = False
        product.save(update_fields=["is_active", "updated_at"])
    return product
