"""Reads of the catalogue. Views call these; nothing here writes."""
from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from .models import Product

# ?ordering= values a client may ask for, each made stable by the id.
PRODUCT_ORDERINGS: dict[str, tuple[str, ...]] = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "price": ("price", "id"),
    "-price": ("-price", "-id"),
}


def product_list(
    *, ids: Sequence[int] | None = None, search: str | None = None, ordering: str | None = None
) -> QuerySet[Product]:
    """Active products only: a deactivated product is out of the catalogue."""
    products = Product.objects.filter(is_active=True)
    if ids is not None:
        products = products.filter(id__in=ids)
    if search:
        products = products.filter(Q(name__icontains=search) | Q(sku__icontains=search))
    return products.order_by(*PRODUCT_ORDERINGS.get(ordering or "", ("id",)))


def product_get(*, product_id: int) -> Product:
    """One product, active or not (a bill may still point at a deactivated one); 404 if none."""
    return get_object_or_404(Product, pk=product_id)
