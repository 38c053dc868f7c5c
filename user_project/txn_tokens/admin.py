"""The transaction token record in the admin, read only."""
from django.contrib import admin

from service_tokens.admin import AuditRecordAdmin

from .models import IssuedTxnToken


@admin.register(IssuedTxnToken)
class IssuedTxnTokenAdmin(AuditRecordAdmin):
    list_display = ("issued_at", "requester", "subject", "txn", "expires_at")
    list_filter = ("requester",)
    search_fields = ("txn", "subject", "subject_token_jti", "assertion_jti", "request_id")
    date_hierarchy = "issued_at"
