"""visible_text: what would not show on a label is not text."""
import pytest

from service_kit.text import visible_text


@pytest.mark.parametrize(
    "invisible",
    ["", " ", "\u200b", "\u200b\u200c\u200d", "\ufeff\u2060", "\u00a0\u3000\u2007", "\u202e\u200e\u00ad",
     "\u3164\u115f\u1160\uffa0\u2800", "\u0301", "\t\r\n\x00\x1f", "\U000e0041"],
)
def test_text_of_invisible_characters_only_is_empty(invisible):
    assert visible_text(invisible) == ""


@pytest.mark.parametrize(
    ("text", "kept"),
    [("7 Elm Road", "7 Elm Road"), ("\u200b 7 Elm\u200bRoad \u3000", "7 Elm\u200bRoad"),
     ("Elm \U0001f3e0\ufe0f", "Elm \U0001f3e0\ufe0f"), ("\u05d0\u200f", "\u05d0"), ("-", "-"), ("é", "é")],
)
def test_visible_text_trims_the_invisible_ends_only(text, kept):
    assert visible_text(text) == kept
