"""A key's lifecycle (pending, signing, retired, revoked) as the key files and the revocation
record on disk say, at any moment: routine rotation refuses nothing valid, revocation withdraws
a key at once and for good."""
import os
import shutil

import pytest

from ms_token.keys import (
    ACTIVATION_SECONDS,
    REVOCATIONS_FILE,
    RETENTION_SECONDS,
    KeyConfigurationError,
    KeyNotFound,
    create_key,
    ensure_key,
    load_key_ring,
    revoke_key,
)

T0 = 1_800_000_000  # the first key's creation; every moment below is counted from it
DAY = 86_400


def states(ring, now):
    return {status.kid: status.state for status in ring.statuses(now)}


@pytest.fixture
def rotated(tmp_path):
    """billing's first key, and a second one made a day later."""
    first = create_key("billing", tmp_path, now=T0)
    second = create_key("billing", tmp_path, now=T0 + DAY)
    return first, second


def test_a_rotation_publishes_then_signs_then_retires_the_old_key(tmp_path, rotated):
    first, second = rotated
    ring = load_key_ring("billing", tmp_path)
    takeover = T0 + DAY + ACTIVATION_SECONDS
    assert states(ring, takeover - 1) == {first.kid: "signing", second.kid: "pending"}
    assert ring.signing_key_at(takeover - 1).kid == first.kid
    assert states(ring, takeover) == {first.kid: "retired", second.kid: "signing"}
    assert ring.signing_key_at(takeover).kid == second.kid
    # Published while tokens it signed may still be verified elsewhere, then no longer.
    assert [k.kid for k in ring.published_keys(takeover + RETENTION_SECONDS - 1)] == [first.kid, second.kid]
    assert [k.kid for k in ring.published_keys(takeover + RETENTION_SECONDS)] == [second.kid]


def test_a_retired_key_verifies_our_own_tokens_as_long_as_asked_though_no_longer_published(tmp_path, rotated):
    first, _ = rotated
    ring = load_key_ring("billing", tmp_path)
    retired_at = T0 + DAY + ACTIVATION_SECONDS
    assert ring.verifying_key(first.kid, retired_at + RETENTION_SECONDS) is None  # published keys only
    assert ring.verifying_key(first.kid, retired_at + DAY - 1, retired_for=DAY).kid == first.kid
    assert ring.verifying_key(first.kid, retired_at + DAY, retired_for=DAY) is None


def test_revoking_the_signing_key_hands_over_to_the_newest_remaining_key_at_once(tmp_path, rotated):
    first, second = rotated
    third = create_key("billing", tmp_path, now=T0 + 2 * DAY)  # pending
    ring = load_key_ring("billing", tmp_path)
    revoked_at = T0 + 2 * DAY + 10  # the third is pending, the second signs
    assert ring.signing_key_at(revoked_at).kid == second.kid
    revocation = revoke_key(ring, second.kid, tmp_path, now=revoked_at)
    assert revocation.was_signing
    ring = load_key_ring("billing", tmp_path)
    assert ring.signing_key_at(revoked_at).kid == third.kid  # pending no more
    assert states(ring, revoked_at) == {first.kid: "retired", second.kid: "revoked", third.kid: "signing"}
    assert second.kid not in [k.kid for k in ring.published_keys(revoked_at)]
    assert ring.verifying_key(second.kid, revoked_at, retired_for=DAY) is None
    # The first key retired long ago: the revocation brings it back into no JWKS.
    assert first.kid not in [k.kid for k in ring.published_keys(revoked_at)]


def test_revoking_the_signing_key_with_only_older_keys_left_makes_the_newest_of_them_sign(tmp_path, rotated):
    first, second = rotated
    later = T0 + 2 * DAY
    revoke_key(load_key_ring("billing", tmp_path), second.kid, tmp_path, now=later)
    ring = load_key_ring("billing", tmp_path)
    assert ring.signing_key_at(later).kid == first.kid
    assert [k.kid for k in ring.published_keys(later)] == [first.kid]
    # A later rotation is again "publish, then sign": the revocation changes nothing for it.
    fourth = create_key("billing", tmp_path, now=later + 100)
    ring = load_key_ring("billing", tmp_path)
    assert ring.signing_key_at(later + 100 + ACTIVATION_SECONDS - 1).kid == first.kid
    assert ring.signing_key_at(later + 100 + ACTIVATION_SECONDS).kid == fourth.kid


def test_revoking_a_pending_key_leaves_the_signing_key_signing(tmp_path, rotated):
    first, second = rotated
    revoke_key(load_key_ring("billing", tmp_path), second.kid, tmp_path, now=T0 + DAY + 5)
    ring = load_key_ring("billing", tmp_path)
    assert ring.signing_key_at(T0 + DAY + ACTIVATION_SECONDS + 1).kid == first.kid
    assert states(ring, T0 + DAY + 10) == {first.kid: "signing", second.kid: "revoked"}


def test_revoking_the_only_key_leaves_no_signing_key_until_a_new_one_is_made(tmp_path):
    only = create_key("billing", tmp_path, now=T0)
    revoke_key(load_key_ring("billing", tmp_path), only.kid, tmp_path, now=T0 + 60)
    ring = load_key_ring("billing", tmp_path)
    assert ring.published_keys(T0 + 60) == []
    with pytest.raises(KeyConfigurationError, match="revoked"):
        ring.signing_key_at(T0 + 60)
    new = ensure_key("billing", tmp_path)  # what `manage.py ms_token_keys --revoke` does next
    assert load_key_ring("billing", tmp_path).signing_key.kid == new.kid  # at once: nothing else


def test_a_revoked_key_file_restored_under_any_name_is_never_loaded_again(tmp_path, rotated):
    first, second = rotated
    directory = tmp_path / "billing"
    backup = tmp_path / "backup.pem"
    shutil.copy(directory / f"{second.kid}.pem", backup)
    revoke_key(load_key_ring("billing", tmp_path), second.kid, tmp_path, now=T0 + 2 * DAY)
    assert not (directory / f"{second.kid}.pem").exists()  # renamed out of the loader's sight
    shutil.copy(backup, directory / f"{second.kid}.pem")  # "restored from the backup"
    shutil.copy(backup, directory / f"billing-{T0 + 3 * DAY}-0123abcd.pem")  # or under a new name
    ring = load_key_ring("billing", tmp_path)  # a restart reads the record again
    assert [k.kid for k in ring.keys] == [first.kid]
    assert ring.signing_key_at(T0 + 4 * DAY).kid == first.kid


def test_the_revocation_record_is_appended_never_rewritten(tmp_path, rotated):
    first, second = rotated
    revoke_key(load_key_ring("billing", tmp_path), first.kid, tmp_path, now=T0 + 2 * DAY)
    record = (tmp_path / "billing" / REVOCATIONS_FILE).read_bytes()
    revoke_key(load_key_ring("billing", tmp_path), second.kid, tmp_path, now=T0 + 2 * DAY + 1)
    assert (tmp_path / "billing" / REVOCATIONS_FILE).read_bytes().startswith(record)
    assert oct(os.stat(tmp_path / "billing" / REVOCATIONS_FILE).st_mode & 0o777) == "0o600"
    assert [r.kid for r in load_key_ring("billing", tmp_path).revocations] == [first.kid, second.kid]


def test_an_unreadable_revocation_record_stops_the_keys_rather_than_forgetting_a_revocation(tmp_path, rotated):
    (tmp_path / "billing" / REVOCATIONS_FILE).write_text('{"kid": "billing-1-ab", "thumbprint"\n')
    with pytest.raises(KeyConfigurationError, match="line 1"):
        load_key_ring("billing", tmp_path)


def test_revoking_an_unknown_kid_is_refused(tmp_path, rotated):
    with pytest.raises(KeyNotFound):
        revoke_key(load_key_ring("billing", tmp_path), "billing-1-unknown", tmp_path)
