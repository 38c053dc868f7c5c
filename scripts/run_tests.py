#!/usr/bin/env python
"""Run every test suite, each in its own process with its own settings, and sum the results.

A suite that runs no test fails: a green run must mean tests ran.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SUITES = [
    ("libs", REPO / "libs"),
    ("user", REPO / "user_project"),
    ("product", REPO / "product_project"),
    ("billing", REPO / "billing_project"),
    ("system", REPO / "tests"),
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
    wanted = set(argv) or {name for name, _ in SUITES}
    totals = [0, 0, 0]
    broken: list[str] = []
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
