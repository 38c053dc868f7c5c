"""OpenAPI descriptions of the two ways into every service: an end user's bearer token and a
calling service's X-MS-TOKEN header. Registered by ``ServiceKitConfig.ready()``."""
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


class MSTokenScheme(OpenApiAuthenticationExtension):
    target_class = "service_kit.ms_token.authentication.MSTokenAuthentication"
    name = "msToken"
    match_subclasses = True

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-MS-TOKEN",
            "description": (
                "A calling service's single-use token (EdDSA, typ ms+jwt), signed with its own "
                "key and bound to this method, path and body. Each operation names the scope it "
                "needs; the callee's settings say which scopes each caller may hold."
            ),
        }
