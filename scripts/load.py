#!/usr/bin/env python
"""`make load`: a bounded load run of bills through billing -> product (not part of CI).

N users, each in its own thread, make bills for a fixed time (and at most --max-requests each);
one request in five is retried with the same Idempotency-Key, as a client that lost the answer
would. Then the run checks, through billing's API, that the bills stored equal the 201 answers,
that no bill was stored twice, and that no answer was a 5xx. Loopback only; the services run
under gunicorn on free ports with fresh databases (PostgreSQL when *_DATABASE_URL name it).
"""
from __future__ import annotations

import argparse
import math
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests
from shopdev.processes import database_prefix
from shopdev.shop import Shop


TIMEOUT = 30


class Buyer(threading.Thread):
    def __init__(self, base: str, access: str, product_ids: list[int], deadline: float, max_requests: int) -> None:
        super().__init__(daemon=True)
        self.base = base
        self.headers = {"Authorization": f"Bearer {access}"}
        self.product_ids = product_ids
        self.deadline = deadline
        self.max_requests = max_requests
        self.statuses: Counter[int] = Counter()
        self.latencies: list[float] = []
        self.created: list[int] = []
        self.retry_mismatches: list[tuple[int, int]] = []
        self.errors: list[str] = []

    def post(self, session: requests.Session, body: dict, key: str) -> requests.Response:
        started = time.perf_counter()
        response = session.post(
            self.base + "/api/bills/", json=body, headers={**self.headers, "Idempotency-Key": key}, timeout=TIMEOUT
        )
        self.latencies.append(time.perf_counter() - started)
        self.statuses[response.status_code] += 1
        return response

    def run(self) -> None:
        session = requests.Session()
        for n in range(self.max_requests):
            if time.monotonic() > self.deadline:
                return
            pid = self.product_ids[n % len(self.product_ids)]
            body = {"items": [{"product_id": pid, "quantity": 1 + n % 3}]}
            key = secrets.token_hex(8)
            try:
                first = self.post(session, body, key)
                if first.status_code == 201:
                    self.created.append(first.json()["id"])
                    if n % 5 == 0:  # the retry of a client that lost the answer
                        again = self.post(session, body, key)
                        if (
                            again.status_code != 200
                            or again.headers.get("Idempotent-Replayed") != "true"
                            or again.json().get("id") != self.created[-1]
                        ):
                            self.retry_mismatches.append((self.created[-1], again.status_code))
            except requests.RequestException as exc:
                self.errors.append(repr(exc))
                return


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--max-requests", type=int, default=2000, help="per user, a hard bound besides time")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    if not (1 <= args.users <= 64 and 0 < args.seconds <= 300):
        parser.error("--users 1..64 and --seconds up to 300 (a bounded run)")

    with tempfile.TemporaryDirectory(prefix="shop-load-") as tmp:
        shop = Shop(Path(tmp), db_prefix=database_prefix("load"), workers=args.workers, env={"LOGIN_THROTTLE_RATE": "100000/min", "REGISTER_THROTTLE_RATE": "100000/hour"})
        try:
            shop.start()
            password = "staff-" + secrets.token_hex(6)
            shop.manage("user", "seed_demo", env={"DEMO_STAFF_PASSWORD": password})
            staff = _login(shop, "staff", password)
            product_ids = [
                _post(shop, "product", "/api/products/", staff, {
                    "sku": f"LOAD-{i}", "name": f"Load item {i}", "price": f"{i + 1}.25", "currency": "EUR",
                })["id"]
                for i in range(3)
            ]
            buyers_tokens = []
            for i in range(args.users):
                name, pw = f"buyer{i}", "Buyer-pass-" + secrets.token_hex(6)
                _post(shop, "user", "/api/auth/register/", None, {"username": name, "email": f"{name}@example.com", "password": pw})
                buyers_tokens.append(_login(shop, name, pw))

            print(f"load: {args.users} users for {args.seconds:.0f}s against {shop.url('billing')} "
                  f"(billing -> product per bill)", flush=True)
            started = time.monotonic()
            buyers = [
                Buyer(shop.url("billing"), token, product_ids, started + args.seconds, args.max_requests)
                for token in buyers_tokens
            ]
            for buyer in buyers:
                buyer.start()
            for buyer in buyers:
                buyer.join(args.seconds + TIMEOUT + 5)
            elapsed = time.monotonic() - started
            hung = sum(buyer.is_alive() for buyer in buyers)
            return _report(shop, buyers, buyers_tokens, elapsed, hung=hung)
        finally:
            shop.stop()


def _login(shop: Shop, username: str, password: str) -> str:
    response = requests.post(shop.url("user") + "/api/auth/login/", json={"username": username, "password": password}, timeout=TIMEOUT)
    response.raise_for_status()
    return response.json()["access"]


def _post(shop: Shop, service: str, path: str, access: str | None, body: dict) -> dict:
    headers = {"Authorization": f"Bearer {access}"} if access else {}
    response = requests.post(shop.url(service) + path, json=body, headers=headers, timeout=TIMEOUT)
    if response.status_code != 201:
        raise SystemExit(f"setup failed: {service} {path} -> {response.status_code} {response.text[:300]}")
    return response.json()


# A bill answered 201, and its Idempotency-Key retry answered 200: anything else is a problem.
EXPECTED_STATUSES = {200, 201}


def _report(shop: Shop, buyers: list[Buyer], tokens: list[str], elapsed: float, *, hung: int) -> int:
    statuses = sum((b.statuses for b in buyers), Counter())
    latencies = sorted(x for b in buyers for x in b.latencies)
    created = [bill_id for b in buyers for bill_id in b.created]
    stored = 0
    for token in tokens:
        listed = requests.get(shop.url("billing") + "/api/bills/", headers={"Authorization": f"Bearer {token}"},
                              params={"page_size": 1}, timeout=TIMEOUT)
        listed.raise_for_status()
        stored += listed.json()["count"]
    unexpected = {status: n for status, n in statuses.items() if status not in EXPECTED_STATUSES}
    errors = [e for b in buyers for e in b.errors]
    mismatches = [m for b in buyers for m in b.retry_mismatches]
    total = sum(statuses.values())
    p50 = statistics.median(latencies) * 1000 if latencies else 0.0
    # Nearest rank: the ceil(0.99 n)-th smallest (1-based); int() is one rank low when 0.99 n is not whole.
    p99 = latencies[math.ceil(len(latencies) * 0.99) - 1] * 1000 if latencies else 0.0
    print(f"requests: {total} in {elapsed:.1f}s = {total / elapsed:.1f}/s; p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    print(f"statuses: {dict(sorted(statuses.items()))}")
    print(f"bills answered 201: {len(created)}; distinct: {len(set(created))}; stored: {stored}")
    problems = []
    if unexpected:
        problems.append(f"answers other than 201 or a retry's 200: {dict(sorted(unexpected.items()))}")
    if hung:
        # Its late bill would make the stored count disagree with the answers counted.
        problems.append(f"{hung} buyers still running after the time allowed")
    if errors:
        problems.append(f"{len(errors)} requests failed on the wire: {errors[:3]}")
    if len(set(created)) != len(created):
        problems.append("a bill id was answered 201 twice")
    if stored != len(created):
        problems.append(f"{stored} bills stored but {len(created)} answered 201 (lost or doubled bills)")
    if mismatches:
        problems.append(f"{len(mismatches)} Idempotency-Key retries did not return the same bill: {mismatches[:3]}")
    if not created:
        problems.append("no bill was made at all")
    print("load: " + ("FAILED: " + "; ".join(problems) if problems else "ok: every answer a 201 or a retry's 200, zero lost or doubled bills"))
    if problems:
        print("\nlast service log lines:\n" + shop.logs(25))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
