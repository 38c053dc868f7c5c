"""The token service's tables: who may get which service tokens, and every token issued.

The grant table is the operator's one place to grant and revoke service access (Django admin);
each callee still bounds what it accepts with its own ``MS_TOKEN["TRUSTED_ISSUERS"]``.
"""
from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from service_kit.conf import SERVICE_NAMES
from ms_token.sources import ASSERTION_SCOPE

SERVICE_NAME_PATTERN = r"[a-z][a-z0-9_-]{0,63}"
# RFC 6749 scope-token: printable ASCII but space, double quote and backslash.
SCOPE_PATTERN = re.compile(r"[!#-\[\]-~]{1,128}")


def validate_scopes(value: str) -> None:
    scopes = value.split()
    if not scopes:
        raise ValidationError("Name at least one scope.")
    bad = [scope for scope in scopes if not SCOPE_PATTERN.fullmatch(scope)]
    if bad:
        raise ValidationError(f"Not a scope: {' '.join(bad)}")
    if ASSERTION_SCOPE in scopes:
        raise ValidationError(f"{ASSERTION_SCOPE} is how a caller asks for tokens; it is never granted.")


class ServiceCaller(models.Model):
    """A service that may ask the token service for tokens (its name is the ``iss`` of its
    client assertions and the ``sub`` of the tokens it gets)."""

    name = models.CharField(
        max_length=64, unique=True, validators=[RegexValidator(f"^{SERVICE_NAME_PATTERN}$")]
    )
    is_enabled = models.BooleanField(
        default=True,
        help_text="Off: the caller gets no token from its next request on. Tokens already "
        "issued die within their lifetime (30 s by default, never more than 300 s).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ServiceGrant(models.Model):
    """The scopes ``caller`` may be given in tokens for ``audience``."""

    caller = models.ForeignKey(ServiceCaller, on_delete=models.CASCADE, related_name="grants")
    audience = models.CharField(max_length=64, choices=[(name, name) for name in SERVICE_NAMES])
    scopes = models.CharField(
        max_length=1000, validators=[validate_scopes], help_text="Space-separated, e.g. products:read"
    )

    class Meta:
        ordering = ["caller__name", "audience"]
        constraints = [
            models.UniqueConstraint(fields=["caller", "audience"], name="one_grant_per_caller_and_audience")
        ]

    def __str__(self) -> str:
        return f"{self.caller_id and self.caller.name} -> {self.audience}: {self.scopes}"


class IssuedServiceToken(models.Model):
    """One token issued: for audit. The token itself is never stored."""

    caller = models.CharField(max_length=64, db_index=True)  # text: the record outlives a caller
    audience = models.CharField(max_length=64)
    scope = models.CharField(max_length=1000)
    method = models.CharField(max_length=16)
    path = models.TextField()
    query_hash = models.CharField(max_length=43, blank=True, help_text="qh: the query string it is bound to")
    txn_token_hash = models.CharField(
        max_length=43, blank=True, help_text="tth: the transaction token it carries (the end user behind the call)"
    )
    jti = models.CharField(max_length=64, unique=True)
    assertion_jti = models.CharField(max_length=128, help_text="jti of the caller's client assertion")
    request_id = models.CharField(max_length=128, blank=True)
    issued_at = models.DateTimeField(db_index=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = "issued service token"

    def __str__(self) -> str:
        return f"{self.caller} -> {self.audience} {self.scope} ({self.jti})"
