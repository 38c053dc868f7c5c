"""scripts/ensure_debian_packages.sh, which `make test` runs first: installs the Debian packages
the suites need when it can (root, apt-get), else stops with the one command to run.

dpkg-query, id and apt-get are stand-ins on PATH: the real ones would change this machine.
"""
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "ensure_debian_packages.sh"

FAKE_DPKG_QUERY = """#!/bin/sh
# dpkg-query -W -f='${Status}' PACKAGE: installed when listed in $INSTALLED
for name in $INSTALLED; do
  [ "$name" = "$3" ] && { printf 'install ok installed'; exit 0; }
done
echo "dpkg-query: no packages found matching $3" >&2
exit 1
"""
FAKE_ID = """#!/bin/sh
echo "$FAKE_UID"
"""
FAKE_APT_GET = """#!/bin/sh
echo "$*" >> "$APT_LOG"
"""


def run(tmp_path, *, installed, uid, apt=True, packages=("chromium", "chromium-driver")):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fakes = {"dpkg-query": FAKE_DPKG_QUERY, "id": FAKE_ID}
    if apt:
        fakes["apt-get"] = FAKE_APT_GET
    for name, text in fakes.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    log = tmp_path / "apt.log"
    env = {"PATH": str(bin_dir), "INSTALLED": " ".join(installed), "FAKE_UID": str(uid), "APT_LOG": str(log)}
    result = subprocess.run(["/bin/sh", str(SCRIPT), *packages], env=env, capture_output=True, text=True, timeout=30)
    return result, (log.read_text().splitlines() if log.exists() else [])


def test_nothing_to_do_when_every_package_is_installed(tmp_path):
    result, apt = run(tmp_path, installed=["chromium", "chromium-driver"], uid=1000)
    assert result.returncode == 0 and apt == [] and result.stderr == ""


def test_as_root_the_missing_packages_are_installed_with_apt_get(tmp_path):
    result, apt = run(tmp_path, installed=["chromium"], uid=0)
    assert result.returncode == 0, result.stderr
    assert apt[0].endswith("update -qq")
    assert apt[1].endswith("install -y -qq chromium-driver")  # only what is missing


@pytest.mark.parametrize("apt", [True, False], ids=["apt-get", "no apt-get"])
def test_otherwise_one_line_names_the_command_and_the_run_stops(tmp_path, apt):
    result, calls = run(tmp_path, installed=[], uid=1000, apt=apt)
    assert result.returncode == 1 and calls == []
    assert len(result.stderr.splitlines()) == 1
    assert "chromium chromium-driver" in result.stderr
    if apt:
        assert "sudo apt-get install -y chromium chromium-driver" in result.stderr


def test_make_test_checks_the_packages_before_anything_else():
    outer_make = {name for name in os.environ if name.startswith("MAKE")}  # when run by make test
    dry_run = subprocess.run(
        ["make", "--no-print-directory", "-n", "test"], cwd=REPO, capture_output=True, text=True, timeout=30,
        env={name: value for name, value in os.environ.items() if name not in outer_make},
    ).stdout.splitlines()
    assert dry_run[0].startswith("sh scripts/ensure_debian_packages.sh ")
    assert {"chromium", "chromium-driver"} <= set(dry_run[0].split())
