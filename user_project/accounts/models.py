"""The user service's own user table: Django's user plus where to ship a customer's orders."""
from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractUser, UserManager as DjangoUserManager
from django.db import models
from service_kit.usernames import normalize_username, username_key

SHIPPING_ADDRESS_MAX_LENGTH = 1000
USERNAME_MAX_LENGTH = 150  # Django's, counted once normalized (NFKC)
# Case folding at most doubles a normalized name ("ß" -> "ss"); the serializers and forms check it.
USERNAME_KEY_MAX_LENGTH = 2 * USERNAME_MAX_LENGTH
USERNAME_TAKEN_MESSAGE = "A user with that username already exists."


class UserManager(DjangoUserManager):
    def get_by_natural_key(self, username: str) -> User:
        """Every way to log in (the API, the admin, the browsable API) finds the account by any
        spelling of its name: compared by ``username_key``."""
        return self.get(username_key=username_key(username))


class User(AbstractUser):
    # Free text: addresses differ too much between countries to split into fields.
    # max_length is not a DB constraint for a TextField; forms and serializers enforce it.
    shipping_address = models.TextField(blank=True, max_length=SHIPPING_ADDRESS_MAX_LENGTH)
    # One person, one name: "Müller", "MÜLLER" and "ｍüller" are one account. The key is
    # computed in Python on save (SQL's LOWER differs between databases and from Unicode case
    # folding), and its unique index holds when two registrations race past the serializer's check.
    username_key = models.CharField(
        max_length=USERNAME_KEY_MAX_LENGTH,
        unique=True,
        editable=False,
        error_messages={"unique": USERNAME_TAKEN_MESSAGE},
        help_text="The username as compared: NFKC and case folded (service_kit.usernames).",
    )

    objects = UserManager()

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.username = normalize_username(self.username)
        self.username_key = username_key(self.username)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "username" in update_fields:
            kwargs["update_fields"] = {*update_fields, "username_key"}
        super().save(*args, **kwargs)


class RevokedLogin(models.Model):
    """A login whose refresh tokens are all refused: one of them came back after it had been
    replaced or logged out, so a thief may hold its line (RFC 9700, refresh token reuse). Kept
    until every token the login could have had has expired (``expires_at``)."""

    sid = models.CharField(primary_key=True, max_length=64)
    revoked_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"login {self.sid} revoked at {self.revoked_at:%Y-%m-%d %H:%M:%S}"
