"""The catalogue in Django admin, for the product service's own staff accounts."""
from django.contrib import admin, messages

from . import services
from .models import Product


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "price", "currency", "is_active", "updated_at"]
    list_display_links = ["sku", "name"]
    # The currencies products are priced in, not every ISO 4217 code the field accepts.
    list_filter = ["is_active", ("currency", admin.AllValuesFieldListFilter)]
    search_fields = ["sku", "name"]
    ordering = ["sku"]
    readonly_fields = ["created_at", "updated_at"]
    actions = ["deactivate"]

    def has_delete_permission(self, request, obj=None) -> bool:
        # Bills keep pointing at products: remove from the catalogue with "deactivate" instead.
        return False

    @admin.action(description="Deactivate selected products (remove from listings)")
    def deactivate(self, request, queryset) -> None:
        products = list(queryset.filter(is_active=True))
        for product in products:
            services.product_deactivate(product=product)
        self.message_user(request, f"Deactivated {len(products)} product(s).", messages.SUCCESS)
