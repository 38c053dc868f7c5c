"""URL patterns every service serves: health, readiness, metrics, JWKS, schema, docs,
browsable-API login."""
from __future__ import annotations

from django.urls import include, path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.renderers import JSONRenderer
from ms_token.views import published_keys

from .decorators import plain_get_view
from .health import healthz, readyz
from .metrics import metrics

# Error handlers for a project's ROOT_URLCONF: `from service_kit.urls import handler404, ...`.
handler400 = "service_kit.errors.bad_request"
handler403 = "service_kit.errors.permission_denied"
handler404 = "service_kit.errors.not_found"
handler500 = "service_kit.errors.server_error"

MAX_DATABASE_ID = 2**63 - 1
# Ids a client may list in a query (``?ids=``) or a body: 18 digits, a bound an OpenAPI pattern
# can state exactly, and more rows than any database here will hold.
MAX_LISTED_ID = 10**18 - 1


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


class _ErrorsAsJSON:
    """The schema and docs views render YAML, OpenAPI JSON or HTML; an error of theirs (a 406
    for ``Accept: application/json`` on the docs page) is JSON like every other under /api/."""

    def perform_content_negotiation(self, request, force=False):
        if force:  # DRF asks this way only for a response no negotiated renderer can give
            return (JSONRenderer(), JSONRenderer.media_type)
        return super().perform_content_negotiation(request, force)


class SchemaView(_ErrorsAsJSON, SpectacularAPIView):
    pass


class DocsView(_ErrorsAsJSON, SpectacularSwaggerView):
    pass


def common_urlpatterns() -> list:
    return [
        path("healthz", healthz, name="healthz"),
        path("readyz", readyz, name="readyz"),
        path("metrics", metrics, name="metrics"),
        path(".well-known/jwks.json", plain_get_view(published_keys), name="jwks"),
        path("api/schema/", SchemaView.as_view(), name="schema"),
        path("api/docs/", DocsView.as_view(url_name="schema"), name="swagger-ui"),
        path("api-auth/", include("rest_framework.urls")),
    ]
