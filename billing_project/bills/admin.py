"""Read-mostly admin: bills are snapshots of what was sold and are never edited by hand."""

from django.contrib import admin

from .models import Bill, BillItem, Delivery, IdempotencyRecord


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class BillItemInline(admin.TabularInline):
    model = BillItem
    extra = 0
    can_delete = False
    fields = ["product_id", "sku", "name", "unit_price", "quantity", "line_total"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class DeliveryInline(admin.StackedInline):
    model = Delivery
    extra = 0
    can_delete = False
    fields = ["status", "tracking_code", "shipping_address", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Bill)
class BillAdmin(ReadOnlyAdmin):
    list_display = ["id", "user_id", "total", "currency", "status", "created_at"]
    list_filter = ["status", "currency", "created_at"]
    search_fields = ["=id", "=user_id", "items__sku"]
    date_hierarchy = "created_at"
    inlines = [BillItemInline, DeliveryInline]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["tracking_code", "bill", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["tracking_code", "=bill__id", "=bill__user_id"]
    list_select_related = ["bill"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    """Deleting a record is allowed: it frees a key whose attempt died mid-way."""

    list_display = ["key", "user_id", "state", "bill", "created_at"]
    list_filter = ["state"]
    search_fields = ["key", "=user_id"]
