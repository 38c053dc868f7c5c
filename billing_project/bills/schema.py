"""How billing's one way in (an end user's bearer token) looks in the OpenAPI schema.
Imported by BillsConfig.ready() so drf-spectacular knows it."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object


class UserTokenScheme(OpenApiAuthenticationExtension):
    target_class = "service_kit.user_auth.UserTokenAuthentication"
    name = "userToken"
    priority = 1  # wins over drf-spectacular's generic simplejwt scheme
    optional = True  # service_kit may come to ship its own

    def get_security_definition(self, auto_schema):
        scheme = build_bearer_security_scheme_object(
            header_name="HTTP_AUTHORIZATION", token_prefix="Bearer", bearer_format="JWT"
        )
        scheme["description"] = (
            "An end user's access token from the user service (POST /api/auth/login/), verified "
            "here with the user service's published key. Bills belong to the token's user_id."
        )
        return scheme
