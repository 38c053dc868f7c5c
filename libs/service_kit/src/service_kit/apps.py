from django.apps import AppConfig
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
        from . import schema  # noqa: F401 (registers the OpenAPI authentication descriptions)

        post_migrate.connect(create_cache_tables, sender=self)
