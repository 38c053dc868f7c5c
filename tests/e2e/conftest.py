"""The running shops for the end-to-end tests: each started once per session, stopped whatever
happens.

Services run under gunicorn (2 workers, threads) on free loopback ports, on PostgreSQL when the
``*_DATABASE_URL`` variables name it and on SQLite files otherwise. Two shops, one per token
source of billing (issue 6): ``shop`` (``MS_TOKEN_SOURCE=self``, the default, used by every test)
and ``token_service_shop`` (``MS_TOKEN_SOURCE=token-service`` in every service's env), started only
when a test asks for it through ``sourced_shop``.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from helpers import Account, RedisServer, register, staff_of
from shopdev.processes import database_prefix
from shopdev.shop import Shop

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
TOKEN_SOURCES = ("self", "token-service")
# Many logins and registrations from one address (schemathesis too): the limits are
# test_login_throttles.py's business (and the user service's own tests'), not limits these
# tests should meet.
SHOP_ENV = {"LOGIN_THROTTLE_RATE": "100000/min", "REGISTER_THROTTLE_RATE": "100000/hour"}


def running_shop(tmp_path_factory, *, kind: str, env: dict[str, str], **options):
    running = Shop(tmp_path_factory.mktemp(kind), db_prefix=database_prefix(kind), env={**SHOP_ENV, **env}, **options)
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def shop(tmp_path_factory):
    yield from running_shop(tmp_path_factory, kind="e2e", env={})


@pytest.fixture(scope="session")
def token_service_shop(tmp_path_factory):
    """Every service asks the token service (user) for the X-MS-TOKENs it sends; only billing calls
    out, but the setting is the deployment's, so all three get it."""
    yield from running_shop(tmp_path_factory, kind="e2e_ts", env={"MS_TOKEN_SOURCE": "token-service"})


@pytest.fixture(scope="module")
def single_worker_shop(tmp_path_factory):
    """A shop of its own, one worker process per service, for a module whose tests change it for
    good (they revoke its keys, say): what that one process has seen, the service has."""
    yield from running_shop(tmp_path_factory, kind="e2e_single", env={}, workers=1)


@pytest.fixture(params=TOKEN_SOURCES)
def sourced_shop(request) -> Shop:
    """A test that takes this runs once per token source of billing."""
    return request.getfixturevalue("shop" if request.param == "self" else "token_service_shop")


@pytest.fixture(scope="session")
def staff_accounts() -> dict[int, Account]:
    return {}


@pytest.fixture(scope="session")
def staff(shop, staff_accounts) -> Account:
    return staff_of(shop, staff_accounts)


@pytest.fixture
def sourced_staff(sourced_shop, staff_accounts) -> Account:
    return staff_of(sourced_shop, staff_accounts)


@pytest.fixture
def account(shop) -> Account:
    """A fresh end user for one test."""
    return register(shop)


@pytest.fixture
def redis_server(tmp_path):
    from ms_token.testing import free_port

    server = RedisServer(free_port(), tmp_path).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
