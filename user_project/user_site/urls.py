from django.contrib import admin
from django.urls import include, path

from service_kit.urls import (  # noqa: F401 (Django reads the handlers from here)
    common_urlpatterns,
    handler400,
    handler403,
    handler404,
    handler500,
)
from service_kit.views import api_root_view

urlpatterns = [
    path("admin/", admin.site.urls),
    path(
        "api/",
        api_root_view(
            {
                "register": "register",
                "login": "login",
                "refresh": "token-refresh",
                "logout": "logout",
                "me": "me",
                "schema": "schema",
                "docs": "swagger-ui",
            }
        ),
        name="api-root",
    ),
    path("", include("accounts.urls")),
    path("", include("service_tokens.urls")),
    path("", include("txn_tokens.urls")),
    *common_urlpatterns(),
]
