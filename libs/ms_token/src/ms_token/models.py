"""The database replay store's table: one row per accepted token, until it expires."""
from django.db import models


class UsedToken(models.Model):
    # "<iss>:<jti>": the primary key makes the insert itself the atomic "first one wins".
    key = models.CharField(max_length=200, primary_key=True)
    # Unix seconds after which the token is refused as expired anyway, and the row may go. The
    # column keeps its first name (expires_at): renamed in Python only (migration 0002).
    remember_until = models.BigIntegerField(db_column="expires_at", db_index=True)

    class Meta:
        verbose_name = "used service token"

    def __str__(self) -> str:
        return self.key
