from django.apps import AppConfig


class MSTokenConfig(AppConfig):
    name = "service_kit.ms_token"
    label = "ms_token"
    verbose_name = "Service tokens (X-MS-TOKEN)"
    default_auto_field = "django.db.models.BigAutoField"
