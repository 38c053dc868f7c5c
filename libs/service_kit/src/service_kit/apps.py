import logging

from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import post_migrate


def create_cache_tables(sender, using, verbosity=1, **kwargs) -> None:
    """The database cache's table (``service_kit.cache``), made wherever ``migrate`` runs: a
    deployment that migrates cannot forget it."""
    from django.core.management import call_command

    call_command("createcachetable", database=using, verbosity=verbosity)


class ServiceKitConfig(AppConfig):
    name = "service_kit"
    verbose_name = "Service kit"

    def ready(self) -> None:
        from django.contrib import admin
        from ms_token.settings import ms_token_settings

        from . import schema  # noqa: F401 (registers the OpenAPI authentication descriptions)
        from .branding import name_admin_site
        from .tracing import configure_tracing

        # In each process that serves (every gunicorn worker, after the fork): the SDK's
        # exporter thread is then the worker's own.
        configure_tracing(ms_token_settings.SERVICE_NAME)
        name_admin_site(admin.site)
        if getattr(settings, "LOG_FORMAT", "plain") == "json":
            logging.captureWarnings(True)  # Python's warnings as log lines too: JSON, one per line

        post_migrate.connect(create_cache_tables, sender=self)
