"""The verification log line names the caller, the jti and the outcome (contract), for every
outcome: a replayed token-service token names the service it spoke for (sub), not the token
service; a verified token refused only because the replay store is down keeps its issuer, jti and
caller."""
import logging

import pytest

from ms_token.keys import load_key_ring
from ms_token.verification import verify


from .conftest import SERVICE_PATH, assert_refused, free_port, preload_peer_keys

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def token_service_keys_known():
    preload_peer_keys("user")


@pytest.fixture
def from_token_service(make_token):
    """A token as the token service issues it: iss user, sub billing, signed by user's key."""
    user_key = load_key_ring("user").signing_key

    def make(**claims):
        claims = {"iss": "user", "sub": "billing", **claims}
        return make_token(header={"kid": user_key.kid}, key=user_key.private_key, **claims)

    return make


@pytest.fixture
def log_lines(caplog):
    caplog.set_level(logging.INFO, logger="ms_token")

    def lines():
        messages = [r.getMessage() for r in caplog.records if r.name == "ms_token"]
        return [message for message in messages if "outcome=" in message]

    return lines


def test_a_replayed_token_service_token_is_logged_as_its_caller(call, from_token_service, log_lines):
    token = from_token_service(jti="replayed-token-service-01")
    assert call(token).status_code == 200
    assert_refused(call(token), "token_replayed")
    line = log_lines()[-1]
    assert "outcome=refused" in line and "code=token_replayed" in line
    assert "caller=billing" in line and "issuer=user" in line and "jti=replayed-token-service-01" in line


def test_a_replayed_self_signed_token_is_logged_as_its_issuer(call, make_token, log_lines):
    token = make_token(jti="replayed-self-signed-0001")
    assert call(token).status_code == 200
    assert_refused(call(token), "token_replayed")
    line = log_lines()[-1]
    assert "caller=billing" in line and "issuer=billing" in line and "jti=replayed-self-signed-0001" in line


@pytest.fixture
def replay_store_down(settings):
    settings.MS_TOKEN = {**settings.MS_TOKEN, "REPLAY_CACHE": f"redis://127.0.0.1:{free_port()}/0"}


def test_replay_store_down_logs_the_verified_token(call, from_token_service, replay_store_down, log_lines):
    response = call(from_token_service(jti="store-down-token-service1"))
    assert response.status_code == 503
    line = log_lines()[-1]
    assert "outcome=unavailable" in line and "code=service_unavailable" in line
    assert "issuer=user" in line and "jti=store-down-token-service1" in line and "caller=billing" in line


def test_keys_unavailable_logs_no_unverified_fields(call, make_token, settings, log_lines):
    from ms_token.jwks import clear_remote_key_sets

    settings.MS_TOKEN = {**settings.MS_TOKEN, "JWKS_URLS": {"billing": f"http://127.0.0.1:{free_port()}/.well-known/jwks.json"}}
    clear_remote_key_sets()
    assert call(make_token(jti="keys-down-self-signed-01")).status_code == 503
    line = log_lines()[-1]
    assert "outcome=unavailable" in line and "issuer=- jti=-" in line


def test_the_verified_token_says_which_token_service_vouched(from_token_service, make_token):
    verified = verify(from_token_service(), method="GET", path=SERVICE_PATH, body=b"")
    assert (verified.caller, verified.token_service) == ("billing", "user")
    verified = verify(make_token(), method="GET", path=SERVICE_PATH, body=b"")
    assert (verified.caller, verified.token_service) == ("billing", None)


def test_with_the_log_line_off_its_fields_are_not_even_built(call, make_token, caplog, monkeypatch):
    # The fields cost a regex match each, per request: only when the line is written.
    caplog.set_level(logging.WARNING, logger="ms_token")
    built = []
    monkeypatch.setattr("ms_token.admission.loggable", lambda value: built.append(value) or "-")
    assert call(make_token()).status_code == 200
    assert built == []
    caplog.set_level(logging.INFO, logger="ms_token")
    assert call(make_token()).status_code == 200
    assert built
