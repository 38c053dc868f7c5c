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

from .models import SHIPPING_ADDRESS_MAX_LENGTH, User

PASSWORD_MAX_LENGTH = 4096  # hashing is deliberately slow; don't let a client hash megabytes


class PasswordField(StrictCharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", PASSWORD_MAX_LENGTH)
        kwargs.setdefault("trim_whitespace", False)  # spaces are part of a password
        kwargs.setdefault("style", {"input_type": "password"})
        super().__init__(write_only=True, **kwargs)


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
    password = NewPasswordField()

    class Meta:
        model = User
        fields = ["id", "username", "email", "password"]
        read_only_fields = ["id"]
        extra_kwargs = {
            "email": {"required": True, "allow_blank": False},
            # Uniqueness: validate_username's case-insensitive check gives the message (one query,
            # not two); the model's unique index on Lower(username) holds when registrations race.
            "username": {"validators": [User.username_validator]},
        }

    def validate_username(self, value: str) -> str:
        # "Alice" next to "alice" would let one impersonate the other in every UI.
        if User.objects.filter(username__iexact=value).exists():
            raise serializers.ValidationError("A user with that username already exists.", code="unique")
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
    username = StrictCharField(max_length=User._meta.get_field("username").max_length)
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
