"""The transaction token service's record: every transaction token issued, never the token."""
from __future__ import annotations

from django.db import models


class IssuedTxnToken(models.Model):
    """One transaction token issued: which service asked, for which user, when, and its ``txn``."""

    requester = models.CharField(max_length=64, db_index=True, help_text="The service that asked (req_wl).")
    # Text, not a foreign key: the record outlives an account.
    subject = models.CharField(max_length=255, db_index=True, help_text="The user it speaks for (sub).")
    txn = models.CharField(max_length=128, unique=True, help_text="The transaction's id, as the callees log it.")
    subject_token_jti = models.CharField(max_length=255, blank=True, help_text="jti of the access token exchanged")
    assertion_jti = models.CharField(max_length=128, help_text="jti of the requester's X-MS-TOKEN")
    request_id = models.CharField(max_length=128, blank=True)
    issued_at = models.DateTimeField(db_index=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = "issued transaction token"

    def __str__(self) -> str:
        return f"{self.requester} for user {self.subject} ({self.txn})"
