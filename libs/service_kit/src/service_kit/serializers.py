"""Serializer fields and shapes every service shares.

Text fields are strict: a number, list or boolean where a string belongs is a 400
(``not_a_string``), not silently turned into text (DRF's ``CharField`` stores ``123`` as
``"123"``), and so is a string that cannot be stored as UTF-8 (``not_utf8``: a lone surrogate
such as ``"\\ud800"`` parses as JSON but would make the database or a password hasher fail).
"""
from __future__ import annotations

from typing import Any

from django.db import models
from rest_framework import serializers

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


class StrictEmailField(StrictTextMixin, serializers.EmailField):
    pass


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
    }


class ErrorSerializer(serializers.Serializer):
    """Every error (for the OpenAPI schema): one line to show, and a code to branch on."""

    detail = serializers.CharField()
    code = serializers.CharField()
    errors = serializers.JSONField(required=False, help_text="Field-by-field detail of a 400.")
