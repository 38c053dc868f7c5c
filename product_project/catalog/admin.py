"""The catalogue in Django admin, for the product service's own staff accounts."""
from django import forms
from django.contrib import admin, messages

from . import services
from .models import PRICE_TEXT, Product


class ProductAdminForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = "__all__"

    def clean_price(self):
        # The form's DecimalField reads what Decimal() reads ("１２.５０", "1e3"); the API's rule holds here too.
        raw = str(self.data.get(self.add_prefix("price"), "")).strip()
        if not PRICE_TEXT.fullmatch(raw):
            raise forms.ValidationError("A price is ASCII digits with at most two decimals, such as 19.99.", code="invalid")
        return self.cleaned_data["price"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    form = ProductAdminForm
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
