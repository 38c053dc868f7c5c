"""service_kit.usernames: what "the same name" means, for accounts and for the login throttle."""
import sys
import unicodedata

import pytest

from service_kit.usernames import normalize_username, username_key

EVERY_CHARACTER = [chr(code) for code in range(sys.maxunicode + 1) if not 0xD800 <= code <= 0xDFFF]


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("müller", "MÜLLER"),
        ("müller", "mu\u0308ller"),  # precomposed or combining
        ("alice", "ａｌｉｃｅ"),  # fullwidth
        ("straße", "STRASSE"),  # full case folding: ß is ss
        ("straße", "STRAẞE"),  # capital sharp s
        ("kelvin", "\u212aelvin"),  # Kelvin sign
        ("σοφία", "ΣΟΦΊΑ"),  # final sigma
        ("ﬃx", "FFIX"),  # a ligature
    ],
)
def test_spellings_of_one_name_have_one_key(one, other):
    assert username_key(one) == username_key(other)


@pytest.mark.parametrize(("one", "other"), [("müller", "muller"), ("alice", "alice2"), ("i", "ı")])
def test_other_names_have_other_keys(one, other):
    assert username_key(one) != username_key(other)


def test_the_key_is_composed_and_a_key_is_its_own_key():
    assert username_key("MU\u0308LLER") == "müller"
    for character in EVERY_CHARACTER:
        key = username_key(character)
        assert username_key(key) == key, hex(ord(character))


def test_case_folding_at_most_doubles_a_normalized_name():
    # What the user service's key column is sized by (twice the longest name).
    for character in EVERY_CHARACTER:
        normalized = normalize_username(character)
        assert len(username_key(normalized)) <= 2 * len(normalized), hex(ord(character))


def test_the_stored_name_is_nfkc_with_its_case():
    assert normalize_username("Mu\u0308ller") == "Müller"
    assert normalize_username("\ufdfa") == unicodedata.normalize("NFKC", "\ufdfa") and len(normalize_username("\ufdfa")) == 18
