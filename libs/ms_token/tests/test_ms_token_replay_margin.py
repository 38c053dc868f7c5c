"""A copy verified just before expiry must still find the original's claim, even if pruning
runs in between: the store remembers a jti longer than the token can pass verification."""
import pytest

from ms_token.keys import load_key_ring
from ms_token.replay import DatabaseReplayStore
from ms_token.tokens import mint
from ms_token.verification import verify


@pytest.mark.django_db
def test_pruning_right_after_expiry_cannot_free_a_jti_for_a_late_copy():
    token = mint("product", "products:read", "GET", "/api/products/", issuer="billing",
                 key=load_key_ring("billing").signing_key)
    store = DatabaseReplayStore()
    first = verify(token, method="GET", path="/api/products/", body=b"")
    key = f"{first.issuer}:{first.jti}"
    assert store.claim(key, first.remember_until) is True

    # The last instant a copy still passes the expiry check (exp + leeway) ...
    last_valid_instant = first.claims["exp"] + 5
    late_copy = verify(token, method="GET", path="/api/products/", body=b"", now=last_valid_instant)
    # ... and a prune that runs a moment later, before the copy claims its jti.
    store.prune(now=last_valid_instant + 1)
    assert store.claim(key, late_copy.remember_until) is False
