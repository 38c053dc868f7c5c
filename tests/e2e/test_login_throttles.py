"""Every way to log in, on every service, under gunicorn: the API login, the browsable API's
``/api-auth/login/`` and ``/admin/login/``, each limited per client address and per username
from any address, with the same counters; registration per address. Over a limit: 429 and no
login, even with the right password; a refused attempt counts against no other limit.

The shop here has small limits and trusts one proxy (``TRUSTED_PROXY_COUNT=1``), so that a test
can speak from many client addresses through ``X-Forwarded-For``.
"""
from __future__ import annotations

import itertools
import re
import secrets
import threading
from dataclasses import dataclass

import pytest
import requests

from conftest import running_shop
from shopdev.shop import Shop

ADDRESS_LIMIT = 2  # per minute
USERNAME_LIMIT = 3  # per hour
REGISTER_LIMIT = 2  # per hour
LIMITS = {
    "LOGIN_THROTTLE_RATE": f"{ADDRESS_LIMIT}/min",
    "LOGIN_USERNAME_THROTTLE_RATE": f"{USERNAME_LIMIT}/hour",
    "REGISTER_THROTTLE_RATE": f"{REGISTER_LIMIT}/hour",
    "TRUSTED_PROXY_COUNT": "1",
}
WAYS = ["api", "api-auth", "admin"]
LOGIN_PATHS = [(service, way) for service in ("user", "product", "billing") for way in WAYS
               if way != "api" or service == "user"]
TIMEOUT = 30

_addresses = (f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}" for n in itertools.count(1))


def new_address() -> str:
    return next(_addresses)


@dataclass(frozen=True)
class Account:
    username: str
    password: str


@pytest.fixture(scope="module")
def throttled_shop(tmp_path_factory):
    yield from running_shop(tmp_path_factory, kind="throttle", env=LIMITS)


@pytest.fixture(scope="module")
def accounts(throttled_shop) -> dict[tuple[str, str, str], Account]:
    """Four staff accounts per login path of each service (its own user table: product's and
    billing's local staff), made in one manage.py process per service."""
    made = {}
    for service in ("user", "product", "billing"):
        mine = {
            (service, way, role): Account(f"{role}-{way}-{secrets.token_hex(3)}", "Pass-" + secrets.token_hex(8))
            for way in WAYS for role in ("guessed", "blocked", "bystander", "shared")
            if (service, way) in LOGIN_PATHS
        }
        pairs = [(account.username, account.password) for account in mine.values()]
        throttled_shop.manage(service, "shell", "-c", (
            "from django.contrib.auth import get_user_model\n"
            f"for name, password in {pairs!r}:\n"
            "    get_user_model().objects.create_superuser(name, name + '@example.com', password)\n"
        ))
        made.update(mine)
    return made


# --- one login attempt, as a client of each way in would make it --------------------------------

LOGIN_URLS = {"api": "/api/auth/login/", "api-auth": "/api-auth/login/", "admin": "/admin/login/"}
_CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass(frozen=True)
class Attempt:
    way: str
    status: int
    logged_in: bool
    response: requests.Response


def attempt(shop: Shop, service: str, way: str, username: str, password: str, address: str,
            *, accept: str = "text/html") -> Attempt:
    url = shop.url(service) + LOGIN_URLS[way]
    headers = {"X-Forwarded-For": address}
    if way == "api":
        response = requests.post(url, json={"username": username, "password": password}, headers=headers,
                                 timeout=TIMEOUT)
        return Attempt(way, response.status_code, response.status_code == 200 and "access" in response.json(), response)
    # A browser: the form (and its CSRF cookie), then the post.
    with requests.Session() as browser:
        form = browser.get(url, headers=headers, timeout=TIMEOUT)
        assert form.status_code == 200, form.text[:500]
        token = _CSRF_FIELD.search(form.text).group(1)
        response = browser.post(
            url, data={"csrfmiddlewaretoken": token, "username": username, "password": password},
            headers={**headers, "Accept": accept}, allow_redirects=False, timeout=TIMEOUT,
        )
        # Logged in: a redirect away from the form, with a session that opens what needs one.
        after = browser.get(shop.url(service) + "/admin/" if way == "admin" else url, headers=headers,
                            allow_redirects=False, timeout=TIMEOUT)
        signed_in = "sessionid" in browser.cookies and (
            after.status_code == 200 if way == "admin" else response.status_code == 302
        )
        return Attempt(way, response.status_code, signed_in, response)


def assert_refused_wrong_password(result: Attempt) -> None:
    assert not result.logged_in
    assert result.status == (401 if result.way == "api" else 200), result.status  # a form shows its error


def assert_throttled(result: Attempt, *, html: bool = True) -> None:
    assert result.status == 429, (result.status, result.response.text[:300])
    assert not result.logged_in
    assert int(result.response.headers["Retry-After"]) > 0
    if html and result.way != "api":
        assert result.response.headers["Content-Type"].startswith("text/html")
        assert "Too many attempts" in result.response.text
    else:
        assert result.response.json()["code"] == "throttled"


# --- the limits ----------------------------------------------------------------------------------


@pytest.mark.parametrize("service, way", LOGIN_PATHS)
def test_each_way_in_is_limited_per_client_address(throttled_shop, accounts, service, way):
    account = accounts[(service, way, "blocked")]
    address = new_address()
    for n in range(ADDRESS_LIMIT):
        assert_refused_wrong_password(attempt(throttled_shop, service, way, f"nobody{n}", "wrong-pass", address))
    assert_throttled(attempt(throttled_shop, service, way, account.username, account.password, address))
    # Refused by the address's limit, so not counted against the account: it logs in elsewhere.
    assert attempt(throttled_shop, service, way, account.username, account.password, new_address()).logged_in


@pytest.mark.parametrize("service, way", LOGIN_PATHS)
def test_each_way_in_is_limited_per_username_from_any_address(throttled_shop, accounts, service, way):
    guessed, bystander = accounts[(service, way, "guessed")], accounts[(service, way, "bystander")]
    for _ in range(USERNAME_LIMIT):
        assert_refused_wrong_password(attempt(throttled_shop, service, way, guessed.username, "wrong-pass", new_address()))
    address = new_address()
    assert_throttled(attempt(throttled_shop, service, way, guessed.username, guessed.password, address))
    # Refused by the username's limit, so not counted against the address: another account logs in.
    assert attempt(throttled_shop, service, way, bystander.username, bystander.password, address).logged_in


def test_a_form_answers_a_client_that_wants_json_in_json(throttled_shop):
    address = new_address()
    for n in range(ADDRESS_LIMIT):
        attempt(throttled_shop, "product", "admin", f"nobody{n}", "wrong-pass", address)
    assert_throttled(attempt(throttled_shop, "product", "admin", "someone", "pass", address,
                             accept="application/json"), html=False)


def test_the_ways_in_of_one_service_share_their_counters(throttled_shop, accounts):
    """One budget per username (and per address), whichever way the guesses come in."""
    account = accounts[("user", "admin", "shared")]
    for way in itertools.islice(itertools.cycle(["admin", "api-auth"]), USERNAME_LIMIT):
        assert_refused_wrong_password(attempt(throttled_shop, "user", way, account.username, "wrong-pass", new_address()))
    assert_throttled(attempt(throttled_shop, "user", "api", account.username, account.password, new_address()))


def test_attempts_at_once_from_one_address_never_pass_its_limit(throttled_shop):
    """Twenty-four attempts at once (gunicorn: 2 workers x 4 threads), then three more one by
    one: exactly the limit gets to a password check. DRF's own throttle reads the same history in
    every thread and would let most of a burst through."""
    address = new_address()
    url = throttled_shop.url("user") + LOGIN_URLS["api"]
    barrier = threading.Barrier(24)
    statuses: list[int] = []

    def guess():
        barrier.wait(timeout=TIMEOUT)
        response = requests.post(url, json={"username": secrets.token_hex(6), "password": "wrong-pass"},
                                 headers={"X-Forwarded-For": address}, timeout=TIMEOUT)
        statuses.append(response.status_code)

    threads = [threading.Thread(target=guess) for _ in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for _ in range(3):
        statuses.append(attempt(throttled_shop, "user", "api", secrets.token_hex(6), "wrong-pass", address).status)
    assert sorted(set(statuses)) == [401, 429]
    assert statuses.count(401) == ADDRESS_LIMIT, statuses


def test_registration_is_limited_per_client_address(throttled_shop):
    url = throttled_shop.url("user") + "/api/auth/register/"

    def register(address):
        name = f"reg{secrets.token_hex(4)}"
        body = {"username": name, "email": f"{name}@example.com", "password": "Sturdy-pass-" + secrets.token_hex(6)}
        return requests.post(url, json=body, headers={"X-Forwarded-For": address}, timeout=TIMEOUT)

    address = new_address()
    for _ in range(REGISTER_LIMIT):
        assert register(address).status_code == 201
    refused = register(address)
    assert refused.status_code == 429 and refused.json()["code"] == "throttled", refused.text
    assert int(refused.headers["Retry-After"]) > 0
    assert register(new_address()).status_code == 201
