#!/usr/bin/env python
"""Run the static checks and every test suite, each in its own process with its own settings,
and sum the results. ``run_tests.py [name ...]`` runs only the named checks and suites.

A suite that runs no test fails: a green run must mean tests ran.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SUITES = [
    ("ms_token", REPO / "libs" / "ms_token"),
    ("service_kit", REPO / "libs" / "service_kit"),
    ("user", REPO / "user_project"),
    ("product", REPO / "product_project"),
    ("billing", REPO / "billing_project"),
    ("system", REPO / "tests"),
]
PROJECTS = ["user_project", "product_project", "billing_project"]
BIN = Path(sys.executable).parent
# (name, command, working directory, extra environment): each must exit 0.
CHECKS = [
    # The lines between the libraries and the projects (.importlinter); the projects are not
    # installed packages, so their directories go on the path for the analysis only.
    ("imports", [str(BIN / "lint-imports")], REPO,
     {"PYTHONPATH": os.pathsep.join(str(REPO / project) for project in PROJECTS)}),
    # The library is typed (py.typed): mypy --strict with django-stubs and DRF's stubs.
    ("types", [str(BIN / "mypy")], REPO / "libs" / "ms_token", {}),
]


def _counts(report: Path) -> tuple[int, int, int]:
    """(passed, failed, skipped) from a JUnit XML report."""
    if not report.exists():
        return 0, 0, 0
    root = ET.parse(report).getroot()
    suites = [root] if root.tag == "testsuite" else list(root)
    tests = failed = skipped = 0
    for suite in suites:
        tests += int(suite.get("tests", 0))
        failed += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped += int(suite.get("skipped", 0))
    return tests - failed - skipped, failed, skipped


def main(argv: list[str]) -> int:
    known = [name for name, *_ in CHECKS + SUITES]
    unknown = sorted(set(argv) - set(known))
    if unknown:
        # A typo must not make a green run of nothing.
        print(f"unknown check or suite: {', '.join(unknown)} (known: {' '.join(known)})", file=sys.stderr)
        return 2
    wanted = set(argv) or set(known)
    totals = [0, 0, 0]
    broken: list[str] = []
    for name, command, directory, env in CHECKS:
        if name not in wanted:
            continue
        print(f"\n==> {name} check: {' '.join(Path(part).name for part in command)}", flush=True)
        code = subprocess.call(command, cwd=directory, env={**os.environ, **env})
        if code != 0:
            broken.append(f"{name} check (exit {code})")
    with tempfile.TemporaryDirectory() as tmp:
        for name, directory in SUITES:
            if name not in wanted:
                continue
            print(f"\n==> {name} tests ({directory.relative_to(REPO)})", flush=True)
            report = Path(tmp) / f"{name}.xml"
            code = subprocess.call(
                [sys.executable, "-m", "pytest", f"--junitxml={report}", "-q"], cwd=directory
            )
            passed, failed, skipped = _counts(report)
            totals[0] += passed
            totals[1] += failed
            totals[2] += skipped
            if code != 0 or passed == 0:
                broken.append(f"{name} (exit {code}, {passed} passed)")
    print()
    if broken:
        print("failed suites: " + ", ".join(broken))
    print(f"tests: {totals[0]} passed, {totals[1]} failed, {totals[2]} skipped")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
