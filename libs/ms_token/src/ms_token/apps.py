from __future__ import annotations

import importlib.util

from django.apps import AppConfig


class MSTokenConfig(AppConfig):
    name = "ms_token"
    label = "ms_token"
    verbose_name = "Service tokens (X-MS-TOKEN)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from .settings import ms_token_settings

        ms_token_settings.SERVICE_NAME  # noqa: B018 - reads and checks MS_TOKEN: a typo fails the start
        # The OpenAPI description of the X-MS-TOKEN header, for projects that use drf-spectacular.
        if importlib.util.find_spec("drf_spectacular") and importlib.util.find_spec("rest_framework"):
            from .contrib.rest_framework import schema  # noqa: F401
