from django.apps import AppConfig


class ServiceKitConfig(AppConfig):
    name = "service_kit"
    verbose_name = "Service kit"

    def ready(self) -> None:
        from . import schema  # noqa: F401 (registers the OpenAPI authentication descriptions)
