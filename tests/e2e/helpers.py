"""Helpers of the end-to-end tests: accounts, products, polling, a Redis of our own."""
from __future__ import annotations

import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from shopdev.shop import Shop
from shopdev.story import bearer

STAFF_USERNAME = "staff"


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    id: int
    access: str
    refresh: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.access)


def login(shop: Shop, username: str, password: str) -> dict:
    response = requests.post(
        shop.url("user") + "/api/auth/login/", json={"username": username, "password": password}, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()


def register(shop: Shop, username: str | None = None) -> Account:
    username = username or f"u{secrets.token_hex(4)}"
    password = "Sturdy-pass-" + secrets.token_hex(6)
    response = requests.post(
        shop.url("user") + "/api/auth/register/",
        json={"username": username, "email": f"{username}@example.com", "password": password},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    tokens = login(shop, username, password)
    return Account(username, password, int(response.json()["id"]), tokens["access"], tokens["refresh"])


def staff_of(shop: Shop, staff_accounts: dict[int, Account]) -> Account:
    """Staff in the shop's user service, made once per shop (``staff_accounts`` remembers it):
    product trusts ``is_staff`` in the user token for writes."""
    if id(shop) not in staff_accounts:
        password = "Staff-pass-" + secrets.token_hex(6)
        shop.create_superuser("user", username=STAFF_USERNAME, password=password)
        tokens = login(shop, STAFF_USERNAME, password)
        staff_accounts[id(shop)] = Account(STAFF_USERNAME, password, 0, tokens["access"], tokens["refresh"])
    return staff_accounts[id(shop)]


def create_product(shop: Shop, staff: Account, *, price: str = "10.00", currency: str = "EUR", **fields) -> dict:
    sku = fields.pop("sku", f"SKU-{secrets.token_hex(4)}")
    body = {"sku": sku, "name": f"Product {sku}", "description": "", "price": price, "currency": currency, **fields}
    response = requests.post(shop.url("product") + "/api/products/", json=body, headers=staff.headers, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()


def wait_until(predicate, *, timeout: float, interval: float = 0.1, what: str = "condition"):
    """Poll ``predicate`` until it returns something truthy, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class RedisServer:
    """A redis-server of our own on a free port: a replay store the test may stop and restart."""

    def __init__(self, port: int, work_dir: Path) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.work_dir = work_dir
        self.process: subprocess.Popen | None = None

    def start(self) -> "RedisServer":
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed (Debian package redis-server)"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "no", "--dir", str(self.work_dir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self.ping, timeout=10, what=f"redis-server on port {self.port}")
        return self

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
