"""STUB (to be built in issue 2): end-user bearer tokens issued by the user service."""
from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication


class UserTokenAuthentication(JWTStatelessUserAuthentication):
    pass
