"""Request and response shapes of the user service.

Text fields are strict (``service_kit.serializers.StrictCharField``): a number, list or boolean
where a string belongs is a 400, and so is a string that cannot be stored as UTF-8.
"""
from __future__ import annotations

from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from service_kit.serializers import StrictCharField, StrictModelSerializer, VisibleTextField
from service_kit.usernames import normalize_username, username_key

from .models import (
    SHIPPING_ADDRESS_MAX_LENGTH,
    USERNAME_KEY_MAX_LENGTH,
    USERNAME_MAX_LENGTH,
    USERNAME_TAKEN_MESSAGE,
    User,
)
from .selectors import username_taken

PASSWORD_MAX_LENGTH = 4096  # hashing is deliberately slow; don't let a client hash megabytes


class PasswordField(StrictCharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", PASSWORD_MAX_LENGTH)
        kwargs.setdefault("trim_whitespace", False)  # spaces are part of a password
        kwargs.setdefault("style", {"input_type": "password"})
        super().__init__(write_only=True, **kwargs)


class UsernameField(StrictCharField):
    """A username as accounts store it, normalized (NFKC) before its length and characters are
    checked: 150 characters of U+FDFA are 2,700 once normalized, too long."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", USERNAME_MAX_LENGTH)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        return normalize_username(super().to_internal_value(data))


# What the password validators (AUTH_PASSWORD_VALIDATORS) ask that a schema can state: at least 8
# characters, not digits only (and no NUL). "Too common" and "too similar to the username" it
# cannot: those stay 400s the schema only describes.
NEW_PASSWORD_MIN_LENGTH = 8


class NewPasswordField(PasswordField):
    openapi_constraints = {
        "minLength": NEW_PASSWORD_MIN_LENGTH,
        "pattern": "^[^\\u0000]*[^0-9\\u0000][^\\u0000]*$",
        "description": "At least 8 characters, not only digits, not a common password, not like the username or email.",
    }


class RegisterSerializer(StrictModelSerializer):
    username = UsernameField(
        validators=[User.username_validator],
        help_text=(
            "Letters, digits and @/./+/-/_, at most 150 characters once NFKC-normalized. Names are "
            "compared after NFKC and case folding: one that matches an existing account's is taken."
        ),
    )
    password = NewPasswordField()

    class Meta:
        model = User
        fields = ["id", "username", "email", "password"]
        read_only_fields = ["id"]
        extra_kwargs = {
            "email": {"required": True, "allow_blank": False},
        }

    def validate_username(self, value: str) -> str:
        # "Alice" next to "alice" (or "ａｌｉｃｅ") would let one impersonate the other in every UI.
        # This check gives the message; the unique username_key holds when registrations race.
        if len(username_key(value)) > USERNAME_KEY_MAX_LENGTH:
            raise serializers.ValidationError("This username is too long once case folded.", code="max_length")
        if username_taken(username=value):
            raise serializers.ValidationError(USERNAME_TAKEN_MESSAGE, code="unique")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        candidate = User(username=attrs["username"], email=attrs["email"])
        try:
            # With the user, so "alice"/"alice2026" is refused as too similar to the username.
            validate_password(attrs["password"], user=candidate)
        except DjangoValidationError as exc:
            problems = [
                serializers.ErrorDetail(message, code=error.code or "invalid")
                for error in exc.error_list
                for message in error.messages
            ]
            raise serializers.ValidationError({"password": problems}) from exc
        return attrs


class LoginSerializer(serializers.Serializer):
    # Any spelling of the account's name logs in: the lookup compares username_key.
    username = UsernameField()
    password = PasswordField()


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField(read_only=True)
    refresh = serializers.CharField(read_only=True)


class RefreshSerializer(serializers.Serializer):
    refresh = StrictCharField(max_length=PASSWORD_MAX_LENGTH, write_only=True)


class ProfileSerializer(StrictModelSerializer):
    # An address of invisible characters only (a zero-width space) is no address: stored as "".
    shipping_address = VisibleTextField(required=False, allow_blank=True, max_length=SHIPPING_ADDRESS_MAX_LENGTH)

    class Meta:
        model = User
        fields = ["id", "username", "email", "first_name", "last_name", "shipping_address"]
        read_only_fields = ["id", "username"]
        extra_kwargs = {"email": {"allow_blank": False}}


class InternalUserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "email", "shipping_address"]
        read_only_fields = fields
