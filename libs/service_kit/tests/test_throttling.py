"""service_kit.throttling and its default cache: every limit checked before any is written, a
refused attempt written nowhere, attempts at once never past a limit, and no live counter ever
evicted. On the database cache (the default) and on Redis (``CACHE_URL=redis://...``).

The limits on every login path of real servers: tests/e2e/test_login_throttles.py (repo root).
"""
import os
import threading

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.http import QueryDict

from service_kit.conf import CACHE_TABLE, cache_config, env_rate, parse_rate
from service_kit.testing import login_form_post
from service_kit.throttling import ClientAddressLimit, LoginThrottle, UsernameLimit

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")  # flushed

pytestmark = pytest.mark.django_db(transaction=True)  # threads see each other's writes

BY_ADDRESS, BY_USERNAME = LoginThrottle.limits


@pytest.fixture(params=["database", "redis"])
def cache_backend(request, settings):
    """The cache behind the counters, emptied: the default one, or Redis."""
    if request.param == "redis":
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": TEST_REDIS_URL}}
    cache.clear()
    yield request.param
    cache.clear()


@pytest.fixture
def rates(settings):
    def set_rates(**rates):
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}

    return set_rates


def attempt(username, address="198.51.100.1") -> bool:
    return LoginThrottle().allow_request(login_form_post(username, address), None)


def counted(limit, identity) -> int:
    return len(cache.get(limit.cache_key(identity)) or [])


def test_an_attempt_refused_by_the_address_limit_writes_no_username_counter(cache_backend, rates):
    rates(login="2/min", login_username="5/hour")
    assert attempt("alice") and attempt("bob")
    assert not attempt("carol")
    assert counted(BY_USERNAME, "carol") == 0
    assert counted(BY_ADDRESS, "198.51.100.1") == 2


def test_an_attempt_refused_by_the_username_limit_writes_no_address_counter(cache_backend, rates):
    rates(login="5/min", login_username="1/hour")
    assert attempt("alice", "198.51.100.1")
    assert not attempt("alice", "198.51.100.2")
    assert counted(BY_ADDRESS, "198.51.100.2") == 0
    assert attempt("bob", "198.51.100.2")


def test_the_wait_is_until_the_oldest_counted_attempt_leaves_the_window(cache_backend, rates):
    rates(login="1/hour", login_username="5/hour")
    throttle = LoginThrottle()
    throttle.timer = lambda: 1_000_000.0
    assert throttle.allow_request(login_form_post("alice", "198.51.100.1"), None)
    throttle.timer = lambda: 1_000_600.0
    assert not throttle.allow_request(login_form_post("alice", "198.51.100.1"), None)
    assert throttle.wait() == 3000.0
    throttle.timer = lambda: 1_003_601.0
    assert throttle.allow_request(login_form_post("alice", "198.51.100.1"), None)


def test_usernames_are_counted_whatever_their_case(cache_backend, rates):
    rates(login="100/min", login_username="2/hour")
    assert attempt("Alice", "198.51.100.1") and attempt("ALICE", "198.51.100.2")
    assert not attempt("alice", "198.51.100.3")


def test_attempts_at_once_never_pass_the_limit(cache_backend, rates):
    """Sixteen threads try eight times each at once: DRF's throttle reads one history in every
    thread and lets them all through; here exactly the limit passes."""
    rates(login="5/min", login_username="100/hour")
    admitted = []
    barrier = threading.Barrier(16)

    def flood(thread):
        try:
            barrier.wait(timeout=10)
            admitted.extend(attempt(f"user{thread}-{n}") for n in range(8))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=flood, args=(t,)) for t in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(admitted) == 128
    assert sum(admitted) == 5
    assert counted(BY_ADDRESS, "198.51.100.1") == 5


def test_the_database_cache_never_evicts_a_live_entry(settings):
    """Django's own culls a third of the rows past MAX_ENTRIES; this one only expired rows."""
    settings.CACHES = {"default": {**cache_config("product"), "OPTIONS": {"MAX_ENTRIES": 10}}}
    cache.clear()
    cache.set("first", "kept", 300)
    for n in range(12):
        cache.set(f"short-{n}", n, -1)  # already expired
    for n in range(40):
        cache.set(f"key-{n}", n, 300)
    assert cache.get("first") == "kept"
    assert cache.get_many([f"key-{n}" for n in range(40)]) == {f"key-{n}": n for n in range(40)}
    with connections["default"].cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {CACHE_TABLE}")
        assert cursor.fetchone()[0] == 41  # the expired rows went


def test_the_default_cache_is_the_database_and_redis_on_request(monkeypatch):
    monkeypatch.delenv("CACHE_URL", raising=False)
    assert cache_config("user")["BACKEND"] == "service_kit.cache.DatabaseCache"
    monkeypatch.setenv("CACHE_URL", "redis://127.0.0.1:6379/3")
    assert cache_config("user") == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:6379/3",
        "KEY_PREFIX": "user",
    }
    monkeypatch.setenv("CACHE_URL", "file:///tmp/cache")  # a file cache culls at random
    with pytest.raises(ImproperlyConfigured, match="CACHE_URL"):
        cache_config("user")


@pytest.mark.parametrize("rate", ["10", "ten/min", "10/fortnight", "10/"])
def test_a_bad_rate_is_refused_at_startup(monkeypatch, rate):
    monkeypatch.setenv("LOGIN_THROTTLE_RATE", rate)
    with pytest.raises(ImproperlyConfigured, match="N/min"):
        env_rate("LOGIN_THROTTLE_RATE", "10/min")
    assert parse_rate("20/hour") == (20, 3600) and parse_rate("3/d") == (3, 86400)


def test_a_post_without_a_string_username_counts_per_address_only():
    request = login_form_post("alice", "198.51.100.1")
    request.POST = QueryDict()
    assert UsernameLimit("login_username", "1/min").identity(request) is None
    assert ClientAddressLimit("login", "1/min").identity(request) == "198.51.100.1"


def test_an_ipv6_client_counts_by_its_64_not_by_each_address(cache_backend, rates):
    """One host holds a whole /64: new addresses from it must not buy new attempts."""
    rates(login="2/min", login_username="100/hour")
    assert attempt("alice", "2001:db8:1:2::1") and attempt("bob", "2001:db8:1:2::ffff")
    assert not attempt("carol", "2001:db8:1:2:abcd::7")
    # Another /64 is another client.
    assert attempt("dave", "2001:db8:1:3::1")
    assert counted(BY_ADDRESS, "2001:db8:1:2::/64") == 2


@pytest.mark.parametrize("address, network", [
    ("198.51.100.1", "198.51.100.1"),
    ("2001:db8::1", "2001:db8::/64"),
    ("::ffff:198.51.100.1", "198.51.100.1"),
    ("not an address", "not an address"),
])
def test_the_client_network(address, network):
    from service_kit.throttling import client_network

    assert client_network(address) == network


@pytest.mark.parametrize(
    "spelling",
    ["MÜLLER", "mu\u0308ller", "ｍüｌｌｅｒ", "MU\u0308LLER"],
)
def test_every_spelling_that_logs_into_an_account_counts_against_its_one_username_counter(
    cache_backend, rates, spelling
):
    # Login compares names after NFKC and case folding (the user service's username_key): a
    # guesser who changes case, composition or width still guesses at the same account.
    rates(login="100/min", login_username="1/hour")
    assert attempt("Müller", "198.51.100.1")
    assert not attempt(spelling, "198.51.100.2")
    assert counted(BY_USERNAME, "müller") == 1
    assert attempt("mueller", "198.51.100.3")  # another name: its own counter


def test_the_username_counter_keys_on_the_full_case_fold():
    # casefold, not lower: "ß" and "ss" are one name, as are the Kelvin sign and "k".
    identity = BY_USERNAME.identity
    assert identity(login_form_post("STRASSE", "198.51.100.1")) == identity(login_form_post("straße", "198.51.100.1"))
    assert identity(login_form_post("\u212aelvin", "198.51.100.1")) == "kelvin"
