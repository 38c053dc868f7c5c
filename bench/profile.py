#!/usr/bin/env python
"""Where the time of a `make bench` mode goes: py-spy on product and billing while one mode runs.

    .venv/bin/python bench/profile.py [--modes none xms] [--concurrency 8] [--seconds 8]
        [--py-spy PATH] [--out DIR]

The same shop as bench/bench.py (gunicorn 2 x 4, PostgreSQL). For each mode in turn: load at
``--concurrency`` callers while ``py-spy record --subprocesses --nonblocking`` samples both
services' gunicorn processes (active threads only, 250 Hz). Then, per service and mode, the
functions (inclusive) that cost the most, in CPU microseconds per billing -> product call
(samples / 250 Hz / calls made), and the difference xms - none for the same function. py-spy is
not a dependency of the project (`pip install py-spy` anywhere; pass its path).
"""
from __future__ import annotations

import argparse
import collections
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import Segment, percentile, available_modes, bench_shop, drop_bench_databases, start_bench_shop, use_bench_databases, warm

RATE = 250
PROFILED = ("product", "billing")
# Frames counted as one name: file basename + function, e.g. "verification.py:verify".
TOP = 25


def record(pids: dict[str, int], seconds: float, out_dir: Path, py_spy: str) -> dict[str, subprocess.Popen]:
    recorders = {}
    for service, pid in pids.items():
        recorders[service] = subprocess.Popen(
            [py_spy, "record", "--pid", str(pid), "--subprocesses", "--nonblocking", "--rate", str(RATE),
             "--duration", str(int(seconds) + 1), "--format", "raw", "--output", str(out_dir / f"{service}.txt")],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
    return recorders


def inclusive_us(raw_file: Path, calls: int) -> dict[str, float]:
    """µs of CPU per call spent in (or under) each function, from py-spy's collapsed stacks."""
    totals: collections.Counter[str] = collections.Counter()
    for line in raw_file.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        names = set()
        for frame in stack.split(";"):
            # "function (path/to/file.py:line)" -> "file.py:function"
            function, _, where = frame.partition(" (")
            names.add(f"{Path(where.split(':')[0]).name}:{function}" if where else function)
        for name in names:
            totals[name] += int(count)
    return {name: samples / RATE * 1e6 / max(calls, 1) for name, samples in totals.items()}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modes", nargs="+", default=["none", "xms-noreplay", "xms"],
                        help="xms-noreplay: every check but the replay store (diagnostic)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--py-spy", default=shutil.which("py-spy") or "py-spy")
    parser.add_argument("--out", type=Path, help="keep py-spy's raw stacks here")
    parser.add_argument("--no-profile", action="store_true", help="only time the modes (py-spy itself takes CPU)")
    args = parser.parse_args(argv)

    use_bench_databases(args.pg)
    figures: dict[tuple[str, str], dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="shop-profile-") as tmp:
        out_root = args.out or Path(tmp) / "profiles"
        shop = bench_shop(Path(tmp))
        try:
            start_bench_shop(shop)
            billing = shop.url("billing")
            modes = available_modes(billing, args.modes)
            warm(billing, modes)
            pids = {service: shop.services[service].process.pid for service in PROFILED}
            for mode in modes:
                out_dir = out_root / mode
                out_dir.mkdir(parents=True, exist_ok=True)
                recorders = {} if args.no_profile else record(pids, args.seconds, out_dir, args.py_spy)
                segment = Segment(billing, mode, args.concurrency, args.seconds).run()
                for service, recorder in recorders.items():
                    _, errors = recorder.communicate(timeout=60)
                    if recorder.returncode != 0:
                        print(f"py-spy on {service} failed: {errors.decode()[-500:]}", file=sys.stderr)
                        return 1
                calls = len(segment.call_us)
                if args.no_profile:
                    print(f"{mode} x{args.concurrency}: {calls} calls, {segment.throughput:.0f} calls/s, "
                          f"p50 {percentile(segment.call_us, 0.5) / 1000:.2f} ms", flush=True)
                    continue
                print(
                    f"{mode} x{args.concurrency}: {calls} calls, {segment.throughput:.0f} calls/s, "
                    f"p50 {percentile(segment.call_us, 0.5) / 1000:.2f} ms (under py-spy)",
                    flush=True,
                )
                for service in PROFILED:
                    figures[(service, mode)] = inclusive_us(out_dir / f"{service}.txt", calls)
        finally:
            shop.stop()
            drop_bench_databases(args.pg)

    if args.no_profile:
        return 0
    for service in PROFILED:
        for mode in modes:
            table = figures[(service, mode)]
            print(f"\n{service}, mode {mode}: CPU µs per call, inclusive (top {TOP})")
            for name, us in sorted(table.items(), key=lambda item: -item[1])[:TOP]:
                print(f"  {us:8.0f}  {name}")
        if "none" in modes:
            base = figures[(service, "none")]
            for mode in modes:
                if mode == "none":
                    continue
                table = figures[(service, mode)]
                extra = {name: us - base.get(name, 0.0) for name, us in table.items()}
                print(f"\n{service}, {mode} - none: extra CPU µs per call (top {TOP})")
                for name, us in sorted(extra.items(), key=lambda item: -item[1])[:TOP]:
                    print(f"  {us:8.0f}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
