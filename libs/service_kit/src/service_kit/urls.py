"""URL patterns every service serves: health, readiness, JWKS, schema, docs, browsable-API login."""
from __future__ import annotations

from django.urls import include, path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from ms_token.views import published_keys

from .decorators import plain_get_view
from .health import healthz, readyz

# Error handlers for a project's ROOT_URLCONF: `from service_kit.urls import handler404, ...`.
handler400 = "service_kit.errors.bad_request"
handler403 = "service_kit.errors.permission_denied"
handler404 = "service_kit.errors.not_found"
handler500 = "service_kit.errors.server_error"

MAX_DATABASE_ID = 2**63 - 1


class DatabaseIdConverter:
    """``<id:pk>``: a positive id a database row can have. Anything larger is simply no match
    (a 404), never an overflow error from the database (a 500)."""

    regex = "[1-9][0-9]{0,18}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_DATABASE_ID:
            raise ValueError("beyond a 64-bit id")
        return number

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(DatabaseIdConverter, "id")


def common_urlpatterns() -> list:
    return [
        path("healthz", healthz, name="healthz"),
        path("readyz", readyz, name="readyz"),
        path(".well-known/jwks.json", plain_get_view(published_keys), name="jwks"),
        path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
        path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
        path("api-auth/", include("rest_framework.urls")),
    ]
