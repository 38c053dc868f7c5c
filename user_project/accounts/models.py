"""The user service's own user table: Django's user plus where to ship a customer's orders."""
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower

SHIPPING_ADDRESS_MAX_LENGTH = 1000
USERNAME_TAKEN_MESSAGE = "A user with that username already exists."


class User(AbstractUser):
    # Free text: addresses differ too much between countries to split into fields.
    # max_length is not a DB constraint for a TextField; forms and serializers enforce it.
    shipping_address = models.TextField(blank=True, max_length=SHIPPING_ADDRESS_MAX_LENGTH)

    class Meta(AbstractUser.Meta):
        constraints = [
            # "Alice" next to "alice" would let one impersonate the other, and the login throttle
            # counts them as one account. The serializer's check gives the friendly message; this
            # index is what holds when two registrations race past that check together.
            models.UniqueConstraint(
                Lower("username"),
                name="accounts_user_username_ci_unique",
                violation_error_code="unique",
                violation_error_message=USERNAME_TAKEN_MESSAGE,
            ),
        ]


class RevokedLogin(models.Model):
    """A login whose refresh tokens are all refused: one of them came back after it had been
    replaced or logged out, so a thief may hold its line (RFC 9700, refresh token reuse). Kept
    until every token the login could have had has expired (``expires_at``)."""

    sid = models.CharField(primary_key=True, max_length=64)
    revoked_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"login {self.sid} revoked at {self.revoked_at:%Y-%m-%d %H:%M:%S}"
