from django.contrib import admin
from django.urls import include, path

from service_kit.urls import common_urlpatterns
from service_kit.views import api_root_view

handler400 = "service_kit.errors.bad_request"
handler403 = "service_kit.errors.permission_denied"
handler404 = "service_kit.errors.not_found"
handler500 = "service_kit.errors.server_error"

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
    *common_urlpatterns(),
]
