"""How this service's authentication looks in the OpenAPI schema (drf-spectacular)."""
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class UserJWTScheme(SimpleJWTScheme):
    target_class = "accounts.authentication.UserJWTAuthentication"
    name = "userBearer"

    def get_security_definition(self, auto_schema):
        definition = super().get_security_definition(auto_schema)
        definition["description"] = (
            "An access token from POST /api/auth/login/ (EdDSA JWT, iss 'user', aud 'shop', "
            "5 minutes): `Authorization: Bearer <access>`."
        )
        return definition


class MSTokenScheme(OpenApiAuthenticationExtension):
    # optional: the X-MS-TOKEN library may ship its own description; this one is a fallback.
    target_class = "service_kit.ms_token.authentication.MSTokenAuthentication"
    name = "msToken"
    priority = -1
    optional = True

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-MS-TOKEN",
            "description": "A single-use service token (EdDSA, typ ms+jwt) signed by the calling service.",
        }
