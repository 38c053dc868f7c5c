import logging

from django.apps import AppConfig
from django.conf import settings


class ServiceKitConfig(AppConfig):
    name = "service_kit"
    verbose_name = "Service kit"

    def ready(self) -> None:
        from ms_token.settings import ms_token_settings

        from . import schema  # noqa: F401 (registers the OpenAPI authentication descriptions)
        from .tracing import configure_tracing

        # In each process that serves (every gunicorn worker, after the fork): the SDK's
        # exporter thread is then the worker's own.
        configure_tracing(ms_token_settings.SERVICE_NAME)
        if getattr(settings, "LOG_FORMAT", "plain") == "json":
            logging.captureWarnings(True)  # Python's warnings as log lines too: JSON, one per line
