"""How this service's own Bearer authentication looks in the OpenAPI schema.

service_kit.schema describes X-MS-TOKEN and the stateless user-token class the other services
use; here Bearer tokens go through a database-backed class, described under the same name so
the three schemas read alike.
"""
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme


class UserJWTScheme(SimpleJWTScheme):
    target_class = "accounts.authentication.UserJWTAuthentication"
    name = "userToken"

    def get_security_definition(self, auto_schema):
        definition = super().get_security_definition(auto_schema)
        definition["description"] = (
            "An access token from POST /api/auth/login/ (EdDSA JWT, iss 'user', aud 'shop', "
            "5 minutes): `Authorization: Bearer <access>`."
        )
        return definition
