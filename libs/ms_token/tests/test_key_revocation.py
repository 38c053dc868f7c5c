"""``manage.py ms_token_keys --revoke KID`` and ``--list``: a revoked key stops signing and
leaves our JWKS at once; this service refuses its tokens within 5 s (its own key ring is
reread that often); the revocation survives restarts, whether the keys are files under
KEYS_DIR or one key given in the settings."""
import os
import time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from ms_token.jwks import clear_remote_key_sets
from ms_token.keys import (
    REVOCATIONS_FILE,
    KeyConfigurationError,
    clear_key_cache,
    create_key,
    load_key_ring,
    own_key_ring,
)
from ms_token.testing import ManualClock, own_keys_clock
from ms_token.tokens import mint, sign_claims

from .conftest import SERVICE_PATH, assert_refused, configure, free_port

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command("ms_token_keys", *args, stdout=out)
    return out.getvalue()


def listed(output):
    """``--list`` lines as {kid: (created, state)}."""
    rows = [line.split() for line in output.splitlines() if line.strip()]
    return {row[1]: (row[2], row[3]) for row in rows}


@pytest.fixture
def own_keys(settings, tmp_path):
    """This service (product) on keys of its own under tmp_path, its key ring on a manual clock;
    it runs a token service, so tokens it issued for billing come back to it."""
    create_key("product", tmp_path, now=int(time.time()) - 3600)
    configure(settings, KEYS_DIR=tmp_path, TOKEN_SERVICE_ISSUER="product",
              SERVICE_URLS={"product": f"http://127.0.0.1:{free_port()}"})  # never asked: own keys
    clear_remote_key_sets()
    clock = ManualClock()
    with own_keys_clock(clock):
        yield tmp_path, clock


def issued_for_billing():
    """An X-MS-TOKEN this service (as the token service) issued for billing, to call itself."""
    now = int(time.time())
    return sign_claims({"iss": "product", "sub": "billing", "aud": "product", "iat": now, "exp": now + 30,
                        "jti": f"own-{time.monotonic_ns()}-jti", "scope": "products:read", "htm": "GET",
                        "htu": SERVICE_PATH})


def test_a_revoked_key_is_refused_by_its_own_service_within_5_s(client, own_keys):
    keys_dir, clock = own_keys
    old_kid = own_key_ring().signing_key.kid
    token = issued_for_billing()
    assert client.get(SERVICE_PATH, HTTP_X_MS_TOKEN=issued_for_billing()).status_code == 200
    output = run("--revoke", old_kid)
    assert f"revoked {old_kid}" in output and "created" in output  # it was the only key
    clock.advance(5)
    assert_refused(client.get(SERVICE_PATH, HTTP_X_MS_TOKEN=token), "token_invalid")
    assert own_key_ring().signing_key.kid != old_kid  # a new key signs at once
    assert client.get(SERVICE_PATH, HTTP_X_MS_TOKEN=issued_for_billing()).status_code == 200
    assert old_kid not in Client().get("/.well-known/jwks.json").content.decode()


def test_revoking_the_signing_key_makes_the_pending_key_sign_at_once(own_keys):
    keys_dir, clock = own_keys
    run("--rotate")
    ring = load_key_ring("product", keys_dir)
    old, new = ring.keys
    assert listed(run("--list"))[new.kid][1] == "pending"
    output = run("--revoke", old.kid)
    assert f"{new.kid} signs from now on" in output
    clock.advance(5)
    assert own_key_ring().signing_key.kid == new.kid
    assert mint("product", "products:read", "GET", "/").split(".")[0] == mint(
        "product", "products:read", "GET", "/", key=new).split(".")[0]
    assert {kid: state for kid, (_, state) in listed(run("--list")).items()} == {old.kid: "revoked", new.kid: "signing"}


def test_list_shows_every_key_with_its_creation_time_and_state(own_keys):
    keys_dir, clock = own_keys
    first = load_key_ring("product", keys_dir).signing_key
    second = create_key("product", keys_dir, now=first.created_at + 600)
    third = create_key("product", keys_dir, now=first.created_at + 1200)
    run("--rotate")
    fourth = load_key_ring("product", keys_dir).keys[-1]
    run("--revoke", first.kid)

    def created(key):
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(key.created_at))

    assert listed(run("--list")) == {
        first.kid: (created(first), "revoked"),
        second.kid: (created(second), "retired"),
        third.kid: (created(third), "signing"),
        fourth.kid: (created(fourth), "pending"),
    }


def test_revoking_twice_is_harmless_and_an_unknown_kid_is_an_error(own_keys):
    kid = own_key_ring().signing_key.kid
    run("--revoke", kid)
    assert "already revoked" in run("--revoke", kid)
    with pytest.raises(CommandError, match="no usable key"):
        run("--revoke", "product-1-unknown")


def test_a_revocation_survives_a_restart_and_the_key_file_put_back(own_keys):
    keys_dir, clock = own_keys
    old = load_key_ring("product", keys_dir).signing_key
    run("--revoke", old.kid)
    (keys_dir / "product" / f"{old.kid}.pem").write_bytes(old.private_pem)  # back "from a backup"
    clear_key_cache()  # a restart
    ring = own_key_ring()
    assert old.kid not in [key.kid for key in ring.keys]
    assert ring.signing_key.kid != old.kid


# --- one key given in the settings (SIGNING_KEY_FILE, SIGNING_KEY) -----------------------------


@pytest.fixture
def key_file(own_keys, settings, tmp_path_factory):
    """The key comes from a PEM file (a mounted secret); KEYS_DIR still holds the record."""
    keys_dir, clock = own_keys
    path = tmp_path_factory.mktemp("secret") / "product.pem"
    path.write_bytes(load_key_ring("product", keys_dir).signing_key.private_pem)
    an_hour_ago = time.time() - 3600
    os.utime(path, (an_hour_ago, an_hour_ago))  # long in place: only the record will change
    configure(settings, SIGNING_KEY_FILE=str(path))
    clear_key_cache()
    return path


def test_a_revoked_key_given_as_a_file_stops_signing_within_5_s_until_a_new_one_is_given(client, key_file, own_keys):
    keys_dir, clock = own_keys
    key = own_key_ring().signing_key
    kid = key.kid
    assert kid == f"product-{key.thumbprint[:16]}"  # derived from the public key
    token = issued_for_billing()
    output = run("--revoke", kid)
    assert "give it a new SIGNING_KEY" in output
    assert key_file.exists()  # the operator's secret is left where it is
    assert (keys_dir / "product" / REVOCATIONS_FILE).exists()
    clock.advance(5)
    assert_refused(client.get(SERVICE_PATH, HTTP_X_MS_TOKEN=token), "token_invalid")
    assert Client().get("/.well-known/jwks.json").json() == {"keys": []}
    with pytest.raises(KeyConfigurationError, match="revoked"):
        mint("billing", "bills:read", "GET", "/api/bills/")
    # The operator gives it a new key: it signs within 5 s, and the old one stays refused.
    key_file.write_bytes(create_key("spare", keys_dir).private_pem)
    clock.advance(5)
    assert own_key_ring().signing_key.kid != kid
    assert_refused(client.get(SERVICE_PATH, HTTP_X_MS_TOKEN=token), "token_invalid")


def test_a_revoked_key_given_as_text_is_refused_after_a_restart(settings, key_file):
    pem = key_file.read_text()
    kid = own_key_ring().signing_key.kid
    run("--revoke", kid)
    configure(settings, SIGNING_KEY_FILE=None, SIGNING_KEY=pem)  # redeployed by mistake
    assert own_key_ring().keys == ()
    assert listed(run("--list"))[kid][1] == "revoked"


def test_rotation_of_a_key_given_in_the_settings_is_the_operators(key_file):
    assert "SIGNING_KEY" in run()
    with pytest.raises(CommandError, match="new key"):
        run("--rotate")
