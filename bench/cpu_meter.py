"""CPU time used by each part of the bench's system while a segment runs, read from /proc.

On a machine where the callers, the three services and PostgreSQL share the CPUs, throughput at
8 callers is CPU bound: calls/s is about (CPUs x busy share) / (CPU per call). So the CPU each
part spends per call says where a mode's throughput goes (Linux only; elsewhere it reads nothing).

Parts: each service's gunicorn processes (the master and its workers), PostgreSQL's processes
(backends, autovacuum, WAL writer, ...), Redis, and this process (the callers' threads).

A part's CPU is the change, between two readings, of the sum over its processes of their own time
plus the time of their children that ended and were reaped: a process that ends during the
segment (a recycled backend, an autovacuum worker) is then counted through its parent, whose
children's time takes in its whole life, less what it had used at the first reading.
"""
from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")
_TICKS = os.sysconf("SC_CLK_TCK")
SERVERS = {"postgres": "postgres", "redis-server": "redis"}


def cpu_model() -> str:
    """The CPU's model name, for the report's "machine:" line."""
    try:
        for line in (PROC / "cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def _processes() -> dict[tuple[int, int], tuple[int, str, float]]:
    """(pid, start time) -> (parent pid, command name, CPU seconds of it and its reaped children).
    The start time keeps a reused pid from passing for the process that had it before."""
    table = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so cut at the last ")"
        head, _, rest = text.rpartition(")")
        fields = rest.split()
        # fields[1]: parent pid; [11], [12]: user, system; [13], [14]: of reaped children; [19]: start
        ticks = sum(int(value) for value in fields[11:15])
        table[(int(entry.name), int(fields[19]))] = (int(fields[1]), head.partition("(")[2], ticks / _TICKS)
    return table


def _cpu_ticks() -> tuple[int, int, int]:
    """(busy, total, stolen) clock ticks of all CPUs since boot; time the hypervisor gave to
    other machines (steal) is neither busy nor ours, so it is outside the total."""
    values = [int(v) for v in (PROC / "stat").read_text().splitlines()[0].split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = values
    busy = user + nice + system + irq + softirq
    return busy, busy + idle + iowait, steal


class CpuMeter:
    """``read()`` twice around a segment; ``per_call(before, after, calls)`` gives µs per call."""

    available = (PROC / "self" / "stat").exists()

    def __init__(self, service_pids: dict[str, int]) -> None:
        self.service_pids = service_pids  # service -> its gunicorn master's pid

    def read(self) -> dict:
        if not self.available:
            return {}
        times = os.times()  # first: the scan below is the meter's own work, not the callers'
        table = _processes()
        children: dict[int, list[tuple[int, int]]] = {}
        for key, (parent, _, _) in table.items():
            children.setdefault(parent, []).append(key)
        owner: dict[tuple[int, int], str] = {}
        for service, root in self.service_pids.items():
            pending = [key for key in table if key[0] == root]
            while pending:
                key = pending.pop()
                owner[key] = service
                pending += children.get(key[0], [])
        for key, (_, comm, _) in table.items():
            if comm in SERVERS:
                owner.setdefault(key, SERVERS[comm])
        return {
            "parts": (*self.service_pids, *SERVERS.values()),
            "processes": {key: (part, table[key][2]) for key, part in owner.items()},
            "callers": times.user + times.system,
            "cpu": _cpu_ticks(),
        }

    @staticmethod
    def per_call(before: dict, after: dict, calls: int) -> dict[str, float]:
        """µs of CPU per call for each part and their sum ("total"); the CPUs' busy share and the
        share stolen by the hypervisor, in %."""
        if not before or not after or not calls:
            return {}
        used = dict.fromkeys(after["parts"], 0.0)  # a part with no process (no Redis here) used 0
        for reading, sign in ((after, 1), (before, -1)):
            for part, seconds in reading["processes"].values():
                used[part] += sign * seconds
        used["callers"] = after["callers"] - before["callers"]
        figures = {part: seconds / calls * 1e6 for part, seconds in used.items()}
        figures["total"] = sum(figures.values())
        busy, total, stolen = (b - a for a, b in zip(before["cpu"], after["cpu"]))
        figures["busy %"] = 100.0 * busy / total if total else float("nan")
        figures["steal %"] = 100.0 * stolen / (total + stolen) if total + stolen else float("nan")
        return figures
