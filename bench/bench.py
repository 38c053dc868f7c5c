#!/usr/bin/env python
"""`make bench`: what service authentication costs, billing -> product, from one run.

Starts user, product and billing under gunicorn (2 workers x 4 threads, keep-alive) on
PostgreSQL (databases bench_user, bench_product, bench_billing on BENCH_PG_URL's server, created
and dropped here; BENCH_DB_PREFIX names them otherwise, for runs side by side on one server), with bench-only endpoints mounted by settings overlays (bench/shopbench,
bench/bench_*_settings.py): product serves one small catalogue read behind four kinds of
authentication, billing makes one call to it per request (a GET with a query string, ?ids=1,2,3,
as billing's real read of product has: the X-MS-TOKEN binds it) and times the call itself.

    none     no authentication
    static   a static shared token compared in constant time (the article's first design)
    fetched  a token fetched from the token service (user, POST /api/service-tokens/) before
             every call (the article's second design): billing's ServiceClient with
             TokenServiceTokenSource, as MS_TOKEN_SOURCE=token-service gives it (issue 6)
    xms      X-MS-TOKEN as built: billing signs a fresh single-use token per call; product's
             replay store is its database (the default)
    xms-redis  the same with the Redis replay store (MS_REPLAY_CACHE=redis://...)

Every mode goes through billing's ServiceClient, so the figures differ by authentication alone.
The summary line is for "xms" (the default store); the Redis store's ratios follow it. Every
service records its metrics (GET /metrics) in every mode, as deployed.

none+traces and xms+traces: none and xms through a second billing and product (replicas on the
same databases and keys) that export every span (OTEL_TRACES_EXPORTER=otlp, OpenTelemetry's
default batching) to an OTLP receiver on loopback in this process, which decodes and counts them.
Their ratios are to none+traces: what X-MS-TOKEN costs when traces are exported too.

product's bench views refuse a token of the other source (403), so each mode measures the
source it names.

For 1 and 8 concurrent callers, modes interleaved round by round: p50/p99 latency of the
billing -> product call (measured in billing) and throughput (calls/s), each as a ratio to
"none"; at 8 callers also the CPU each part of the system (callers, each service, PostgreSQL,
Redis) spends per call, which says where a mode's throughput goes (bench/cpu_meter.py). Then the
micro costs of minting and verifying one token (bench/ms_token_bench.py).
Ends with one line for scripts:
    bench: xms_throughput_ratio_conc8=<x> xms_p50_ratio_seq=<y> xms_vs_fetch_throughput=<z>
and writes the results as Markdown (--write) and as a picture (--picture, bench/bench_plot.py).
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

from bench_plot import draw
from cpu_meter import CpuMeter, cpu_model
from shopdev.otlp import OTLPReceiver

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"

MODES = ("none", "static", "fetched", "xms", "xms-redis")
# Measured again through a billing and a product that export their spans: "<mode>+traces".
TRACED = ("none", "xms")
TRACES = "+traces"
CONCURRENCY = (1, 8)
SERVICES = ("user", "product", "billing")
DB_PREFIX = os.environ.get("BENCH_DB_PREFIX", "bench")
MICRO_DATABASE = f"{DB_PREFIX}_ms_token"
TARGETS = {"xms_throughput_ratio_conc8": (">=", 0.85), "xms_p50_ratio_seq": ("<=", 1.35), "xms_vs_fetch_throughput": (">=", 2.0)}


def machine() -> str:
    return f"{os.cpu_count()} CPUs (nproc), {cpu_model()}, Python {platform.python_version()}, {platform.system()} {platform.release()}"


# --- databases ---------------------------------------------------------------------------------

def use_bench_databases(server_url: str) -> None:
    """Point fresh_database_url at PostgreSQL: it drops and creates <DB_PREFIX>_<service> there."""
    for service in SERVICES:
        os.environ[f"{service.upper()}_DATABASE_URL"] = f"{server_url.rstrip('/')}/{DB_PREFIX}_{service}"


def drop_bench_databases(server_url: str, names: list[str] | None = None) -> None:
    from psycopg import sql

    from shopdev.processes import postgres_admin

    with postgres_admin(server_url) as admin:
        for name in names or [f"{DB_PREFIX}_{service}" for service in SERVICES]:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# --- load --------------------------------------------------------------------------------------

class Segment:
    """``concurrency`` callers hitting billing's /bench/call/<mode>/ for ``seconds``."""

    def __init__(self, billing_url: str, mode: str, concurrency: int, seconds: float, meter: CpuMeter | None = None) -> None:
        self.url = f"{billing_url}/bench/call/{mode}/"
        self.concurrency = concurrency
        self.seconds = seconds
        self.call_us: list[int] = []
        self.failures: list[str] = []
        self.elapsed = 0.0
        self.started = 0.0
        self.meter = meter
        self._cpu_before: dict = {}
        self._cpu_after: dict = {}
        self._lock = threading.Lock()

    def _caller(self, barrier: threading.Barrier) -> None:
        samples, failures = [], []
        try:
            session = requests.Session()
            session.trust_env = False
            session.get(self.url.split("/bench/")[0] + "/healthz", timeout=10)  # connected before the clock
            barrier.wait(timeout=30)
            deadline = self.started + self.seconds
            while time.perf_counter() < deadline:
                response = session.get(self.url, timeout=30)
                body = response.json()
                if response.status_code != 200 or body.get("status") != 200:
                    failures.append(f"{response.status_code} {body}")
                    if len(failures) > 20:
                        break
                    continue
                samples.append(body["us"])
        except (requests.RequestException, ValueError, threading.BrokenBarrierError) as exc:
            # A caller that stops early would make the segment look slower than it was: the
            # run fails instead of publishing that figure.
            barrier.abort()
            failures.append(f"caller stopped: {exc!r}")
        finally:
            with self._lock:
                self.call_us.extend(samples)
                self.failures.extend(failures)

    def run(self) -> "Segment":
        # The clock starts once every caller is connected (the last one through the barrier).
        barrier = threading.Barrier(self.concurrency, action=self._start_clock)
        threads = [threading.Thread(target=self._caller, args=(barrier,), daemon=True) for _ in range(self.concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(self.seconds + 60)
        if any(thread.is_alive() for thread in threads):
            self.failures.append("a caller did not finish in time")
        self.elapsed = time.perf_counter() - self.started
        if self.meter:
            self._cpu_after = self.meter.read()
        return self

    def _start_clock(self) -> None:
        if self.meter:
            self._cpu_before = self.meter.read()
        self.started = time.perf_counter()

    @property
    def cpu_per_call(self) -> dict[str, float]:
        """µs of CPU per call by part of the system (cpu_meter.py); empty without a meter."""
        return CpuMeter.per_call(self._cpu_before, self._cpu_after, len(self.call_us))

    @property
    def throughput(self) -> float:
        return len(self.call_us) / self.elapsed if self.elapsed else 0.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def available_modes(billing_url: str, candidates=MODES) -> list[str]:
    modes = []
    for mode in candidates:
        response = requests.get(f"{billing_url}/bench/call/{mode}/", timeout=30)
        if response.status_code == 200 and response.json().get("status") == 200:
            modes.append(mode)
        else:
            print(f"  mode {mode}: not measured ({response.status_code} {response.text[:200]})", flush=True)
    return modes


# --- micro costs -------------------------------------------------------------------------------

def micro_costs(rounds: int, n: int, server_url: str) -> tuple[list[str], dict[str, float]]:
    """bench/ms_token_bench.py's figures (it owns them): mint, verify, replay store, the last on
    a database of the same server as the HTTP runs (dropped with theirs)."""
    result = subprocess.run(
        [sys.executable, str(BENCH / "ms_token_bench.py"), "--rounds", str(rounds), "--n", str(n)],
        capture_output=True, text=True, timeout=600, cwd=REPO,
        env={**os.environ, "BENCH_DATABASE_URL": f"{server_url.rstrip('/')}/{MICRO_DATABASE}"},
    )
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    figures: dict[str, float] = {}
    for line in lines:
        if match := re.match(r"mint:\s+([\d.]+) us", line):
            figures["mint_us"] = float(match[1])
        elif match := re.match(r"verify:\s+([\d.]+) us", line):
            figures["verify_us"] = float(match[1])
        elif match := re.match(r"replay check, PostgreSQL\s*: median ([\d.]+) ms", line):
            figures["replay_pg_us"] = float(match[1]) * 1000
        elif match := re.match(r"replay check, Redis\s*: median ([\d.]+) ms", line):
            figures["replay_redis_us"] = float(match[1]) * 1000
    if result.returncode != 0 and not figures:
        lines.append(f"(ms_token_bench.py failed: {result.stderr[-500:]})")
    return lines, figures


# --- the run -----------------------------------------------------------------------------------

def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0, help="per segment")
    parser.add_argument("--rounds", type=int, default=5, help="each mode x concurrency this many times, interleaved")
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--write", type=Path, help="also write the results as Markdown to this file")
    parser.add_argument("--picture", type=Path, help="also draw throughput and latency to this SVG (or PNG) file")
    args = parser.parse_args(argv)

    use_bench_databases(args.pg)
    load_before = load_average()
    if os.getloadavg()[0] > 1.0:
        print(f"WARNING: the machine is busy (load average {load_before}): ratios will be noisy", flush=True)
    spans = OTLPReceiver(keep=False).start()
    with tempfile.TemporaryDirectory(prefix="shop-bench-") as tmp:
        shop = bench_shop(Path(tmp))
        try:
            print(f"machine: {machine()}", flush=True)
            print("starting user, product, billing under gunicorn (2 workers x 4 threads) on PostgreSQL ...", flush=True)
            start_bench_shop(shop)
            billing = shop.url("billing")
            targets = {mode: (billing, mode) for mode in available_modes(billing)}
            meter = CpuMeter({service: shop.services[service].process.pid for service in SERVICES})
            print("starting a billing and a product that export their spans ...", flush=True)
            traced_billing, traced_meter = start_traced_pair(shop, spans)
            targets.update({mode + TRACES: (traced_billing, mode) for mode in available_modes(traced_billing, TRACED)})
            meters = {mode: traced_meter if mode.endswith(TRACES) else meter for mode in targets}
            modes = list(targets)
            for url, mode in targets.values():
                warm(url, [mode])
            results: dict[tuple[str, int], list[Segment]] = {}
            for round_number in range(args.rounds):
                order = modes[round_number % len(modes):] + modes[: round_number % len(modes)]
                for concurrency in CONCURRENCY:
                    for mode in order:
                        url, served_as = targets[mode]
                        segment = Segment(url, served_as, concurrency, args.seconds, meters[mode]).run()
                        if segment.failures:
                            print(f"FAILED calls in {mode} x{concurrency}: {segment.failures[:3]}", file=sys.stderr)
                            return 1
                        results.setdefault((mode, concurrency), []).append(segment)
                print(f"  round {round_number + 1}/{args.rounds} done", flush=True)
        finally:
            shop.stop()
            spans.stop()
            drop_bench_databases(args.pg)

    load_after = load_average()
    try:
        micro_lines, micro = micro_costs(rounds=3, n=2000, server_url=args.pg)
    finally:
        drop_bench_databases(args.pg, [MICRO_DATABASE])
    return report(results, modes, micro_lines, micro, args, load=f"{load_before} before, {load_after} after the HTTP runs",
                  spans=spans.count)


def bench_shop(work_dir: Path):
    """The three services with the bench endpoints mounted (not started)."""
    from shopdev.shop import Shop, python_path_with

    return Shop(
        work_dir,
        db_prefix=DB_PREFIX,
        workers=2,
        threads=4,
        env={
            "PYTHONPATH": python_path_with(BENCH),
            "BENCH_STATIC_TOKEN": secrets.token_urlsafe(32),
            "LOGIN_THROTTLE_RATE": "100000/min",
        },
        settings_modules={"product": "bench_product_settings", "billing": "bench_billing_settings"},
    )


def start_bench_shop(shop) -> None:
    shop.start()
    shop.manage("product", "seed_demo", env={"DEMO_ADMIN_PASSWORD": secrets.token_urlsafe(12)})
    prepare_token_service(shop)


def start_traced_pair(shop, receiver: OTLPReceiver) -> tuple[str, CpuMeter]:
    """A product and a billing calling it, both exporting every span to ``receiver`` with
    OpenTelemetry's default batching: billing's URL, and a meter of their processes."""
    env = {**receiver.env}
    env.pop("OTEL_BSP_SCHEDULE_DELAY")  # the default, as deployed
    product = shop.replica("product", env=env, workers=2)
    billing = shop.replica("billing", env={**env, "PRODUCT_SERVICE_URL": product.url}, workers=2)
    user = shop.services["user"].process.pid
    return billing.url, CpuMeter({"billing": billing.process.pid, "product": product.process.pid, "user": user})


def warm(billing_url: str, modes: list[str]) -> None:
    """Connections, key caches, JWKS fetches."""
    for mode in modes:
        Segment(billing_url, mode, 2, 1.0).run()


def prepare_token_service(shop) -> None:
    """The user service's demo data. The token service's grant billing -> product products:read
    comes with its migrations (service_tokens 0002_default_grants); without it the 'fetched'
    mode answers 503 and reports itself unavailable."""
    shop.manage("user", "seed_demo", env={"DEMO_STAFF_PASSWORD": secrets.token_urlsafe(12)})


def load_average() -> str:
    """1, 5 and 15 minute load averages: other work on this 2-CPU box shifts every figure."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


CPU_PARTS = ("callers", "billing", "product", "user", "postgres", "redis")


def cpu_table(results, modes, concurrency: int = max(CONCURRENCY)) -> list[str]:
    """Where each mode's CPU goes at ``concurrency`` callers: µs per call by part of the system,
    the median over rounds. The CPUs are nearly all busy there, so a mode's throughput ratio to
    "none" is about the inverse ratio of their totals."""
    rows = {}
    for mode in modes:
        readings = [s.cpu_per_call for s in results.get((mode, concurrency), []) if s.cpu_per_call]
        if readings:
            rows[mode] = {key: statistics.median(r[key] for r in readings) for key in (*CPU_PARTS, "total", "busy %", "steal %")}
    if not rows:
        return []
    lines = [
        "",
        f"CPU per call with {concurrency} callers, µs, by part of the system (bench/cpu_meter.py; median over rounds;"
        f" callers = this load generator, and for the {TRACES} modes the OTLP receiver too):",
        "",
        "| auth | " + " | ".join(CPU_PARTS) + " | total | CPUs busy | stolen |",
        "|---|" + "---:|" * (len(CPU_PARTS) + 3),
    ]
    for mode, row in rows.items():
        lines.append(
            f"| {mode} | " + " | ".join(f"{round(row[part])}" for part in CPU_PARTS) + f" | {round(row['total'])} | {row['busy %']:.0f} % | {row['steal %']:.0f} % |"
        )
    for mode in ("xms", "xms-redis", "xms" + TRACES):
        base = base_of(mode)
        if mode in rows and base in rows:
            lines.append(
                f"| {mode} - {base} | "
                + " | ".join(f"{round(rows[mode][part] - rows[base][part]):+d}" for part in CPU_PARTS)
                + f" | {round(rows[mode]['total'] - rows[base]['total']):+d} | | |"
            )
    return lines


def base_of(mode: str) -> str:
    """What a mode's ratios are to: "none", or "none+traces" for a mode with traces exported."""
    return "none" + TRACES if mode.endswith(TRACES) else "none"


def report(results, modes, micro_lines, micro, args, *, load: str, spans: int) -> int:
    rows = {}
    for (mode, concurrency), segments in results.items():
        samples = [us for s in segments for us in s.call_us]
        rows[(mode, concurrency)] = {
            "p50": percentile(samples, 0.50) / 1000,
            "p99": percentile(samples, 0.99) / 1000,
            "rps": statistics.median(s.throughput for s in segments),
            "n": len(samples),
        }

    def paired(mode: str, base: str, concurrency: int, stat: str) -> float:
        """Median over rounds of mode/base, each round against its own base segment: a slow
        stretch of the machine (it has 2 CPUs, shared with PostgreSQL and the load) then
        weighs on both sides of a ratio instead of on whichever mode it happened to hit."""
        ours, theirs = results.get((mode, concurrency)), results.get((base, concurrency))
        if not ours or not theirs:
            return float("nan")
        value = {
            "rps": lambda s: s.throughput,
            "p50": lambda s: percentile(s.call_us, 0.50),
        }[stat]
        return statistics.median(value(a) / value(b) for a, b in zip(ours, theirs))
    lines = [
        f"machine: {machine()}",
        f"setup: gunicorn 2 workers x 4 threads per service, PostgreSQL, {args.rounds} rounds x {args.seconds:.0f} s per cell, modes interleaved",
        f"load average (1/5/15 min): {load}",
        "",
        "ratios: the median over rounds of each round's ratio to that round's own segment of the base"
        f" (none; none{TRACES} for the modes with traces exported)",
        "",
        "| auth | callers | p50 ms | p99 ms | calls/s | p50 / none | calls/s / none | calls |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for concurrency in CONCURRENCY:
        for mode in modes:
            row = rows[(mode, concurrency)]
            lines.append(
                f"| {mode} | {concurrency} | {row['p50']:.2f} | {row['p99']:.2f} | {row['rps']:.0f} | "
                f"{paired(mode, base_of(mode), concurrency, 'p50'):.2f} | {paired(mode, base_of(mode), concurrency, 'rps'):.2f} | {row['n']} |"
            )
    lines += cpu_table(results, modes)
    lines += ["", "X-MS-TOKEN micro costs (bench/ms_token_bench.py):"]
    lines += [f"    {line}" for line in micro_lines]
    if micro:
        lines.append(
            "    per call: mint {mint} + verify {verify} + replay store {replay} (PostgreSQL) µs".format(
                mint=f"{micro.get('mint_us', float('nan')):.0f}",
                verify=f"{micro.get('verify_us', float('nan')):.0f}",
                replay=f"{micro.get('replay_pg_us', float('nan')):.0f}",
            )
        )

    summary = {
        "xms_throughput_ratio_conc8": paired("xms", "none", 8, "rps"),
        "xms_p50_ratio_seq": paired("xms", "none", 1, "p50"),
        "xms_vs_fetch_throughput": paired("xms", "fetched", 8, "rps"),
    }
    lines.append("")
    for mode in MODES:
        if mode not in modes:
            lines.append(f"mode {mode!r} not measured in this run: its endpoint or token source did not answer 200")
    for name, value in summary.items():
        op, target = TARGETS[name]
        met = value == value and (value >= target if op == ">=" else value <= target)
        lines.append(f"target {name} {op} {target}: {value:.2f} {'met' if met else 'NOT MET'}")
    with_redis = {
        "throughput_ratio_conc8": paired("xms-redis", "none", 8, "rps"),
        "p50_ratio_seq": paired("xms-redis", "none", 1, "p50"),
        "vs_fetch_throughput": paired("xms-redis", "fetched", 8, "rps"),
    }
    lines.append(
        "with the Redis replay store (xms-redis): "
        + " ".join(f"{name}={value:.2f}" for name, value in with_redis.items())
    )
    with_traces = {
        "throughput_ratio_conc8": paired("xms" + TRACES, "none" + TRACES, 8, "rps"),
        "p50_ratio_seq": paired("xms" + TRACES, "none" + TRACES, 1, "p50"),
    }
    lines.append(
        f"with traces exported (xms{TRACES} to none{TRACES}; {spans} spans received): "
        + " ".join(f"{name}={value:.2f}" for name, value in with_traces.items())
        + f"; exporting itself costs none{TRACES}/none throughput_conc8={paired('none' + TRACES, 'none', 8, 'rps'):.2f}"
    )
    final = "bench: " + " ".join(f"{name}={value:.2f}" for name, value in summary.items())
    print("\n".join(lines))
    if args.write:
        args.write.write_text(
            "# `make bench` results\n\nBilling -> product calls, four ways of authenticating (X-MS-TOKEN with either replay store); the latest run "
            "(`make bench`, see bench/bench.py for the method).\n\n```\n" + "\n".join(lines[:3]) + "\n```\n\n"
            + "\n".join(lines[3:]) + f"\n\n```\n{final}\n```\n"
        )
    if args.picture:
        draw(rows, modes, CONCURRENCY, args.picture,
             title=f"billing -> product under gunicorn on PostgreSQL (make bench), {machine()}\nload average: {load}")
    print(final)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
