"""Simulated hosts: Linux network namespaces, each with its own address on one bridge.

Every name made here starts with ``h17`` (namespaces ``h17-<host>``, veths ``h17v<n>``, the bridge
``h17br0``) on 10.217.0.0/24, so that a run can find and remove what an earlier, killed run
left behind without touching anything else on the machine. The root namespace keeps
10.217.0.1 on the bridge: the test process, the clients, sits there.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time

PREFIX = "h17"
BRIDGE = f"{PREFIX}br0"
SUBNET = "10.217.0"
CLIENT_ADDRESS = f"{SUBNET}.1"


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check, timeout=30)


def unavailable_reason() -> str | None:
    """Why simulated hosts cannot be made here (None when they can): root and `ip netns`."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "`ip` (iproute2) is not installed"
    probe = f"{PREFIX}-probe"
    _ip("netns", "del", probe, check=False)
    made = _ip("netns", "add", probe, check=False)
    if made.returncode != 0:
        return f"`ip netns add` failed: {made.stderr.strip()}"
    _ip("netns", "del", probe, check=False)
    return None


def _our_namespaces() -> list[str]:
    listed = _ip("netns", "list", check=False).stdout.split("\n")
    return [line.split()[0] for line in listed if line.startswith(f"{PREFIX}-")]


def _kill_processes_in(namespace: str) -> None:
    """Every process left in one of our namespaces: SIGKILL, then wait until none is left."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        pids = [int(p) for p in _ip("netns", "pids", namespace, check=False).stdout.split()]
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.1)


def remove_all() -> None:
    """Our namespaces (and whatever runs in them), their veths and the bridge: idempotent."""
    for namespace in _our_namespaces():
        _kill_processes_in(namespace)
        _ip("netns", "del", namespace, check=False)  # takes its end of the veth pair, so the pair
    _ip("link", "del", BRIDGE, check=False)


class Network:
    """Hosts by name, each a namespace with ``eth0`` at 10.217.0.<n> on the bridge."""

    def __init__(self, hosts: dict[str, int]) -> None:
        if any(not 2 <= n <= 254 for n in hosts.values()) or len(set(hosts.values())) != len(hosts):
            raise ValueError(f"host numbers must be distinct, 2..254: {hosts}")
        self.hosts = dict(hosts)

    def namespace(self, host: str) -> str:
        return f"{PREFIX}-{host}"

    def address(self, host: str) -> str:
        return f"{SUBNET}.{self.hosts[host]}"

    def command(self, host: str, argv: list[str]) -> list[str]:
        """``argv`` run on ``host``: in its namespace (``ip netns exec`` execs it, same pid)."""
        return ["ip", "netns", "exec", self.namespace(host), *argv]

    def up(self) -> "Network":
        remove_all()  # a killed earlier run's leftovers
        try:
            _ip("link", "add", BRIDGE, "type", "bridge")
            _ip("addr", "add", f"{CLIENT_ADDRESS}/24", "dev", BRIDGE)
            _ip("link", "set", BRIDGE, "up")
            for host, number in self.hosts.items():
                namespace, veth = self.namespace(host), f"{PREFIX}v{number}"
                _ip("netns", "add", namespace)
                _ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", namespace)
                _ip("link", "set", veth, "master", BRIDGE, "up")
                _ip("-n", namespace, "addr", "add", f"{self.address(host)}/24", "dev", "eth0")
                _ip("-n", namespace, "link", "set", "eth0", "up")
                _ip("-n", namespace, "link", "set", "lo", "up")
        except BaseException:
            remove_all()
            raise
        return self

    def down(self) -> None:
        remove_all()

    def __enter__(self) -> "Network":
        return self.up()

    def __exit__(self, *exc_info) -> None:
        self.down()
