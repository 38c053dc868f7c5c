"""The admin's user forms, with the API's rule for names: one name however it is spelled."""
from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm, UsernameField
from service_kit.usernames import normalize_username, username_key

from .models import USERNAME_KEY_MAX_LENGTH, USERNAME_TAKEN_MESSAGE
from .selectors import username_taken


class NormalizedUsernameField(UsernameField):
    """Django's username field, normalized (NFKC) whatever its length, so the length is always
    counted on the name as stored, as the API counts it."""

    def to_python(self, value):
        value = forms.CharField.to_python(self, value)
        return normalize_username(value) if value else value


class OneNamePerPersonMixin:
    """``username`` refused when another account has it in any spelling (``username_key``)."""

    def clean_username(self) -> str:
        username = self.cleaned_data.get("username")
        if username and len(username_key(username)) > USERNAME_KEY_MAX_LENGTH:
            raise forms.ValidationError("This username is too long once case folded.", code="max_length")
        if username and username_taken(username=username, except_user_id=self.instance.pk):
            raise forms.ValidationError(USERNAME_TAKEN_MESSAGE, code="unique")
        return username


class UserCreationForm(OneNamePerPersonMixin, AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        field_classes = {"username": NormalizedUsernameField}


class UserEditForm(OneNamePerPersonMixin, UserChangeForm):
    class Meta(UserChangeForm.Meta):
        field_classes = {"username": NormalizedUsernameField}
