"""Bounded trust in a peer's keys: billing's JWKS from a real HTTP server, product's key set on a
clock the tests move by hand. A key billing withdraws is refused once product's set is
refreshed (every 60 s, sooner when billing's Cache-Control says so); refreshes run one at a time
in the background; an outage is bridged for a grace period, then answered 503."""
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from ms_token.jwks import (
    JWKS_MAX_AGE,
    JWKS_PATH,
    MAX_FAILURE_BACKOFF,
    MIN_REFRESH_INTERVAL,
    KeySetUnavailable,
    UnknownKeyError,
    clear_remote_key_sets,
    freshness,
    public_key,
    remote_key_set,
)
from ms_token.keys import create_key, load_key_ring, revoke_key
from ms_token.testing import ManualClock

from .conftest import JWKSPeer, assert_refused, configure, http_server, wait_until

pytestmark = pytest.mark.django_db

STALE_WINDOW = 20  # JWKS_STALE_WHILE_REFRESHING's default


def wait_for_fetch(key_set, *, fetches):
    """Wait until ``key_set`` has made ``fetches`` fetches in all, each over: fails the test
    when that many never happen, rather than going on with a fetch missing or in flight."""
    wait_until(lambda: key_set.fetches >= fetches)
    assert key_set.wait_for_fetch(), "a fetch is still in flight"
    assert key_set.fetches == fetches, f"{key_set.fetches} fetches, not {fetches}"


@pytest.fixture
def billing_jwks(tmp_path, settings):
    """Billing's JWKS at a real URL, from the key files under tmp_path (one key, signing)."""
    create_key("billing", tmp_path, now=int(time.time()) - 3600)
    with http_server(JWKSPeer, keys_dir=tmp_path, hits=0) as server:
        configure(settings, JWKS_URLS={"billing": server.url + JWKS_PATH})
        clear_remote_key_sets()
        yield server


@pytest.fixture
def clock(billing_jwks):
    """The clock of product's key set for billing."""
    clock = ManualClock()
    remote_key_set("billing").clock = clock
    return clock


@pytest.fixture
def signed(make_token):
    """``signed(key)``: a fresh billing token for the service-only view, signed with ``key``."""
    return lambda key: make_token(header={"kid": key.kid}, key=key.private_key)


def withdraw_signing_key(keys_dir):
    """Billing revokes its signing key (a new one is made): it leaves billing's JWKS."""
    ring = load_key_ring("billing", keys_dir)
    create_key("billing", keys_dir)
    revoke_key(ring, ring.signing_key.kid, keys_dir)
    return ring.signing_key


def test_a_withdrawn_kid_is_refused_after_the_refresh_that_the_peers_max_age_calls_for(call, signed, billing_jwks, clock):
    key = load_key_ring("billing", billing_jwks.keys_dir).signing_key
    assert call(signed(key)).status_code == 200
    withdrawn = withdraw_signing_key(billing_jwks.keys_dir)
    assert withdrawn.kid == key.kid
    clock.advance(JWKS_MAX_AGE - 1)
    assert call(signed(key)).status_code == 200  # still fresh: trusted as fetched, no fetch
    assert billing_jwks.hits == 1
    clock.advance(1)  # stale: answered from the set in hand while a refresh runs in the background
    assert call(signed(key)).status_code == 200
    wait_for_fetch(remote_key_set("billing"), fetches=2)
    assert billing_jwks.hits == 2
    assert_refused(call(signed(key)), "token_invalid")


def test_after_an_idle_spell_the_first_request_waits_for_the_refresh_and_is_refused(call, signed, billing_jwks, clock):
    key = load_key_ring("billing", billing_jwks.keys_dir).signing_key
    assert call(signed(key)).status_code == 200
    withdraw_signing_key(billing_jwks.keys_dir)
    clock.advance(JWKS_MAX_AGE + STALE_WINDOW)  # too old to answer from: no longer "in hand"
    assert_refused(call(signed(key)), "token_invalid")
    assert billing_jwks.hits == 2


def test_without_cache_control_a_peers_keys_are_refreshed_every_60_s(billing_jwks, clock):
    billing_jwks.cache_control = None
    key = load_key_ring("billing", billing_jwks.keys_dir).signing_key
    key_set = remote_key_set("billing")
    key_set.get(key.kid)
    clock.advance(59)
    key_set.get(key.kid)
    assert billing_jwks.hits == 1
    clock.advance(1)
    key_set.get(key.kid)
    wait_for_fetch(key_set, fetches=2)
    assert billing_jwks.hits == 2


def test_the_refresh_interval_is_a_setting(settings, billing_jwks):
    configure(settings, JWKS_REFRESH_INTERVAL=10)
    billing_jwks.cache_control = None
    clock = ManualClock()
    remote_key_set("billing").clock = clock
    key = load_key_ring("billing", billing_jwks.keys_dir).signing_key
    public_key("billing", key.kid)
    clock.advance(10)
    public_key("billing", key.kid)
    wait_for_fetch(remote_key_set("billing"), fetches=2)
    assert billing_jwks.hits == 2


def test_a_new_kid_is_still_fetched_at_once_then_rate_limited(billing_jwks, clock):
    key_set = remote_key_set("billing")
    key_set.get(load_key_ring("billing", billing_jwks.keys_dir).signing_key.kid)
    clock.advance(30)  # the refetch interval: an unknown kid may refetch now ...
    new = create_key("billing", billing_jwks.keys_dir)
    assert key_set.get(new.kid)
    assert billing_jwks.hits == 2
    with pytest.raises(UnknownKeyError, match="rate-limited"):  # ... and not again within 30 s
        key_set.get("billing-1-unknown")
    assert billing_jwks.hits == 2


@pytest.mark.parametrize(
    ("cache_control", "age", "fresh_for"),
    [
        (None, None, 60),
        ("public, max-age=30", None, 30),
        ("public, max-age=30", "12", 18),
        ("max-age=3600", None, 60),  # never longer than our own interval
        ("public, s-maxage=10", None, 60),  # for shared caches, not for us
        ("no-cache", None, MIN_REFRESH_INTERVAL),
        ("max-age=0", None, MIN_REFRESH_INTERVAL),
        ("max-age=nonsense", None, 60),
        # A peer's headers are Latin-1 text: digits int() would refuse are no number here.
        ("max-age=30", "\u00b2", 30),
        ("max-age=\u0663\u0660", None, 60),
        ("max-age=" + "9" * 5000, None, 60),
        ("max-age=30", "1" * 5000, 30),
    ],
)
def test_freshness_follows_the_peers_cache_control_when_it_is_sooner(cache_control, age, fresh_for):
    assert freshness(cache_control, age, 60) == fresh_for


# --- outages ---------------------------------------------------------------------------------


@pytest.mark.parametrize("grace", [None, 120])
def test_an_unreachable_jwks_keeps_the_last_keys_for_the_grace_then_503(
    settings, call, signed, billing_jwks, caplog, grace
):
    if grace is not None:
        configure(settings, JWKS_OUTAGE_GRACE=grace)
    grace = grace or 600
    clock = ManualClock()
    remote_key_set("billing").clock = clock
    key = load_key_ring("billing", billing_jwks.keys_dir).signing_key
    assert call(signed(key)).status_code == 200  # fetched: the grace counts from here
    billing_jwks.status = 503
    clock.advance(JWKS_MAX_AGE + STALE_WINDOW)
    with caplog.at_level("WARNING", logger="ms_token.jwks"):
        assert call(signed(key)).status_code == 200  # the refresh failed: the last keys serve
    assert billing_jwks.hits == 2
    assert f"still using the keys fetched {JWKS_MAX_AGE + STALE_WINDOW} s ago" in caplog.text
    clock.advance(grace - 1 - (JWKS_MAX_AGE + STALE_WINDOW))
    assert call(signed(key)).status_code == 200  # the last second of the grace
    wait_for_fetch(remote_key_set("billing"), fetches=3)  # the retry it started failed too
    clock.advance(1)
    response = call(signed(key))
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    billing_jwks.status = 200  # billing is back: the next try (after the backoff) fetches
    clock.advance(MAX_FAILURE_BACKOFF)
    assert call(signed(key)).status_code == 200


def test_an_unknown_kid_during_an_outage_is_unavailable_not_invalid(billing_jwks, clock):
    key_set = remote_key_set("billing")
    key_set.get(load_key_ring("billing", billing_jwks.keys_dir).signing_key.kid)
    billing_jwks.status = 503
    clock.advance(60)
    with pytest.raises(KeySetUnavailable):  # it may be billing's new key: we cannot tell
        key_set.get("billing-1-unknown")


# --- one fetch per peer at a time ----------------------------------------------------------------


def test_twenty_concurrent_requests_without_keys_make_one_fetch_and_wait_for_it(billing_jwks, clock):
    kid = load_key_ring("billing", billing_jwks.keys_dir).signing_key.kid
    billing_jwks.gate = threading.Event()  # billing holds its answer
    with ThreadPoolExecutor(20) as pool:
        lookups = [pool.submit(public_key, "billing", kid) for _ in range(20)]
        wait_until(lambda: billing_jwks.hits == 1)
        assert not any(lookup.done() for lookup in lookups)  # nothing in hand: they wait
        billing_jwks.gate.set()
        assert all(lookup.result(timeout=5) for lookup in lookups)
    assert billing_jwks.hits == 1


def test_twenty_concurrent_requests_on_a_stale_set_make_one_background_fetch_and_none_waits(billing_jwks, clock):
    kid = load_key_ring("billing", billing_jwks.keys_dir).signing_key.kid
    public_key("billing", kid)
    clock.advance(JWKS_MAX_AGE)  # stale, still in hand
    billing_jwks.gate = threading.Event()
    with ThreadPoolExecutor(20) as pool:
        # Every lookup is answered while billing still holds the refresh's answer.
        assert all(pool.map(lambda _: public_key("billing", kid), range(20), timeout=5))
    wait_until(lambda: billing_jwks.hits == 2)
    billing_jwks.gate.set()
    wait_for_fetch(remote_key_set("billing"), fetches=2)
    assert billing_jwks.hits == 2
    public_key("billing", kid)  # fresh again: no fetch
    assert billing_jwks.hits == 2
