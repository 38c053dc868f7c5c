"""CPU time used by each part of the bench's system while a segment runs, read from /proc.

On a machine where the callers, the three services and PostgreSQL share the CPUs, throughput at
8 callers is CPU bound: calls/s is about (CPUs x busy share) / (CPU per call). So the CPU each
part spends per call says where a mode's throughput goes (Linux only; elsewhere it reads nothing).

Parts: each service's gunicorn processes (the master and its workers), PostgreSQL's processes
(backends, WAL writer, ...), Redis, and this process (the callers' threads).
"""
from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
SERVERS = {"postgres": "postgres", "redis-server": "redis"}


def _processes() -> dict[int, tuple[int, str, float]]:
    """pid -> (parent pid, command name, CPU seconds used so far) of every process."""
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
        # fields[1] is the parent pid; [11] and [12] user and system time in clock ticks
        table[int(entry.name)] = (int(fields[1]), head.partition("(")[2], (int(fields[11]) + int(fields[12])) / _TICKS)
    return table


def _busy_share() -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs since boot."""
    values = [int(v) for v in (PROC / "stat").read_text().splitlines()[0].split()[1:9]]
    idle = values[3] + values[4]  # idle, iowait
    return sum(values) - idle, sum(values)


class CpuMeter:
    """``read()`` twice around a segment; ``per_call(before, after, calls)`` gives µs per call."""

    available = (PROC / "self" / "stat").exists()

    def __init__(self, service_pids: dict[str, int]) -> None:
        self.service_pids = service_pids  # service -> its gunicorn master's pid

    def read(self) -> dict:
        if not self.available:
            return {}
        table = _processes()
        children: dict[int, list[int]] = {}
        for pid, (parent, _, _) in table.items():
            children.setdefault(parent, []).append(pid)
        owner: dict[int, str] = {}
        for service, root in self.service_pids.items():
            pending = [root]
            while pending:
                pid = pending.pop()
                owner[pid] = service
                pending += children.get(pid, [])
        for pid, (_, comm, _) in table.items():
            if comm in SERVERS:
                owner.setdefault(pid, SERVERS[comm])
        times = os.times()
        return {
            "parts": (*self.service_pids, *SERVERS.values()),
            "processes": {pid: (owner[pid], table[pid][2]) for pid in owner if pid in table},
            "callers": times.user + times.system,
            "busy": _busy_share(),
        }

    @staticmethod
    def per_call(before: dict, after: dict, calls: int) -> dict[str, float]:
        """µs of CPU per call for each part, their sum ("total"), and the CPUs' busy share (%).
        A process that ended during the segment drops out (its time is unknown): a slight
        undercount, never a negative figure."""
        if not before or not after or not calls:
            return {}
        used = dict.fromkeys(after["parts"], 0.0)  # a part with no process (no Redis here) used 0
        for pid, (part, seconds) in after["processes"].items():
            earlier = before["processes"].get(pid)
            used[part] += seconds - (earlier[1] if earlier else 0.0)
        used["callers"] = after["callers"] - before["callers"]
        figures = {part: seconds / calls * 1e6 for part, seconds in used.items()}
        figures["total"] = sum(figures.values())
        busy = after["busy"][0] - before["busy"][0]
        total = after["busy"][1] - before["busy"][1]
        figures["busy %"] = 100.0 * busy / total if total else float("nan")
        return figures
