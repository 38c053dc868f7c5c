"""The contract's story ("The story `make demo` plays"), over HTTP only.

`make demo` prints it; the e2e test asserts it. Every step checks what the contract promises and
raises :class:`StoryFailure` naming the call that misbehaved.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable

import requests

TIMEOUT = 15


class StoryFailure(AssertionError):
    """A step of the story did not behave as the contract says."""


def _short(body: object, limit: int = 300) -> str:
    text = json.dumps(body) if not isinstance(body, str) else body
    return text if len(text) <= limit else text[:limit] + "..."


@dataclass
class Narrator:
    """Sends requests as a named actor and tells what happened (``say`` prints or records)."""

    urls: dict[str, str]
    say: Callable[[str], None] = lambda line: None
    lines: list[str] = field(default_factory=list)

    def tell(self, line: str) -> None:
        self.lines.append(line)
        self.say(line)

    def call(
        self,
        actor: str,
        service: str,
        method: str,
        path: str,
        *,
        expect: int | tuple[int, ...],
        note: str = "",
        session: requests.Session | None = None,
        **kwargs,
    ) -> requests.Response:
        kwargs.setdefault("timeout", TIMEOUT)
        response = (session or requests).request(method, self.urls[service] + path, **kwargs)
        expected = (expect,) if isinstance(expect, int) else expect
        mark = "ok" if response.status_code in expected else "UNEXPECTED"
        self.tell(f"    {actor} -> {service}: {method} {path}  => {response.status_code} {mark}{'  ' + note if note else ''}")
        if response.status_code not in expected:
            raise StoryFailure(
                f"{actor} -> {service} {method} {path}: expected {expected}, got {response.status_code}: "
                f"{_short(response.text)}"
            )
        return response


def bearer(access: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access}"}


@dataclass
class StoryResult:
    alice_id: int
    alice_tokens: dict[str, str]
    staff_tokens: dict[str, str]
    products: list[dict]
    bill: dict
    delivery: dict
    replay_first_status: int
    replay_refusal: dict
    refresh_after_logout: dict
    lines: list[str]
    # X-Request-ID of the bill and of the delivery request (billing answers with it and passes it
    # on): the key to what the other services logged for the calls billing made.
    bill_request_id: str = ""
    delivery_request_id: str = ""
    # What billing's key alone gets at the user service (no transaction token for alice), and
    # what the captured token gets with its query rewritten.
    no_txn_token_refusal: dict = field(default_factory=dict)
    query_refusal: dict = field(default_factory=dict)


def play_story(
    urls: dict[str, str],
    *,
    staff_username: str,
    staff_password: str,
    capture_token: Callable[..., str],
    say: Callable[[str], None] = lambda line: None,
    alice_username: str | None = None,
) -> StoryResult:
    """Plays the six steps against running services at ``urls``.

    ``capture_token(method, path, audience=..., scope=...)`` returns an X-MS-TOKEN that billing
    would send to ``audience`` (product unless named) for that request (``path`` may carry a query
    string, which the token binds): the token an eavesdropper captured on the wire, or what
    billing's stolen key alone can make.
    """
    run = Narrator(urls, say)
    alice = alice_username or f"alice_{secrets.token_hex(3)}"
    alice_password = "correct-Horse-battery-" + secrets.token_hex(4)
    address = "1 Rue de la Paix, 75002 Paris, France"

    run.tell(f"1. register {alice}; log in as {alice} and as the staff user {staff_username}")
    registered = run.call(
        alice, "user", "POST", "/api/auth/register/", expect=201,
        json={"username": alice, "email": f"{alice}@example.com", "password": alice_password},
    ).json()
    if registered.get("username") != alice or "password" in registered:
        raise StoryFailure(f"register answered {registered}")
    alice_tokens = run.call(
        alice, "user", "POST", "/api/auth/login/", expect=200, json={"username": alice, "password": alice_password}
    ).json()
    run.call(
        alice, "user", "POST", "/api/auth/login/", expect=401, note="(wrong password refused)",
        json={"username": alice, "password": "not-" + alice_password},
    )
    staff_tokens = run.call(
        staff_username, "user", "POST", "/api/auth/login/", expect=200,
        json={"username": staff_username, "password": staff_password},
    ).json()

    run.tell("2. staff creates two products; alice lists them")
    suffix = secrets.token_hex(3).upper()
    wanted = [
        {"sku": f"MUG-{suffix}", "name": "Coffee mug", "description": "350 ml, stoneware", "price": "12.50", "currency": "EUR"},
        {"sku": f"TEE-{suffix}", "name": "T-shirt", "description": "organic cotton", "price": "19.99", "currency": "EUR"},
    ]
    products = []
    for body in wanted:
        created = run.call(
            staff_username, "product", "POST", "/api/products/", expect=201, json=body,
            headers=bearer(staff_tokens["access"]),
        ).json()
        if created.get("price") != body["price"] or created.get("sku") != body["sku"]:
            raise StoryFailure(f"product created as {created}, asked {body}")
        products.append(created)
        run.tell(f"       product #{created['id']} {created['sku']} {created['name']} {created['price']} {created['currency']}")
    run.call(
        alice, "product", "POST", "/api/products/", expect=403, note="(alice is not staff)",
        json={**wanted[0], "sku": f"NOPE-{suffix}"}, headers=bearer(alice_tokens["access"]),
    )
    ids = ",".join(str(p["id"]) for p in products)
    listed = run.call(
        alice, "product", "GET", f"/api/products/?ids={ids}", expect=200, headers=bearer(alice_tokens["access"])
    ).json()
    if sorted(p["id"] for p in listed.get("results", [])) != sorted(p["id"] for p in products):
        raise StoryFailure(f"alice listed {listed}")
    run.tell(f"       alice sees {listed['count']} products")

    run.tell("3. alice generates a bill for both (billing -> product with a fresh X-MS-TOKEN)")
    items = [{"product_id": products[0]["id"], "quantity": 2}, {"product_id": products[1]["id"], "quantity": 1}]
    bill_response = run.call(
        alice, "billing", "POST", "/api/bills/", expect=201, json={"items": items},
        headers={**bearer(alice_tokens["access"]), "Idempotency-Key": f"demo-{suffix}"},
        note="(billing -> product: GET /api/products/?ids=... with an X-MS-TOKEN binding that query, qh)",
    )
    bill = bill_response.json()
    expected_total = Decimal("12.50") * 2 + Decimal("19.99")
    if Decimal(bill.get("total", "0")) != expected_total or bill.get("currency") != "EUR":
        raise StoryFailure(f"bill total {bill.get('total')} {bill.get('currency')}, expected {expected_total} EUR: {bill}")
    for line in bill["items"]:
        run.tell(f"       {line['quantity']} x {line['sku']} {line['name']} at {line['unit_price']} = {line['line_total']}")
    run.tell(f"       bill #{bill['id']} total {bill['total']} {bill['currency']} status {bill['status']}")
    again_response = run.call(
        alice, "billing", "POST", "/api/bills/", expect=200, json={"items": items},
        headers={**bearer(alice_tokens["access"]), "Idempotency-Key": f"demo-{suffix}"},
        note="(same Idempotency-Key: the same bill, not a second one)",
    )
    if again_response.headers.get("Idempotent-Replayed") != "true":
        raise StoryFailure(
            f"a replay of an Idempotency-Key answered without `Idempotent-Replayed: true`: {dict(again_response.headers)}"
        )
    again = again_response.json()
    if again.get("id") != bill["id"]:
        raise StoryFailure(f"a retry with the same Idempotency-Key made bill {again.get('id')} besides {bill['id']}")

    run.tell("4. alice initiates delivery (billing -> user for her address, with a fresh token and a transaction token for alice)")
    run.call(
        alice, "user", "PATCH", "/api/users/me/", expect=200, json={"shipping_address": address},
        headers=bearer(alice_tokens["access"]),
    )
    delivery_response = run.call(
        alice, "billing", "POST", f"/api/bills/{bill['id']}/delivery/", expect=201, json={},
        headers=bearer(alice_tokens["access"]),
        note="(billing -> user: POST /api/txn-tokens/, then GET /api/internal/users/<id>/ with Txn-Token)",
    )
    run.tell(
        "       billing exchanged alice's access token for her transaction token and carried it on the read,"
        " bound by that call's X-MS-TOKEN (tth)"
    )
    delivery = delivery_response.json()
    if delivery.get("status") != "initiated" or delivery.get("shipping_address") != address:
        raise StoryFailure(f"delivery {delivery}")
    run.tell(
        f"       delivery #{delivery['id']} of bill #{delivery['bill_id']}: {delivery['status']}, "
        f"tracking {delivery['tracking_code']}, to {delivery['shipping_address']!r}"
    )
    internal = f"/api/internal/users/{registered['id']}/"
    no_txn = run.call(
        "billing's key alone", "user", "GET", internal, expect=403,
        headers={"X-MS-TOKEN": capture_token("GET", internal, audience="user", scope="users:read")},
        note="(a valid X-MS-TOKEN, but no transaction token for alice)",
    ).json()
    if no_txn.get("code") != "txn_token_required":
        raise StoryFailure(f"a read of alice's details without a transaction token answered {no_txn}")
    run.tell(f"       refused: code={no_txn['code']!r}: a service's key reads only users whose requests it serves")

    run.tell("5. a captured X-MS-TOKEN replayed to product is refused")
    path = f"/api/products/?ids={products[0]['id']}"
    captured = capture_token("GET", path)
    first = run.call(
        "billing (captured token)", "product", "GET", path, expect=200, headers={"X-MS-TOKEN": captured},
        note="(first use: accepted)",
    )
    rewritten = f"/api/products/?ids={products[1]['id']}"
    query_refusal = run.call(
        "eavesdropper", "product", "GET", rewritten, expect=401, headers={"X-MS-TOKEN": captured},
        note="(same token, query rewritten)",
    ).json()
    if query_refusal.get("code") != "token_request_mismatch":
        raise StoryFailure(f"a rewritten query answered {query_refusal}")
    replay = run.call(
        "eavesdropper", "product", "GET", path, expect=401, headers={"X-MS-TOKEN": captured},
        note="(same token again)",
    )
    refusal = replay.json()
    if refusal.get("code") != "token_replayed" or "MS-Token" not in replay.headers.get("WWW-Authenticate", ""):
        raise StoryFailure(f"replay refused with {refusal} / {replay.headers.get('WWW-Authenticate')!r}")
    run.tell(f"       refused: code={query_refusal['code']!r}, then code={refusal['code']!r} detail={refusal['detail']!r}")

    run.tell("6. alice logs out; her refresh token is refused")
    run.call(
        alice, "user", "POST", "/api/auth/logout/", expect=205, json={"refresh": alice_tokens["refresh"]},
        headers=bearer(alice_tokens["access"]),
    )
    refused = run.call(
        alice, "user", "POST", "/api/auth/refresh/", expect=401, json={"refresh": alice_tokens["refresh"]},
        note="(refresh after logout)",
    ).json()
    run.tell(f"       refused: code={refused.get('code')!r}")

    return StoryResult(
        alice_id=int(registered["id"]),
        alice_tokens=alice_tokens,
        staff_tokens=staff_tokens,
        products=products,
        bill=bill,
        delivery=delivery,
        replay_first_status=first.status_code,
        replay_refusal=refusal,
        refresh_after_logout=refused,
        no_txn_token_refusal=no_txn,
        query_refusal=query_refusal,
        lines=run.lines,
        bill_request_id=bill_response.headers.get("X-Request-ID", ""),
        delivery_request_id=delivery_response.headers.get("X-Request-ID", ""),
    )
