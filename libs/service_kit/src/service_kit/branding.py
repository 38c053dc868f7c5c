"""Pages that say where you are: each service names itself in its admin and its browsable API."""
from __future__ import annotations

from typing import Any

from ms_token.settings import ms_token_settings
from rest_framework import renderers


def service_title() -> str:
    """``"Product service"``: this service's name as its pages show it."""
    return f"{ms_token_settings.SERVICE_NAME.capitalize()} service"


def name_admin_site(site: Any) -> None:
    """The admin's header, page titles and index heading name the service, not "Django"."""
    title = service_title()
    site.site_header = f"{title} administration"
    site.site_title = f"{title} admin"
    site.index_title = title


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    """DRF's browsable API, its brand and page titles naming the service."""

    template = "service_kit/api.html"

    def get_context(self, data: Any, accepted_media_type: Any, renderer_context: Any) -> dict[str, Any]:
        context = super().get_context(data, accepted_media_type, renderer_context)
        context["service_title"] = service_title()
        return context
