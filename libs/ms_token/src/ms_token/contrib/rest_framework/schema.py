"""The X-MS-TOKEN security scheme in a drf-spectacular OpenAPI schema. Loaded by
``MSTokenConfig.ready()`` when drf-spectacular is installed."""
from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class MSTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "ms_token.contrib.rest_framework.authentication.MSTokenAuthentication"
    name = "msToken"
    match_subclasses = True

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-MS-TOKEN",
            "description": (
                "A calling service's single-use token (EdDSA, typ ms+jwt), signed with its own "
                "key and bound to this method, path and body. Each operation names the "
                "scope it needs; the callee's settings say which scopes each caller may hold."
            ),
        }
