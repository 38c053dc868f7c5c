from django.apps import AppConfig


class ServiceTokensConfig(AppConfig):
    name = "service_tokens"
    verbose_name = "Service tokens (token service)"
    default_auto_field = "django.db.models.BigAutoField"
