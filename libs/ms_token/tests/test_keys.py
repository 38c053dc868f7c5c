import pytest

from ms_token.keys import (
    ACTIVATION_SECONDS,
    RETENTION_SECONDS,
    KeyConfigurationError,
    create_key,
    load_key_ring,
)


def test_private_key_files_are_private(tmp_path):
    key = create_key("billing", tmp_path)
    path = tmp_path / "billing" / f"{key.kid}.pem"
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_new_key_is_published_at_once_but_signs_only_after_activation(tmp_path):
    first = create_key("billing", tmp_path)
    second = create_key("billing", tmp_path)  # same second: still strictly newer
    assert second.created_at > first.created_at
    ring = load_key_ring("billing", tmp_path)
    activation = second.created_at + ACTIVATION_SECONDS
    assert ring.signing_key_at(activation - 1).kid == first.kid
    assert ring.signing_key_at(activation).kid == second.kid
    # Published before it signs, so verifiers can fetch it in time.
    assert {k.kid for k in ring.published_keys(now=activation - 1)} == {first.kid, second.kid}


def test_a_new_key_signs_only_after_every_verifier_can_have_fetched_it():
    from ms_token.jwks import JWKS_MAX_AGE, REFETCH_INTERVAL
    from ms_token.keys import _CachedKeyRing

    # Our process sees the new file, a cache may serve the old JWKS, a verifier that fetched
    # just before waits out its refetch interval; created_at is whole seconds, rounded down.
    latest_a_verifier_learns_it = _CachedKeyRing.check_interval + JWKS_MAX_AGE + REFETCH_INTERVAL + 1
    assert ACTIVATION_SECONDS >= latest_a_verifier_learns_it


def test_a_replaced_key_stays_published_until_its_tokens_have_expired(tmp_path):
    first = create_key("billing", tmp_path)
    second = create_key("billing", tmp_path)
    ring = load_key_ring("billing", tmp_path)
    replaced_at = second.created_at + ACTIVATION_SECONDS
    still = replaced_at + RETENTION_SECONDS - 1
    assert {k.kid for k in ring.published_keys(now=still)} == {first.kid, second.kid}
    assert {k.kid for k in ring.published_keys(now=still + 1)} == {second.kid}
    assert {k["kid"] for k in ring.jwks(now=still + 1)["keys"]} == {second.kid}


def test_missing_keys_are_a_clear_configuration_error(tmp_path):
    with pytest.raises(KeyConfigurationError, match="ms_token_keys"):
        load_key_ring("user", tmp_path)


def test_a_key_given_as_pem_text_wins_over_the_keys_directory(tmp_path, settings):
    from ms_token.keys import configured_key_ring

    key = create_key("user", tmp_path)
    settings.MS_TOKEN = {**settings.MS_TOKEN, "SIGNING_KEY": key.private_pem.decode()}
    ring = configured_key_ring("user")
    assert ring.signing_key.public_bytes == key.public_bytes
    assert ring.signing_key.kid.startswith("user-")


def test_a_key_file_wins_over_the_keys_directory(tmp_path, settings):
    from ms_token.keys import configured_key_ring

    key = create_key("user", tmp_path)
    settings.MS_TOKEN = {**settings.MS_TOKEN, "SIGNING_KEY_FILE": str(tmp_path / "user" / f"{key.kid}.pem")}
    assert configured_key_ring("user").signing_key.public_bytes == key.public_bytes


def test_the_keys_directory_comes_from_the_settings_only(monkeypatch, settings, tmp_path):
    from ms_token.keys import default_keys_dir

    settings.MS_TOKEN = {**settings.MS_TOKEN, "KEYS_DIR": tmp_path / "configured"}
    monkeypatch.setenv("MS_KEYS_DIR", str(tmp_path / "from-env"))
    assert default_keys_dir() == tmp_path / "configured"
    settings.MS_TOKEN = {**settings.MS_TOKEN, "KEYS_DIR": None}
    with pytest.raises(KeyConfigurationError, match="KEYS_DIR"):
        default_keys_dir()
