"""Fixtures of billing's tests.

Billing really talks to its peers here: once per session a real user service, product service
and billing service start as subprocesses (gunicorn, free loopback ports, databases of their
own), find each other's public keys at their JWKS URLs, and this test process's billing (Django's
test client on the test database) is pointed at the same peers. Faults are injected with
``responses`` only.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from django.conf import settings
from rest_framework.test import APIClient

from bills import peers
from ms_token.jwks import clear_remote_key_sets
from ms_token.settings import reload_settings
from service_kit.testing import make_user_token, preload_peer_keys, use_fresh_keys
from shopdev.processes import ServiceProcess, service_processes, start_all, stop_all

# The shared contract tests (service_kit.contract_tests) get pytest's assertion messages too.
pytest.register_assert_rewrite("service_kit.contract_tests")


def peer_database_prefix() -> str:
    """The peers' PostgreSQL database names (dropped and recreated), after the one given:
    BILLING_DATABASE_URL .../h9_billing gives h9_peer_<service>, so suites run with different
    URLs on one server never drop each other's databases. SQLite: files in a temporary directory."""
    given = urlsplit(os.environ.get("BILLING_DATABASE_URL", "")).path.lstrip("/")
    stem = given.removesuffix("_billing") if given.endswith("_billing") else given
    return f"{stem or 'billing'}_peer"


BILLS_URL = "/api/bills/"
HTTP_TIMEOUT = 30


@pytest.fixture(scope="session", autouse=True)
def signing_keys(tmp_path_factory):
    """Every test session signs with throwaway keys, never the developer's .keys/."""
    return use_fresh_keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def api_client():
    return APIClient()


# --- The real services ---------------------------------------------------------------------------


@dataclass
class Shop:
    """The three running services."""

    processes: dict[str, ServiceProcess]

    def url(self, service: str, path: str = "") -> str:
        return self.processes[service].url + path


@pytest.fixture(scope="session")
def shop(signing_keys, tmp_path_factory) -> Iterator[Shop]:
    processes = service_processes(
        tmp_path_factory.mktemp("services"),
        db_prefix=peer_database_prefix(),
        env={"MS_KEYS_DIR": str(signing_keys), "LOG_LEVEL": "WARNING"},
    )
    start_all(processes.values())
    saved = settings.MS_TOKEN
    # This process's billing calls the same peers as the billing subprocess does.
    settings.MS_TOKEN = {**saved, "SERVICE_URLS": {**saved["SERVICE_URLS"], **{s: p.url for s, p in processes.items()}}}
    reload_settings()
    clear_remote_key_sets()
    # User tokens verify with the user key of the test keys directory, so a fault injected with
    # `responses` never hits a JWKS fetch of ours.
    preload_peer_keys("user")
    try:
        yield Shop(processes)
    finally:
        settings.MS_TOKEN = saved
        reload_settings()
        clear_remote_key_sets()
        peers.clear_clients()
        stop_all(processes.values())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="session")
def staff_token() -> Callable[[], str]:
    """A fresh staff user token (tokens live minutes; a session may outlast one)."""
    return lambda: make_user_token(user_id=1, username="staff", is_staff=True)


# --- Catalogue, seeded through the product service's API --------------------------------------------

_sku_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def create_product(shop, staff_token) -> Callable[..., dict[str, Any]]:
    def create(*, name: str, price: str, currency: str = "USD") -> dict[str, Any]:
        body = {"sku": f"T-{next(_sku_numbers):05d}", "name": name, "price": price, "currency": currency}
        response = requests.post(
            shop.url("product", "/api/products/"),
            json=body,
            headers=bearer(staff_token()),
            timeout=HTTP_TIMEOUT,
        )
        assert response.status_code == 201, response.text
        return response.json()

    return create


@pytest.fixture(scope="session")
def change_product(shop, staff_token) -> Callable[..., dict[str, Any]]:
    def change(product_id: int, **fields: Any) -> dict[str, Any]:
        response = requests.patch(
            shop.url("product", f"/api/products/{product_id}/"),
            json=fields,
            headers=bearer(staff_token()),
            timeout=HTTP_TIMEOUT,
        )
        assert response.status_code == 200, response.text
        return response.json()

    return change


@pytest.fixture(scope="session")
def catalogue(shop, create_product, staff_token) -> dict[str, dict[str, Any]]:
    products = {
        "keyboard": create_product(name="Keyboard", price="19.99"),
        "mouse": create_product(name="Mouse", price="5.50"),
        # 0.10 x 3 is 0.30 only in decimal arithmetic, never in floats.
        "cable": create_product(name="Cable", price="0.10"),
        "lamp_eur": create_product(name="Lamp", price="12.00", currency="EUR"),
        "retired": create_product(name="Retired gadget", price="3.00"),
    }
    response = requests.delete(
        shop.url("product", f"/api/products/{products['retired']['id']}/"),
        headers=bearer(staff_token()),
        timeout=HTTP_TIMEOUT,
    )
    assert response.status_code == 204, response.text
    return products


# --- Users, registered through the user service's API ----------------------------------------------


@dataclass(frozen=True)
class ShopUser:
    id: int
    username: str
    shipping_address: str

    def token(self) -> str:
        return make_user_token(user_id=self.id, username=self.username)


def _register(shop: Shop, username: str, *, shipping_address: str = "") -> ShopUser:
    password = "correct horse battery staple 42"
    registered = requests.post(
        shop.url("user", "/api/auth/register/"),
        json={"username": username, "email": f"{username}@example.com", "password": password},
        timeout=HTTP_TIMEOUT,
    )
    assert registered.status_code == 201, registered.text
    login = requests.post(
        shop.url("user", "/api/auth/login/"),
        json={"username": username, "password": password},
        timeout=HTTP_TIMEOUT,
    )
    assert login.status_code == 200, login.text
    if shipping_address:
        profile = requests.patch(
            shop.url("user", "/api/users/me/"),
            json={"shipping_address": shipping_address},
            headers=bearer(login.json()["access"]),
            timeout=HTTP_TIMEOUT,
        )
        assert profile.status_code == 200, profile.text
    return ShopUser(id=registered.json()["id"], username=username, shipping_address=shipping_address)


@pytest.fixture(scope="session")
def alice(shop) -> ShopUser:
    return _register(shop, "alice", shipping_address="1 Main Street\nSpringfield")


@pytest.fixture(scope="session")
def bob(shop) -> ShopUser:
    """A user with no shipping address in his profile."""
    return _register(shop, "bob")


def client_for(user: ShopUser) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {user.token()}")
    return client


@pytest.fixture
def alice_client(db, alice) -> APIClient:
    return client_for(alice)


@pytest.fixture
def bob_client(db, bob) -> APIClient:
    return client_for(bob)


# --- Helpers -------------------------------------------------------------------------------------


def items(*pairs: tuple[dict[str, Any], int]) -> dict[str, list[dict[str, int]]]:
    """``items((keyboard, 2), (mouse, 1))`` -> a bill request body."""
    return {"items": [{"product_id": product["id"], "quantity": quantity} for product, quantity in pairs]}


def assert_unavailable_and_nothing_stored(response, service: str = "product") -> None:
    """A 503 naming the peer that failed (``service``), and no bill, item or idempotency record."""
    from bills.models import Bill, BillItem, IdempotencyRecord

    assert response.status_code == 503, response.content
    body = response.json()
    assert body["code"] == "service_unavailable"
    assert body["detail"].startswith(f"The {service} service is unavailable")
    assert not Bill.objects.exists() and not BillItem.objects.exists()
    assert not IdempotencyRecord.objects.exists()


_user_ids = itertools.count(10_000)


@pytest.fixture
def stranger_token() -> Callable[[], str]:
    """A token of a user no other test uses (bills are per user; keys are per user)."""
    user_id = next(_user_ids)
    return lambda: make_user_token(user_id=user_id, username=f"user{user_id}")
