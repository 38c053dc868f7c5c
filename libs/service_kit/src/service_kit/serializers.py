"""Serializer fields and shapes every service shares.

Text fields are strict: a number, list or boolean where a string belongs is a 400
(``not_a_string``), not silently turned into text (DRF's ``CharField`` stores ``123`` as
``"123"``), and so is a string that cannot be stored as UTF-8 (``not_utf8``: a lone surrogate
such as ``"\\ud800"`` parses as JSON but would make the database or a password hasher fail).
"""
from __future__ import annotations

import re
from typing import Any

from django.core.validators import RegexValidator
from django.db import models
from rest_framework import serializers
from rest_framework.utils import html

from .text import visible_text


class StrictTextMixin:
    """Put before a DRF text field (``CharField``, ``EmailField``, ...) to make it strict."""

    default_error_messages = {
        "not_a_string": "Must be a string.",
        "not_utf8": "Contains characters that are not valid Unicode text.",
    }

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("not_a_string")
        try:
            data.encode("utf-8")
        except UnicodeEncodeError:
            self.fail("not_utf8")
        return super().to_internal_value(data)


class StrictCharField(StrictTextMixin, serializers.CharField):
    pass


# The addresses taken: a dot-atom local part and a host name with a TLD of letters, in ASCII.
# Django's EmailValidator (kept) takes these and more (quoted local parts, address literals, IDN
# domains) that no pattern in a schema states exactly; this one is the schema's and the rule.
EMAIL_PATTERN = (
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)


class StrictEmailField(StrictTextMixin, serializers.EmailField):
    """An email address as :data:`EMAIL_PATTERN` says, as sent (no spaces trimmed away)."""

    # The pattern is the rule; "format: email" would be RFC 5321's, which is another one.
    openapi_constraints = {"pattern": EMAIL_PATTERN, "format": None}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)
        self.validators.append(RegexValidator(re.compile(EMAIL_PATTERN, re.ASCII), "Enter a valid email address.", "invalid"))


class StrictBooleanField(serializers.BooleanField):
    """JSON ``true`` or ``false`` only; DRF's own also takes ``1``, ``"yes"``, ``"on"``. The
    browsable API's HTML forms send text, and keep DRF's reading."""

    def to_internal_value(self, data: Any) -> bool:
        if isinstance(data, bool):
            return data
        if html.is_html_input(getattr(self.root, "initial_data", None)):
            return super().to_internal_value(data)
        self.fail("invalid", input=data)


class VisibleTextField(StrictCharField):
    """Text that must show: trimmed of invisible characters at both ends, so that one made only
    of them (a zero-width space) is blank: "" if blank is allowed, else a 400 ``blank``."""

    def to_internal_value(self, data: Any) -> str:
        text = visible_text(super().to_internal_value(data))
        if not text and not self.allow_blank:
            self.fail("blank")
        return text


class StrictModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose text model fields become the strict fields above."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.EmailField: StrictEmailField,
        models.BooleanField: StrictBooleanField,
    }


class ErrorSerializer(serializers.Serializer):
    """Every error (for the OpenAPI schema): one line to show, and a code to branch on."""

    detail = serializers.CharField()
    code = serializers.CharField()
    errors = serializers.JSONField(required=False, help_text="Field-by-field detail of a 400.")
