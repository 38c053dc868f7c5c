import pytest

from service_kit.keys import (
    RETENTION_SECONDS,
    KeyConfigurationError,
    create_key,
    load_key_ring,
)


def test_private_key_files_are_private(tmp_path):
    key = create_key("billing", tmp_path)
    path = tmp_path / "billing" / f"{key.kid}.pem"
    assert path.stat().st_mode & 0o777 == 0o600


def test_newest_key_signs_and_superseded_keys_stay_published_for_a_while(tmp_path):
    first = create_key("billing", tmp_path)
    ring = load_key_ring("billing", tmp_path)
    assert ring.signing_key.kid == first.kid
    second = create_key("billing", tmp_path)
    # Same second: order by kid is arbitrary, so make the second one strictly newer.
    ring = load_key_ring("billing", tmp_path)
    newest = max([first, second], key=lambda k: (k.created_at, k.kid))
    assert ring.signing_key.kid == newest.kid
    kids = {k["kid"] for k in ring.jwks()["keys"]}
    assert kids == {first.kid, second.kid}
    later = newest.created_at + RETENTION_SECONDS + 1
    assert {k.kid for k in ring.published_keys(now=later)} == {newest.kid}


def test_missing_keys_are_a_clear_configuration_error(tmp_path):
    with pytest.raises(KeyConfigurationError, match="manage_all.py keys"):
        load_key_ring("user", tmp_path)


def test_key_from_environment_pem(tmp_path, monkeypatch):
    key = create_key("user", tmp_path)
    monkeypatch.setenv("MS_SIGNING_KEY", key.private_pem.decode())
    ring = load_key_ring("user", tmp_path / "elsewhere")
    assert ring.signing_key.public_bytes == key.public_bytes
    assert ring.signing_key.kid.startswith("user-")
