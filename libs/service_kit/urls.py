"""URL patterns every service serves: health, readiness, JWKS, schema, docs, browsable-API login."""
from __future__ import annotations

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from .health import healthz, readyz
from .jwks import jwks_view


def common_urlpatterns() -> list:
    return [
        path("healthz", healthz, name="healthz"),
        path("readyz", readyz, name="readyz"),
        path(".well-known/jwks.json", jwks_view, name="jwks"),
        path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
        path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
        path("api-auth/", include("rest_framework.urls")),
    ]
