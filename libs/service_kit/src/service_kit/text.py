"""Text that must show: what is invisible is not there."""
from __future__ import annotations

import unicodedata

# Letters Unicode marks default-ignorable (they render as nothing: Hangul fillers), and the blank
# Braille pattern; every other invisible character is a control, format or separator (C*, Z*).
_BLANK_GRAPHICS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _is_visible(char: str) -> bool:
    # L, N, P, S: something shows. A mark (M) alone has nothing to sit on.
    return unicodedata.category(char)[0] in "LNPS" and char not in _BLANK_GRAPHICS


def _is_blank(char: str) -> bool:
    # Marks are not: one at an end may belong to the character before it (an emoji's U+FE0F).
    return unicodedata.category(char)[0] in "CZ" or char in _BLANK_GRAPHICS


def visible_text(value: str) -> str:
    """``value`` without the invisible characters at either end (spaces, zero-width spaces,
    direction marks, ...); "" when nothing in it would show on a label."""
    if not any(_is_visible(char) for char in value):
        return ""
    start, end = 0, len(value)
    while _is_blank(value[start]):
        start += 1
    while _is_blank(value[end - 1]):
        end -= 1
    return value[start:end]
