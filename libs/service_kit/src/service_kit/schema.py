"""OpenAPI description of an end user's bearer token (the X-MS-TOKEN header's is ms_token's own).
Registered by ``ServiceKitConfig.ready()``."""
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object


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
