"""Micro-benchmark of the X-MS-TOKEN library, as ratios to the physical floor of the same run.

    .venv/bin/python bench/ms_token_bench.py [--rounds 7] [--n 3000]

- mint vs cryptography's raw Ed25519 ``sign`` of a same-size message (target <= 1.5x)
- verify (every check but the replay store) vs raw Ed25519 verify, libsodium's as the
  verifier's (target <= 1.6x)
- the replay check from a warm connection, median per call, on PostgreSQL and Redis
  (target <= 0.3 ms); ``BENCH_DATABASE_URL`` (default postgres://postgres@127.0.0.1:5432/
  ms_token_bench, created if missing) and ``BENCH_REDIS_URL`` (default redis://127.0.0.1:6379/15)

Raw and library loops alternate round by round so both see the same machine; the per-call
figure of each is the median over rounds.
"""
from __future__ import annotations

import argparse
import os
import platform
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

from cpu_meter import cpu_model

REPO = Path(__file__).resolve().parents[1]

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/ms_token_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"


def configure(database_url: str) -> None:
    os.environ["PRODUCT_DATABASE_URL"] = database_url
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django
    from django.conf import settings

    from ms_token.testing import create_keys
    from service_kit.conf import common_settings

    keys_dir = create_keys(Path(tempfile.mkdtemp(prefix="ms-token-bench-keys-")), "user", "product", "billing")
    os.environ["MS_KEYS_DIR"] = str(keys_dir)
    values = common_settings(service="product", base_dir=REPO / "bench")
    values["MS_TOKEN"]["TRUSTED_ISSUERS"] = {"billing": ["products:read"]}
    values["ROOT_URLCONF"] = "service_kit.urls"
    settings.configure(**values)
    django.setup()


def ensure_database(url: str) -> None:
    """Create the bench database if it is missing (PostgreSQL only)."""
    import dj_database_url
    from psycopg import sql

    from shopdev.processes import postgres_admin

    name = dj_database_url.parse(url)["NAME"]
    with postgres_admin(url) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def per_call(fn, n: int) -> float:
    """Seconds per call of ``fn`` over ``n`` calls."""
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


def compare(raw, lib, *, rounds: int, n: int) -> tuple[float, float]:
    raw_times, lib_times = [], []
    per_call(raw, n // 10)
    per_call(lib, n // 10)  # warm caches (key lookup, header) before measuring
    for _ in range(rounds):
        raw_times.append(per_call(raw, n))
        lib_times.append(per_call(lib, n))
    return statistics.median(raw_times), statistics.median(lib_times)


def latencies(fn, n: int) -> list[float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter_ns()
        fn()
        samples.append((time.perf_counter_ns() - start) / 1e6)
    return samples


def machine() -> str:
    import cryptography
    from cryptography.hazmat.backends.openssl.backend import backend

    return (
        f"{os.cpu_count()} CPUs ({cpu_model()}), Python {platform.python_version()}, "
        f"cryptography {cryptography.__version__} ({backend.openssl_version_text()})"
    )


def replay_line(name: str, store, n: int) -> str:
    now = int(time.time())
    prefix = secrets.token_hex(4)
    counter = iter(range(10**9))
    store.ping()  # warm connection
    for _ in range(50):
        store.claim(f"bench:{prefix}-warm-{next(counter)}", now + 60)
    samples = latencies(lambda: store.claim(f"bench:{prefix}-{next(counter)}", now + 60), n)
    twice = f"bench:{prefix}-twice"
    replayed = store.claim(twice, now + 60) and not store.claim(twice, now + 60)
    median = statistics.median(samples)
    p99 = statistics.quantiles(samples, n=100)[98]
    verdict = "ok" if median <= 0.3 and replayed else "OVER TARGET"
    return (
        f"replay check, {name:<10}: median {median:.3f} ms, p99 {p99:.3f} ms "
        f"(target <= 0.300 ms median) {verdict}; second claim refused: {replayed}"
    )


def raw_insert_line(store, n: int) -> str:
    """(reference) The replay store's own INSERT sent through psycopg directly, on a connection
    of its own: what the claim costs without Django's cursor path around it."""
    import psycopg
    from django.db import connections

    connection = connections[store.alias]
    sql = store._insert_sql(connection)
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    now = int(time.time())
    prefix = secrets.token_hex(4)
    counter = iter(range(10**9))
    with psycopg.connect(**params, autocommit=True) as raw:
        for _ in range(50):
            raw.execute(sql, (f"bench:{prefix}-warm-{next(counter)}", now + 60))
        samples = latencies(lambda: raw.execute(sql, (f"bench:{prefix}-{next(counter)}", now + 60)), n)
    return f"(reference) same INSERT via psycopg directly: median {statistics.median(samples):.3f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--n", type=int, default=3000, help="calls per round")
    args = parser.parse_args()

    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL)
    configure(database_url)

    from ms_token.keys import load_key_ring
    from ms_token.replay import DatabaseReplayStore, RedisReplayStore
    from ms_token.tokens import mint
    from ms_token.verification import verify
    from service_kit.testing import preload_peer_keys

    preload_peer_keys("billing")
    key = load_key_ring("billing").signing_key
    print(f"machine: {machine()}")

    path = "/api/products/"
    sample = mint("product", "products:read", "GET", path, issuer="billing", key=key)
    signing_input = sample.rsplit(".", 1)[0].encode()
    signature = key.private_key.sign(signing_input)

    raw, lib = compare(
        lambda: key.private_key.sign(signing_input),
        lambda: mint("product", "products:read", "GET", path, issuer="billing", key=key),
        rounds=args.rounds,
        n=args.n,
    )
    print(f"mint:   {lib * 1e6:7.1f} us vs raw sign   {raw * 1e6:6.1f} us -> {lib / raw:.2f}x (target <= 1.5x)")

    from nacl.bindings import crypto_sign_open  # the verifier's own primitive (libsodium)

    public_key, public_bytes = key.public_key, key.public_bytes
    raw, lib = compare(
        lambda: crypto_sign_open(signature + signing_input, public_bytes),
        lambda: verify(sample, method="GET", path=path, body=b""),
        rounds=args.rounds,
        n=args.n,
    )
    print(f"verify: {lib * 1e6:7.1f} us vs raw verify {raw * 1e6:6.1f} us -> {lib / raw:.2f}x (target <= 1.6x)")

    import jwt  # for reference only: PyJWT's decode (OpenSSL's Ed25519) with far fewer checks

    openssl, pyjwt = compare(
        lambda: public_key.verify(signature, signing_input),
        lambda: jwt.decode(sample, public_key, algorithms=["EdDSA"], audience="product"),
        rounds=args.rounds,
        n=args.n,
    )
    print(f"(reference) OpenSSL's raw verify: {openssl * 1e6:6.1f} us; PyJWT decode: {pyjwt * 1e6:6.1f} us")

    try:
        ensure_database(database_url)
        from django.core.management import call_command

        call_command("migrate", "ms_token", verbosity=0)
        store = DatabaseReplayStore("default")
        print(replay_line("PostgreSQL", store, args.n))
        print(raw_insert_line(store, args.n))
    except Exception as error:  # report and go on: the other figures still stand
        print(f"replay check, PostgreSQL: not measured ({error.__class__.__name__}: {error})")
    try:
        print(replay_line("Redis", RedisReplayStore(redis_url), args.n))
    except Exception as error:
        print(f"replay check, Redis     : not measured ({error.__class__.__name__}: {error})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
