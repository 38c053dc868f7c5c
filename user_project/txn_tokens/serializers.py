"""Request and response of ``POST /api/txn-tokens/``."""
from __future__ import annotations

from rest_framework import serializers
from service_kit.serializers import StrictCharField

# A user access token is well under 1 KiB; anything this long is not one.
SUBJECT_TOKEN_MAX_LENGTH = 4096


class TxnTokenRequestSerializer(serializers.Serializer):
    subject_token = StrictCharField(
        max_length=SUBJECT_TOKEN_MAX_LENGTH,
        trim_whitespace=False,
        help_text="The end user's access token (from POST /api/auth/login/), as the calling service received it.",
    )


class TxnTokenSerializer(serializers.Serializer):
    txn_token = serializers.CharField(
        help_text="Send it as Txn-Token on the calls made for this user, each bound by its X-MS-TOKEN's tth."
    )
    expires_in = serializers.IntegerField(help_text="Seconds it lives (at most 300, never past the subject token).")
