from django.apps import AppConfig


class TxnTokensConfig(AppConfig):
    name = "txn_tokens"
    verbose_name = "Transaction tokens"
    default_auto_field = "django.db.models.BigAutoField"
