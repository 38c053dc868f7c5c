"""The database replay store's table: one row per accepted token, until it expires."""
from django.db import models


class UsedToken(models.Model):
    # "<iss>:<jti>": the primary key makes the insert itself the atomic "first one wins".
    key = models.CharField(max_length=200, primary_key=True)
    # Unix seconds after which the token is refused as expired anyway, and the row may go.
    expires_at = models.BigIntegerField(db_index=True)

    class Meta:
        verbose_name = "used service token"

    def __str__(self) -> str:
        return self.key
