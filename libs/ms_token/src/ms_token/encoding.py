"""base64url without padding (RFC 7515), the one encoder and decoder of every token part, key
and hash."""
from __future__ import annotations

import base64


def b64url_encode(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def b64url_decode(text: str) -> bytes:
    """The bytes of unpadded base64url ``text``; ValueError (``binascii.Error``) if it is none."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
