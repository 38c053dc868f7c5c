"""The login and registration limits (service_kit.throttling) on the user service's API, with
the default cache: the service's database. Each test's counters go with its transaction.

Against real servers, every login path of every service: tests/e2e/test_login_throttles.py.
"""
import secrets

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from service_kit.conf import CACHE_TABLE
from service_kit.testing import login_form_post
from service_kit.throttling import LoginThrottle
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db


def _rates(**rates):
    return override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates})


def _login(api_client, username, password, address="10.9.0.1"):
    return api_client.post(
        "/api/auth/login/", {"username": username, "password": password}, format="json", REMOTE_ADDR=address
    )


def _cache_rows() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {CACHE_TABLE}")
        return cursor.fetchone()[0]


def test_an_attempt_refused_per_address_does_not_count_against_the_username(alice, api_client, password):
    with _rates(login="2/min", login_username="3/hour"):
        for _ in range(2):
            assert_error(_login(api_client, "nobody", "wrong-password-1"), 401)
        for _ in range(5):  # refused per address: alice's own counter must not move
            assert_error(_login(api_client, "alice", "wrong-password-1"), 429, "throttled")
        assert _login(api_client, "alice", password, address="10.9.0.2").status_code == 200


def test_an_attempt_refused_per_username_does_not_count_against_the_address(alice, register, api_client, password):
    assert register("bob").status_code == 201
    with _rates(login="3/min", login_username="1/hour"):
        assert_error(_login(api_client, "alice", "wrong-password-1", address="10.9.1.1"), 401)
        for _ in range(5):  # refused per username: this address's counter must not move
            assert_error(_login(api_client, "alice", password, address="10.9.1.2"), 429, "throttled")
        assert _login(api_client, "bob", password, address="10.9.1.2").status_code == 200


def test_registration_is_limited_per_address(db, api_client, password):
    def register(name, address):
        body = {"username": name, "email": f"{name}@example.com", "password": password}
        return api_client.post("/api/auth/register/", body, format="json", REMOTE_ADDR=address)

    with _rates(register="3/hour"):
        assert register("taken", "10.9.2.1").status_code == 201
        assert_error(register("taken", "10.9.2.1"), 400, "unique")  # a refused registration counts too
        assert register("carol", "10.9.2.1").status_code == 201
        response = register("dave", "10.9.2.1")
        assert_error(response, 429, "throttled")
        assert int(response["Retry-After"]) > 3500
        assert register("dave", "10.9.2.2").status_code == 201


def test_the_registration_rate_defaults_to_20_an_hour(monkeypatch, tmp_path):
    from service_kit.conf import common_settings

    def rate():
        return common_settings(service="user", base_dir=tmp_path)["REST_FRAMEWORK"]["DEFAULT_THROTTLE_RATES"]["register"]

    monkeypatch.delenv("REGISTER_THROTTLE_RATE", raising=False)
    assert rate() == "20/hour"
    monkeypatch.setenv("REGISTER_THROTTLE_RATE", "5/min")
    assert rate() == "5/min"


FLOOD = 30_000


def test_a_flood_of_random_usernames_from_one_address_never_passes_its_limit(alice, api_client, password):
    """30,000 login attempts from one address, each for a new random username, through the
    login throttle and the default cache (the database): only the first 10 (10/min) pass, and
    the refused ones write nothing, so no flood can push the address's counter out. The API
    login then still refuses that address, alice's right password included."""
    rows = _cache_rows()
    admitted = sum(LoginThrottle().allow_request(login_form_post(secrets.token_hex(8), "203.0.113.66"), None)
                   for _ in range(FLOOD))
    assert admitted == 10
    assert _cache_rows() == rows + 1 + admitted  # the address's counter and the admitted usernames'

    assert_error(_login(api_client, "alice", password, address="203.0.113.66"), 429, "throttled")
    assert _login(api_client, "alice", password, address="203.0.113.67").status_code == 200
