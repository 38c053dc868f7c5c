"""The simulated hosts: addresses that reach each other across the bridge, and nothing left
behind, not even by an earlier run that was killed."""
from __future__ import annotations

import subprocess
from pathlib import Path

import hosts
from hosts import Network


def _namespaces() -> list[str]:
    return [line.split()[0] for line in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.splitlines()]


def _link_exists(name: str) -> bool:
    return subprocess.run(["ip", "link", "show", name], capture_output=True).returncode == 0


def test_a_killed_runs_leftovers_are_removed_and_hosts_reach_each_other(multihost):
    # What a run killed mid-way leaves: a namespace of ours with a server still running in it.
    subprocess.run(["ip", "netns", "add", f"{hosts.PREFIX}-leftover"], check=True)
    leftover = subprocess.Popen(["ip", "netns", "exec", f"{hosts.PREFIX}-leftover", "sleep", "300"])
    try:
        with Network({"a": 2, "b": 3}) as network:
            assert leftover.wait(timeout=10) == -9, "the leftover's process was not stopped"
            assert f"{hosts.PREFIX}-leftover" not in _namespaces()
            served = subprocess.Popen(network.command("a", ["python3", "-m", "http.server", "8000", "--bind", network.address("a")]),
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            fetch = ["python3", "-c", "import sys, time, urllib.request as u\n"
                     "for _ in range(100):\n"
                     "    try: u.urlopen(sys.argv[1], timeout=1); break\n"
                     "    except OSError: time.sleep(0.1)\n"
                     "else: sys.exit(1)", f"http://{network.address('a')}:8000/"]
            assert subprocess.run(network.command("b", fetch), timeout=30).returncode == 0, "host b cannot reach host a"
            assert subprocess.run(fetch, timeout=30).returncode == 0, "the client (root namespace) cannot reach host a"
        assert served.wait(timeout=10) == -9, "a server on a host outlived the network"
    finally:
        if leftover.poll() is None:
            leftover.kill()
    assert not [n for n in _namespaces() if n.startswith(f"{hosts.PREFIX}-")]
    assert not _link_exists(hosts.BRIDGE)


def test_make_test_as_root_installs_what_the_multihost_test_needs():
    """The one mechanism (scripts/ensure_debian_packages.sh, first in `make test`) gets the
    multi-host packages when run as root, the only way this suite runs; another user is not
    asked for them."""
    import os

    outer_make = {name for name in os.environ if name.startswith("MAKE")}
    dry_run = subprocess.run(
        ["make", "--no-print-directory", "-n", "test"], cwd=Path(__file__).resolve().parents[2],
        capture_output=True, text=True, timeout=30,
        env={name: value for name, value in os.environ.items() if name not in outer_make},
    ).stdout.splitlines()
    assert dry_run[0].startswith("sh scripts/ensure_debian_packages.sh ")
    packages = set(dry_run[0].split())
    if os.geteuid() == 0:
        assert {"haproxy", "iproute2", "postgresql", "redis-server"} <= packages
    else:
        assert "haproxy" not in packages
