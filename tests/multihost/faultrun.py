"""The fault scenario on the simulated hosts, its checks' raw material and its figures.

Under a steady load of bills (billload.py), in turn: a billing replica killed (SIGKILL) and
restarted, billing's key ring rotated meanwhile (the restarted replica comes back with a new
key, which both replicas publish at once and sign with ACTIVATION_SECONDS later); a product replica killed
and restarted; Redis restarted; PostgreSQL restarted; then the new key starts signing, and its
peers must fetch it. After each, tokens are replayed across hosts. ``report`` renders the
figures as Markdown (docs/faults.md is one run's).
"""
from __future__ import annotations

import secrets
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import jwt
import requests
from ms_token.keys import ACTIVATION_SECONDS, load_key_ring

from backends import HostedProcess, wait_for
from billload import BillLoad, Buyer
from cluster import SHOP_COMMAND, Cluster, Replica

TIMEOUT = 15


# --- Setting the shop up, as its users would ------------------------------------------------------


def staff_token(cluster: Cluster) -> str:
    password = "Staff-" + secrets.token_hex(8)
    user = cluster.replica("user")
    result = subprocess.run(
        cluster.network.command("user", [str(SHOP_COMMAND), "manage", "user", "createsuperuser", "--noinput",
                                         "--username", "staff", "--email", "staff@example.com"]),
        env={**user.env, "DJANGO_SUPERUSER_PASSWORD": password}, capture_output=True, text=True, timeout=120,
    )
    if result.returncode != 0:
        raise RuntimeError(f"createsuperuser failed: {result.stderr}")
    return login(cluster, "staff", password)


def login(cluster: Cluster, username: str, password: str) -> str:
    response = requests.post(cluster.url("user") + "/api/auth/login/", json={"username": username, "password": password}, timeout=TIMEOUT)
    response.raise_for_status()
    return response.json()["access"]


def create_products(cluster: Cluster, staff: str, count: int) -> list[int]:
    ids = []
    for n in range(count):
        response = requests.post(
            cluster.url("product") + "/api/products/", headers={"Authorization": f"Bearer {staff}"},
            json={"sku": f"MH-{n}-{secrets.token_hex(3)}", "name": f"Multi-host item {n}", "price": f"{n + 1}.25", "currency": "EUR"},
            timeout=TIMEOUT,
        )
        response.raise_for_status()
        ids.append(response.json()["id"])
    return ids


def register_buyers(cluster: Cluster, count: int) -> list[Buyer]:
    buyers = []
    for n in range(count):
        name, password = f"buyer{n}x{secrets.token_hex(3)}", "Buyer-pass-" + secrets.token_hex(6)
        registered = requests.post(cluster.url("user") + "/api/auth/register/",
                                   json={"username": name, "email": f"{name}@example.com", "password": password}, timeout=TIMEOUT)
        registered.raise_for_status()
        access = login(cluster, name, password)
        requests.patch(cluster.url("user") + "/api/users/me/", headers={"Authorization": f"Bearer {access}"},
                       json={"shipping_address": f"{n} Bridge Street, Namespace City"}, timeout=TIMEOUT).raise_for_status()
        buyers.append(Buyer(user_id=registered.json()["id"], access=access))
    return buyers


# --- Tokens from outside -------------------------------------------------------------------------


def billing_token(cluster: Cluster, *, ttl: int = 120) -> str:
    """An X-MS-TOKEN for GET /api/products/ as billing would send it, signed with billing's
    current key (read from a billing host's key ring), minted by the contract, not the library."""
    key = load_key_ring("billing", cluster.keys_dir("billing1")).signing_key
    now = int(time.time())
    claims = {"iss": "billing", "aud": "product", "iat": now, "exp": now + ttl, "jti": secrets.token_urlsafe(16),
              "scope": "products:read", "htm": "GET", "htu": "/api/products/"}
    return jwt.encode(claims, key.private_key, algorithm="EdDSA", headers={"typ": "ms+jwt", "kid": key.kid})


@dataclass(frozen=True)
class Call:
    target: str
    status: int | None
    code: str


def get_products(url: str, token: str, target: str) -> Call:
    try:
        response = requests.get(url + "/api/products/", headers={"X-MS-TOKEN": token}, timeout=TIMEOUT)
    except requests.RequestException as error:
        return Call(target, None, type(error).__name__)
    body = response.json() if response.headers.get("Content-Type", "").startswith("application/json") else {}
    return Call(target, response.status_code, str(body.get("code", "")) if response.status_code >= 300 else "")


@dataclass
class ReplayProbe:
    """One token used once on a product replica, then replayed on the other host and through
    the balancer."""

    when: str
    first: Call
    replays: list[Call]


def replay_probe(cluster: Cluster, when: str, *, token: str | None = None, first_at: str = "product1") -> ReplayProbe:
    token = token or billing_token(cluster)
    first = get_products(cluster.replica(first_at).url, token, first_at)
    other = "product2" if first_at == "product1" else "product1"
    replays = [get_products(cluster.replica(other).url, token, other), get_products(cluster.url("product"), token, "balancer")]
    return ReplayProbe(when, first, replays)


def jwks_kids(url: str) -> set[str]:
    response = requests.get(url + "/.well-known/jwks.json", timeout=TIMEOUT)
    response.raise_for_status()
    return {key["kid"] for key in response.json()["keys"]}


# --- The faults ----------------------------------------------------------------------------------


@dataclass
class Fault:
    name: str
    started: float
    recovered: float = 0.0
    after_end: float = 0.0


@dataclass
class Run:
    cluster: Cluster
    load: BillLoad
    buyers: list[Buyer]
    hold: float  # how long each fault lasts before the restart begins
    after: float  # the stretch measured after each recovery
    baseline_seconds: float
    faults: list[Fault] = field(default_factory=list)
    probes: list[ReplayProbe] = field(default_factory=list)
    rotated_kid: str = ""
    old_kid: str = ""
    activation: float = 0.0  # time.monotonic() when the rotated key starts signing
    signing_from: float = 0.0  # the stretch measured with it signing, every fault over
    signing_until: float = 0.0
    jwks_after_rotation: dict[str, set[str]] = field(default_factory=dict)
    new_key_accepted_by: list[Call] = field(default_factory=list)
    deliveries_before: Counter = field(default_factory=Counter)
    deliveries_after: Counter = field(default_factory=Counter)

    def all_ready(self) -> bool:
        try:
            return all(requests.get(self.cluster.url(s) + "/readyz", timeout=2).status_code == 200 for s in ("user", "product", "billing"))
        except requests.RequestException:
            return False

    def _recover_and_measure(self, fault: Fault) -> None:
        wait_for(self.all_ready, timeout=60, what=f"every service ready after: {fault.name}")
        fault.recovered = time.monotonic()
        time.sleep(self.after)  # the load runs on: this stretch is measured
        fault.after_end = time.monotonic()
        self.probes.append(replay_probe(self.cluster, f"after {fault.name}"))

    def _replica_ready(self, replica: Replica) -> bool:
        try:
            return requests.get(replica.url + "/readyz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def kill_replica(self, host: str, name: str, *, while_down=None) -> Fault:
        replica = self.cluster.replica(host)
        fault = Fault(name, time.monotonic())
        replica.kill()
        if while_down:
            while_down()
        time.sleep(self.hold)
        replica.start(ready_timeout=60)
        wait_for(lambda: self._replica_ready(replica), timeout=60, what=f"{host} ready")
        self._recover_and_measure(fault)
        return fault

    def restart_server(self, server: HostedProcess, name: str) -> Fault:
        fault = Fault(name, time.monotonic())
        server.stop()
        time.sleep(self.hold)
        server.start()
        self._recover_and_measure(fault)
        return fault

    def _rotate_billing_key(self) -> None:
        self.old_kid = load_key_ring("billing", self.cluster.keys_dir("billing1")).signing_key.kid
        key = self.cluster.rotate_key("billing")
        self.rotated_kid = key.kid
        self.activation = time.monotonic() + (key.created_at + ACTIVATION_SECONDS - time.time())

    def _billing_publishes_both_keys(self) -> bool:
        sources = {host: self.cluster.replica(host).url for host in ("billing1", "billing2")}
        sources["balancer"] = self.cluster.url("billing")
        self.jwks_after_rotation = {name: jwks_kids(url) for name, url in sources.items()}
        return all(kids == {self.old_kid, self.rotated_kid} for kids in self.jwks_after_rotation.values())

    def play(self) -> None:
        time.sleep(self.baseline_seconds)  # the load runs: the undisturbed stretch
        self.probes.append(replay_probe(self.cluster, "before any fault"))
        # The user service verifies billing's tokens (deliveries): it fetches billing's keys now.
        self.deliveries_before = self.deliver(2)

        self.faults.append(self.kill_replica("billing2", "billing replica SIGKILLed, restarted with a rotated key ring",
                                             while_down=self._rotate_billing_key))
        # Every worker of both billing replicas rereads its key ring within seconds.
        wait_for(self._billing_publishes_both_keys, timeout=20, what="billing's JWKS to publish the rotated key")
        self.faults.append(self.kill_replica("product2", "product replica SIGKILLed, restarted"))

        # A token used before Redis restarts must still be a replay after it.
        used_before = billing_token(self.cluster, ttl=240)
        before = replay_probe(self.cluster, "used before the Redis restart", token=used_before)
        self.faults.append(self.restart_server(self.cluster.redis, "Redis restarted"))
        self.probes.append(ReplayProbe("replayed after the Redis restart", before.first,
                                       [*before.replays, *replay_probe(self.cluster, "", token=used_before, first_at="product2").replays]))

        self.faults.append(self.restart_server(self.cluster.postgres, "PostgreSQL restarted"))

        # The rotated key starts signing: product and user must take billing's tokens signed with
        # a key they have never seen, fetching billing's JWKS through the balancer.
        # Measured once it signs and the last fault is over (a database restart's 503s are not the key's).
        self.signing_from = max(self.activation, time.monotonic())
        time.sleep(self.signing_from - time.monotonic() + self.after)
        self.signing_until = time.monotonic()
        self.new_key_accepted_by = [get_products(self.cluster.replica(h).url, billing_token(self.cluster), h) for h in ("product1", "product2")]
        self.probes.append(replay_probe(self.cluster, "signed with the rotated key"))
        self.deliveries_after = self.deliver(3)

    def deliver(self, count: int) -> Counter:
        """Deliveries of the latest bills: billing -> user (users:read), signed with billing's key."""
        answered = Counter()
        bills = [(self.buyers[o.buyer], o.bill["id"]) for o in list(self.load.orders) if o.bill][-count:]
        for buyer, bill_id in bills:
            response = requests.post(f"{self.cluster.url('billing')}/api/bills/{bill_id}/delivery/", headers=buyer.headers, json={}, timeout=TIMEOUT)
            answered[response.status_code] += 1
        return answered


# --- The billing database, read directly -----------------------------------------------------------


def stored_bills(cluster: Cluster) -> dict:
    """Every bill and every Idempotency-Key record in billing's database."""
    import psycopg

    with psycopg.connect(cluster.database_url("billing"), connect_timeout=5) as connection:
        bills = {row[0]: {"user_id": row[1], "total": str(row[2])} for row in connection.execute("SELECT id, user_id, total FROM bills_bill")}
        records = [{"user_id": r[0], "key": r[1], "state": r[2], "bill_id": r[3]}
                   for r in connection.execute("SELECT user_id, key, state, bill_id FROM bills_idempotencyrecord")]
    return {"bills": bills, "records": records}


# --- Figures -------------------------------------------------------------------------------------


def _row(name: str, stats: dict) -> str:
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(stats["statuses"].items(), key=lambda kv: str(kv[0])))
    p50 = f"{stats['p50_ms']:.0f}" if stats["p50_ms"] is not None else "–"
    return (f"| {name} | {stats['seconds']:.1f} | {stats['served_per_second']:.1f} | {stats['attempts_per_second']:.1f} | "
            f"{p50} | {statuses} |")


def stretches(run: Run) -> list[tuple[str, dict]]:
    load = run.load
    rows = [("undisturbed (before the first fault)", load.window(load.started + 1.0, run.faults[0].started))]
    for fault in run.faults:
        rows.append((f"**{fault.name}**: from the fault until every service is ready", load.window(fault.started, fault.recovered)))
        rows.append((f"the {run.after:.0f} s after that recovery", load.window(fault.recovered, fault.after_end)))
    rows.append((f"{run.after:.0f} s with billing's rotated key signing (its peers fetched it), every fault over",
                 load.window(run.signing_from, run.signing_until)))
    return rows


def report(run: Run, summary: dict) -> str:
    lines = [
        "# Faults under load, on simulated hosts",
        "",
        "Written by the latest `make faults` (the same scenario `make test` runs as root, as",
        "`tests/multihost/test_faults.py`, writing its figures to a temporary file). Seven hosts",
        "(network namespaces on one bridge, 10.217.0.0/24): PostgreSQL and Redis on one, HAProxy on",
        "one, the user service on one, two replicas each of product and billing on hosts of their own;",
        "every peer called through the balancer by address; every replica on a read-only root",
        "filesystem but /tmp. The clients (the test process, 10.217.0.1) are",
        f"{summary['buyers']} buyers placing about {summary['offered_per_second']:.0f} bills a second in all, each",
        "bill under its own Idempotency-Key, each buyer at a steady pace; a buyer sends the same",
        "request with the same key again on 503, 409 or a dropped connection, with backoff. Each",
        f"fault lasts {run.hold:.0f} s before its restart begins. Machine: {summary['machine']}.",
        "",
        "| stretch | seconds | bills served/s | attempts/s | p50 ms (served) | answers |",
        "|---|---:|---:|---:|---:|---|",
        *(_row(name, stats) for name, stats in stretches(run)),
        "",
        "Checked afterwards, every bill against the load generator's record and billing's database:",
        "",
        *(f"- {line}" for line in summary["checks"]),
        "",
        f"Wall time of the whole test (hosts up, load, faults, checks, hosts down): {summary['wall_seconds']:.0f} s.",
        "",
    ]
    return "\n".join(lines)


def write_report(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
