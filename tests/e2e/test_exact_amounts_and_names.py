"""Issue 18's money and identity cases against the real services (SQLite by default, PostgreSQL
when the *_DATABASE_URL variables name it): a bill past 15 significant digits reads the same in
its 201, every GET and a replay; a name is one account in every spelling."""
from __future__ import annotations

import base64
import json
import secrets

import requests

from helpers import create_product, login


def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_a_bill_past_fifteen_digits_reads_the_same_in_the_201_every_get_and_a_replay(shop, staff, account):
    yacht = create_product(shop, staff, price="9999999999.99", currency="USD")
    other_yacht = create_product(shop, staff, price="9999999999.98", currency="USD")
    sticker = create_product(shop, staff, price="0.01", currency="USD")
    body = {"items": [
        {"product_id": yacht["id"], "quantity": 1000},
        {"product_id": other_yacht["id"], "quantity": 1000},
        {"product_id": sticker["id"], "quantity": 1},
    ]}
    bills = shop.url("billing") + "/api/bills/"
    headers = {**account.headers, "Idempotency-Key": secrets.token_hex(8)}

    created = requests.post(bills, json=body, headers=headers, timeout=30)
    assert created.status_code == 201, created.text
    bill = created.json()
    assert bill["total"] == "19999999999970.01"
    assert [line["line_total"] for line in bill["items"]] == ["9999999999990.00", "9999999999980.00", "0.01"]

    for _ in range(2):
        again = requests.get(f"{bills}{bill['id']}/", headers=account.headers, timeout=30)
        assert again.status_code == 200 and again.json() == bill
    listed = requests.get(bills, headers=account.headers, timeout=30).json()["results"]
    assert [entry for entry in listed if entry["id"] == bill["id"]] == [bill]
    replay = requests.post(bills, json=body, headers=headers, timeout=30)
    assert replay.status_code == 200 and replay.json() == bill


def _register(shop, username: str) -> requests.Response:
    return requests.post(
        shop.url("user") + "/api/auth/register/",
        json={"username": username, "email": "someone@example.com", "password": "Sturdy-pass-" + secrets.token_hex(6)},
        timeout=10,
    )


def test_one_name_is_one_account_in_every_spelling(shop):
    suffix = secrets.token_hex(3)
    password = "Sturdy-pass-" + secrets.token_hex(6)
    registered = requests.post(
        shop.url("user") + "/api/auth/register/",
        json={"username": f"müller{suffix}", "email": "m@example.com", "password": password},
        timeout=10,
    )
    assert registered.status_code == 201, registered.text

    taken = _register(shop, f"MÜLLER{suffix}")
    assert taken.status_code == 400 and taken.json()["code"] == "unique", taken.text
    for spelling in [f"MÜLLER{suffix}", f"mu\u0308ller{suffix}", f"ｍüｌｌｅｒ{suffix}"]:
        tokens = login(shop, spelling, password)
        assert _claims(tokens["access"])["username"] == f"müller{suffix}"
        assert _claims(tokens["access"])["user_id"] == str(registered.json()["id"])


def test_a_name_too_long_once_normalized_is_a_400(shop):
    response = _register(shop, "ﬃ" * 51)  # 153 characters once normalized
    assert response.status_code == 400 and response.json()["code"] == "max_length", response.text
    assert _register(shop, "\ufdfa" * 150).status_code == 400
