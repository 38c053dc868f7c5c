"""The operator's console: callers, their grants and the switch, and the issuance record."""
from django.contrib import admin
from django.utils import timezone

from .models import IssuedServiceToken, ServiceCaller, ServiceGrant


class ServiceGrantInline(admin.TabularInline):
    model = ServiceGrant
    extra = 1


@admin.register(ServiceCaller)
class ServiceCallerAdmin(admin.ModelAdmin):
    list_display = ("name", "is_enabled", "grant_summary", "updated_at")
    list_editable = ("is_enabled",)
    list_filter = ("is_enabled",)
    search_fields = ("name",)
    inlines = [ServiceGrantInline]
    actions = ["disable", "enable"]

    @admin.display(description="grants")
    def grant_summary(self, caller: ServiceCaller) -> str:
        return "; ".join(f"{grant.audience}: {grant.scopes}" for grant in caller.grants.all())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("grants")

    @admin.action(description="Disable: no more tokens from the next request on")
    def disable(self, request, queryset) -> None:
        queryset.update(is_enabled=False, updated_at=timezone.now())

    @admin.action(description="Enable")
    def enable(self, request, queryset) -> None:
        queryset.update(is_enabled=True, updated_at=timezone.now())


class AuditRecordAdmin(admin.ModelAdmin):
    """Read only: an audit record is not edited."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(IssuedServiceToken)
class IssuedServiceTokenAdmin(AuditRecordAdmin):
    list_display = ("issued_at", "caller", "audience", "scope", "method", "path", "jti")
    list_filter = ("caller", "audience")
    search_fields = ("jti", "assertion_jti", "request_id", "caller")
    date_hierarchy = "issued_at"
