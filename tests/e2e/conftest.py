"""The running shop for the end-to-end tests: started once per session, stopped whatever happens.

Services run under gunicorn (2 workers, threads) on free loopback ports, on PostgreSQL when the
``*_DATABASE_URL`` variables name it (CI: databases e2e_user, e2e_product, e2e_billing) and on
SQLite files otherwise.
"""
from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from helpers import STAFF_USERNAME, Account, RedisServer, create_product, login, register
from shop import Shop

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


@pytest.fixture(scope="session")
def shop(tmp_path_factory):
    # Many logins from one address (schemathesis too): the login throttle is the user service's
    # own tests' business, not a limit these tests should meet.
    running = Shop(tmp_path_factory.mktemp("shop"), db_prefix="e2e", env={"LOGIN_THROTTLE_RATE": "100000/min"})
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def staff(shop) -> Account:
    """Staff in the user service: product trusts ``is_staff`` in the user token for writes."""
    password = "Staff-pass-" + secrets.token_hex(6)
    shop.create_superuser("user", username=STAFF_USERNAME, password=password)
    tokens = login(shop, STAFF_USERNAME, password)
    return Account(STAFF_USERNAME, password, 0, tokens["access"], tokens["refresh"])


@pytest.fixture
def account(shop) -> Account:
    """A fresh end user for one test."""
    return register(shop)


@pytest.fixture(scope="session")
def catalogue(shop, staff) -> list[dict]:
    """Two products made by staff through the API."""
    return [create_product(shop, staff, price="3.50"), create_product(shop, staff, price="7.25")]


@pytest.fixture
def redis_server(tmp_path):
    from service_kit.testing import free_port

    server = RedisServer(free_port(), tmp_path).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
