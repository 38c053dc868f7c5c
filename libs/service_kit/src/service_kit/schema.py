"""The OpenAPI schema of every service: each operation lists every error a client can meet, in
the one error shape; and the end user's bearer token (the X-MS-TOKEN header's is ms_token's own,
registered by ``ServiceKitConfig.ready()``)."""
from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from .serializers import ErrorSerializer

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# DRF's text fields refuse NUL ("null_characters_not_allowed"), and a required one that trims
# refuses text of whitespace alone ("blank"): what str.strip() strips, spelled out for a pattern.
_NUL = "\\u0000"
_SPACES = "".join(f"\\u{ord(char):04x}" for char in map(chr, range(0x10000)) if char.isspace())
NO_NUL_PATTERN = f"^[^{_NUL}]*$"
NOT_BLANK_PATTERN = f"^[^{_NUL}]*[^{_SPACES}{_NUL}][^{_NUL}]*$"

# What each error status means wherever it is not described more closely by the view.
ERROR_MEANINGS = {
    400: "Bad input: the body, a parameter or a header; `detail` names the first fault, `errors` all.",
    401: "No credentials, or credentials that are not valid (the WWW-Authenticate header says which kind).",
    403: "Valid credentials without the right to do this.",
    404: "No such resource (or page of a listing).",
    406: "No representation in a media type the Accept header allows (JSON is always offered).",
    413: "The body is over the size limit.",
    415: "A body in a media type the operation does not read (it reads JSON).",
    429: "Too many requests from this client or for this account; Retry-After says when to retry.",
    503: "A database or a peer service does not answer; nothing was changed. Retry later.",
}


class ServiceAutoSchema(AutoSchema):
    """``DEFAULT_SCHEMA_CLASS``: the view's own responses, plus every error the shared machinery
    can answer for it (authentication, permissions, throttles, parsing, paging, the database),
    each in the ``{detail, code}`` shape, unless the view describes that status itself."""

    def _insert_field_validators(self, field, schema):
        super()._insert_field_validators(field, schema)
        if isinstance(field, serializers.CharField) and schema.get("type") == "string" and "pattern" not in schema:
            blank_allowed = field.allow_blank or not field.trim_whitespace
            schema["pattern"] = NO_NUL_PATTERN if blank_allowed else NOT_BLANK_PATTERN
        elif isinstance(field, serializers.ListSerializer) and schema.get("type") == "array":
            # DRF checks these in the list itself, not as validators drf-spectacular would read.
            min_items = max(field.min_length or 0, 0 if field.allow_empty else 1)
            if min_items:
                schema["minItems"] = min_items
            if field.max_length is not None:
                schema["maxItems"] = field.max_length
        # A field's own word on what the schema cannot read from its validators (None: drop it).
        for key, value in getattr(field, "openapi_constraints", {}).items():
            if value is None:
                schema.pop(key, None)
            else:
                schema[key] = value

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for status in self._error_statuses():
            if str(status) not in responses:
                described = OpenApiResponse(ErrorSerializer, description=ERROR_MEANINGS[status])
                responses[str(status)] = self._get_response_for_code(described, str(status), direction=direction)
        return dict(sorted(responses.items()))

    def _error_statuses(self) -> list[int]:
        view = self.view
        statuses = [400, 406, 503]
        if getattr(view, "authentication_classes", ()):
            statuses.append(401)
        if not all(permission is AllowAny for permission in getattr(view, "permission_classes", ())):
            statuses.append(403)
        if "{" in self.path or (self._is_list_view() and self._get_paginator() is not None):
            statuses.append(404)
        if self.method in BODY_METHODS:
            statuses += [413, 415]
        if getattr(view, "throttle_classes", ()):
            statuses.append(429)
        return statuses


class UserTokenScheme(OpenApiAuthenticationExtension):
    target_class = "service_kit.user_auth.UserTokenAuthentication"
    name = "userToken"
    priority = 1  # wins over drf-spectacular's generic simplejwt scheme
    match_subclasses = True

    def get_security_definition(self, auto_schema):
        scheme = build_bearer_security_scheme_object(
            header_name="HTTP_AUTHORIZATION", token_prefix="Bearer", bearer_format="JWT"
        )
        scheme["description"] = (
            "An end user's access token from the user service (POST /api/auth/login/): EdDSA, "
            "iss 'user', aud 'shop', 5 minutes; verified with the user service's published key."
        )
        return scheme
