"""STUB (to be built in issue 3): DRF authentication class for the X-MS-TOKEN header."""
from rest_framework.authentication import BaseAuthentication


class MSTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        if "HTTP_X_MS_TOKEN" not in request.META:
            return None
        from rest_framework.exceptions import AuthenticationFailed

        raise AuthenticationFailed("X-MS-TOKEN verification is not built yet.", code="token_invalid")

    def authenticate_header(self, request):
        return "MS-Token"
