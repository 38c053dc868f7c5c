"""settings.MS_TOKEN: read once, checked at first use, and everything derived from it dropped
when it changes, without a reader ever keeping a value of the settings before."""
import sys
import threading

import pytest
from django.core.exceptions import ImproperlyConfigured

from ms_token.keys import _CachedKeyRing
from ms_token.replay import get_replay_store
from ms_token.settings import DEFAULTS, MSTokenSettings


def test_a_reload_during_a_first_read_leaves_no_value_of_the_old_settings(settings):
    ms = MSTokenSettings()
    inside, go_on = threading.Event(), threading.Event()

    class SlowOldValues(dict):
        """The values before the change, read slowly: the reload happens meanwhile."""

        def __getitem__(self, name):
            inside.set()
            go_on.wait(5)
            return super().__getitem__(name)

    ms._resolved = SlowOldValues({**DEFAULTS, "SERVICE_NAME": "product", "LEEWAY": 999})
    reader = threading.Thread(target=lambda: ms.LEEWAY)
    reader.start()
    assert inside.wait(5)
    reloader = threading.Thread(target=ms.reload)
    reloader.start()
    reloader.join(0.5)  # it waits for the reader's lock (without one it is long done)
    go_on.set()
    reader.join(5)
    reloader.join(5)
    assert ms.LEEWAY == settings.MS_TOKEN.get("LEEWAY", DEFAULTS["LEEWAY"]) != 999


def test_the_replay_store_is_made_again_when_the_settings_change(settings):
    settings.MS_TOKEN = {**settings.MS_TOKEN, "REPLAY_PRUNE_EVERY": 200}
    assert get_replay_store().prune_every == 200
    settings.MS_TOKEN = {**settings.MS_TOKEN, "REPLAY_PRUNE_EVERY": 7}
    assert get_replay_store().prune_every == 7


def test_a_reader_never_gets_the_key_ring_of_another_service(monkeypatch):
    # Two services asked for in turn from many threads (tests switch SERVICE_NAME): the ring
    # returned is always the one asked for, never the one a concurrent reload replaced.
    cached = _CachedKeyRing()
    cached.check_interval = float("inf")
    rings = {service: _ring_of(service) for service in ("billing", "user")}
    monkeypatch.setattr("ms_token.keys.configured_key_ring", lambda service: rings[service])
    monkeypatch.setattr("ms_token.keys._source_stamps", lambda service: ())
    wrong = []

    def read(service):
        for _ in range(3000):
            if cached.get(service).service != service:
                wrong.append(service)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=read, args=(s,)) for s in ("billing", "user") * 2]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert wrong == []


def _ring_of(service):
    from ms_token.keys import load_key_ring

    return load_key_ring(service)


@pytest.mark.parametrize("bad", [
    {"LEEWAY": "5"}, {"LEEWAY": -1}, {"LEEWAY": True},
    {"TOKEN_TTL": "30"}, {"TOKEN_TTL": 30.0}, {"MAX_TOKEN_TTL": None},
    {"MAX_TOKEN_BYTES": "4096"}, {"MAX_TOKEN_BYTES": 0},
    {"REPLAY_PRUNE_EVERY": 0}, {"REPLAY_PRUNE_EVERY": "200"},
    {"REPLAY_ASYNC_COMMIT": "no"}, {"REPLAY_DATABASE": None},
    {"REDIS_TIMEOUT": 0}, {"REDIS_TIMEOUT": "0.5"},
    {"CONNECT_TIMEOUT": None}, {"READ_TIMEOUT": -1}, {"RETRIES": 2.5}, {"RETRIES": -1},
    {"BACKOFF_FACTOR": "0.1"}, {"TRUST_ENV": "false"},
    {"SIGNING_KEY": b"-----BEGIN PRIVATE KEY-----"}, {"SIGNING_KEY_FILE": 7}, {"KEYS_DIR": ["keys"]},
    {"TOKEN_SOURCES": {"self": None}}, {"TOKEN_SOURCES": ["self"]},
    {"TOKEN_SERVICE_ISSUER": 7},
    {"SERVICE_URLS": {"billing": None}}, {"JWKS_URLS": {"billing": 7}},
    {"TRUSTED_ISSUERS": {"billing": 7}}, {"TRUSTED_ISSUERS": {"billing": {"products:read": 1}}},
    {"PEER_HEADERS": "tests.nowhere.peer_headers"}, {"METRICS": "tests.nowhere.Metrics"},
])
def test_a_setting_of_the_wrong_type_is_a_clear_error_at_first_use(settings, bad):
    (name,) = bad
    settings.MS_TOKEN = {**settings.MS_TOKEN, **bad}
    with pytest.raises(ImproperlyConfigured, match=name):
        MSTokenSettings().LEEWAY


def test_the_error_names_the_type_never_a_secret(settings):
    settings.MS_TOKEN = {**settings.MS_TOKEN, "SIGNING_KEY": b"secret key material"}
    with pytest.raises(ImproperlyConfigured) as refused:
        MSTokenSettings().SIGNING_KEY
    assert "secret" not in str(refused.value) and "bytes" in str(refused.value)


def test_a_service_that_only_calls_needs_no_replay_database(settings):
    # Minting asks nothing of the replay store: a project with no such database may still call.
    settings.MS_TOKEN = {**settings.MS_TOKEN, "REPLAY_DATABASE": "not-in-databases"}
    assert MSTokenSettings().TOKEN_TTL == 30
