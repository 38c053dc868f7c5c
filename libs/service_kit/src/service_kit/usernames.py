"""When two usernames are one name.

A person has one name however it is spelled: "Müller", "MÜLLER", "müller" (precomposed or with a
combining diaeresis) and "ｍüller" (fullwidth letters) are one account to the user service's
uniqueness rule and login, and one identity to the login throttle. Two names are the same when
their :func:`username_key` is: Unicode's compatibility caseless matching (NFKC and full case
folding, Unicode 15.1 D145), in its composed form.
"""
from __future__ import annotations

import unicodedata


def normalize_username(name: str) -> str:
    """The name as stored and shown: NFKC, case kept (what Django's ``normalize_username`` does)."""
    return unicodedata.normalize("NFKC", name)


def username_key(name: str) -> str:
    """The form in which two spellings of one name are equal: ``username_key("Straße") ==
    username_key("STRASSE")``. Idempotent: the key of a key is itself."""
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFD", name).casefold()).casefold()
    return unicodedata.normalize("NFKC", folded)
