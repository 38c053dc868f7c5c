"""An operator revokes a user-service key that may have leaked, in a running shop, as the README
says (`python manage_all.py keys --revoke user KID`): the user service refuses that key's access
and refresh tokens within 5 s, product its access tokens within 90 s (the contract's bounds), and
logging in again works at once."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import jwt
import requests

from helpers import login, register
from shopdev.processes import REPO_DIR


def keys(shop, *args: str) -> str:
    """``python manage_all.py keys <args>`` on the shop's keys, as an operator runs it."""
    result = subprocess.run(
        [sys.executable, str(REPO_DIR / "manage_all.py"), "keys", *args],
        env={**os.environ, **shop.env}, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def state_of(kid: str, listing: str) -> str:
    """The state ``keys --list`` gives ``kid`` (lines: service, kid, created, state, ...)."""
    (state,) = [line.split()[3] for line in listing.splitlines() if line.split()[1:2] == [kid]]
    return state


def refused_within(bound: float, since: float, send) -> float:
    """Send until refused (401); fail if a request sent ``bound`` seconds or more after ``since``
    is still accepted. Returns when the refusal came, in seconds after ``since``."""
    while True:
        sent = time.monotonic() - since
        status = send()
        if status == 401:
            return sent
        assert status == 200, status
        assert sent < bound, f"still accepted {sent:.1f} s after the revocation"
        time.sleep(0.25)  # the polling interval


def test_a_revoked_user_key_is_refused_by_the_user_service_within_5_s_and_by_product_within_90_s(single_worker_shop):
    shop = single_worker_shop
    alice = register(shop)
    other_session = login(shop, alice.username, alice.password)
    me, products = shop.url("user") + "/api/users/me/", shop.url("product") + "/api/products/"
    assert requests.get(products, headers=alice.headers, timeout=10).status_code == 200  # product has the key
    kid = jwt.get_unverified_header(alice.access)["kid"]
    assert state_of(kid, keys(shop, "--list")) == "signing"

    output = keys(shop, "--revoke", "user", kid)
    revoked_at = time.monotonic()
    assert f"revoked {kid}" in output

    def status(url, **body):
        if body:
            return requests.post(url, json=body, timeout=10).status_code
        return requests.get(url, headers=alice.headers, timeout=10).status_code

    refused_within(5, revoked_at, lambda: status(me))
    assert status(shop.url("user") + "/api/auth/refresh/", refresh=alice.refresh) == 401
    assert status(shop.url("user") + "/api/auth/logout/", refresh=other_session["refresh"]) == 401
    fresh = login(shop, alice.username, alice.password)  # a new key signs at once
    assert jwt.get_unverified_header(fresh["access"])["kid"] != kid
    assert requests.get(me, headers={"Authorization": f"Bearer {fresh['access']}"}, timeout=10).status_code == 200

    refused_within(90, revoked_at, lambda: status(products))
    assert all(status(products) == 401 for _ in range(3))
    # Product refreshed the user service's keys: the new key is among them.
    assert requests.get(products, headers={"Authorization": f"Bearer {fresh['access']}"}, timeout=10).status_code == 200
    assert state_of(kid, keys(shop, "--list")) == "revoked"
