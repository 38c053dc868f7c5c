"""Request and response of ``POST /api/service-tokens/``."""
from __future__ import annotations

import re

from rest_framework import serializers
from service_kit.serializers import StrictCharField

from .models import SCOPE_PATTERN, SERVICE_NAME_PATTERN

METHODS = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE")
# htu: the path as the callee's Django sees it (percent-decoded), no host, no query, no fragment.
_PATH = re.compile(r"/(?!/)[^?#\x00-\x1f\x7f]*")
_SHA256_HASH = re.compile(r"[A-Za-z0-9_-]{43}")  # base64url of a SHA-256, no padding


class ServiceTokenRequestSerializer(serializers.Serializer):
    audience = StrictCharField(max_length=64, help_text="The service the token is for, e.g. product.")
    scope = StrictCharField(max_length=1000, help_text="Space-separated scopes, e.g. products:read.")
    method = serializers.ChoiceField(choices=METHODS, help_text="The HTTP method of that one request.")
    path = StrictCharField(max_length=2048, trim_whitespace=False, help_text="Its path: no host, no query.")
    query_hash = StrictCharField(
        required=False, allow_null=True,
        help_text="base64url(SHA-256(query string as sent, without '?')) for a request with a query (qh).",
    )
    body_hash = StrictCharField(
        required=False, allow_null=True, help_text="base64url(SHA-256(body)) for a request with a body."
    )
    txn_token_hash = StrictCharField(
        required=False, allow_null=True,
        help_text="base64url(SHA-256(transaction token)) for a request carrying a Txn-Token (tth).",
    )

    def validate_audience(self, value: str) -> str:
        if not re.fullmatch(SERVICE_NAME_PATTERN, value):
            raise serializers.ValidationError("Not a service name.")
        return value

    def validate_scope(self, value: str) -> str:
        scopes = value.split()
        if not scopes or not all(SCOPE_PATTERN.fullmatch(scope) for scope in scopes):
            raise serializers.ValidationError("Space-separated scopes, each printable ASCII.")
        return value

    def validate_path(self, value: str) -> str:
        if not _PATH.fullmatch(value):
            raise serializers.ValidationError("A path starting with one /, without query or fragment.")
        return value

    def _sha256_hash(self, value: str | None) -> str | None:
        if value is not None and not _SHA256_HASH.fullmatch(value):
            raise serializers.ValidationError("base64url (no padding) of a SHA-256 digest.")
        return value

    validate_query_hash = validate_body_hash = validate_txn_token_hash = _sha256_hash


class ServiceTokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send it once as X-MS-TOKEN, for exactly that request.")
    expires_in = serializers.IntegerField(help_text="Seconds it lives.")
    jti = serializers.CharField(help_text="Its id, as recorded by the token service.")
