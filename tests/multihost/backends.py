"""What the services stand on, each on a simulated host: PostgreSQL, Redis, HAProxy.

Each is the machine's own Debian binary run as a foreground process in a host's namespace,
with its data under the run's temporary directory, so it can be stopped and started again
(a restart) and is gone with the run.
"""
from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from hosts import PREFIX, Network

READY_TIMEOUT = 30.0


def wait_for(predicate: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.1) -> None:
    """Poll until ``predicate`` holds (a readiness wait, bounded), or fail saying what."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class HostedProcess:
    """One server process on one simulated host; ``argv`` is what runs there."""

    name = "process"

    def __init__(self, network: Network, host: str, work_dir: Path) -> None:
        self.network = network
        self.host = host
        self.address = network.address(host)
        self.work_dir = work_dir
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = work_dir / f"{self.name}.log"
        self.process: subprocess.Popen | None = None

    def argv(self) -> list[str]:
        raise NotImplementedError

    def ready(self) -> bool:
        raise NotImplementedError

    def start(self) -> "HostedProcess":
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.network.command(self.host, self.argv()),
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )
        wait_for(self._up, timeout=READY_TIMEOUT, what=f"{self.name} on {self.host}")
        return self

    def _up(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} on {self.host} exited ({self.process.returncode}):\n{self.log_tail()}")
        return self.ready()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def postgres_bin_dir() -> Path | None:
    """Debian's newest PostgreSQL server binaries (/usr/lib/postgresql/<major>/bin)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


class PostgresServer(HostedProcess):
    """A fresh cluster (initdb) of our own, trusting the simulated hosts' subnet."""

    name = "postgres"
    port = 5432

    def __init__(self, network: Network, host: str, work_dir: Path) -> None:
        super().__init__(network, host, work_dir)
        self.bin_dir = postgres_bin_dir()
        if self.bin_dir is None:
            raise RuntimeError("no PostgreSQL server under /usr/lib/postgresql/*/bin (Debian package postgresql)")
        # initdb and postgres refuse to run as root: Debian's postgres user owns the cluster, in
        # a directory it can reach (a test's own temporary directory is root's alone).
        for leftover in glob.glob(os.path.join(tempfile.gettempdir(), f"{PREFIX}-postgres-*")):
            shutil.rmtree(leftover, ignore_errors=True)  # a killed earlier run's
        self.cluster_dir = Path(tempfile.mkdtemp(prefix=f"{PREFIX}-postgres-"))
        shutil.chown(self.cluster_dir, "postgres", "postgres")
        self.data_dir = self.cluster_dir / "data"
        subprocess.run(
            [*self._as_postgres(), str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", "postgres",
             "--auth=trust", "--encoding=UTF8", "--no-sync"],
            check=True, capture_output=True, timeout=120,
        )
        with open(self.data_dir / "pg_hba.conf", "a") as hba:
            hba.write(f"host all all {network.address(host).rsplit('.', 1)[0]}.0/24 trust\n")

    @staticmethod
    def _as_postgres() -> list[str]:
        return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups"]

    def url(self, database: str) -> str:
        return f"postgres://postgres@{self.address}:{self.port}/{database}"

    def argv(self) -> list[str]:
        return [
            *self._as_postgres(), str(self.bin_dir / "postgres"), "-D", str(self.data_dir),
            "-c", f"listen_addresses={self.address}", "-c", f"port={self.port}",
            "-c", f"unix_socket_directories={self.cluster_dir}", "-c", "max_connections=200",
            # A restart here is a clean shutdown; fsync would only add disk waits to the run.
            "-c", "fsync=off",
        ]

    def ready(self) -> bool:
        import psycopg

        try:
            psycopg.connect(self.url("postgres"), connect_timeout=1).close()
            return True
        except psycopg.Error:
            return False

    def stop(self, sig: int = signal.SIGINT, timeout: float = 20.0) -> None:
        super().stop(sig, timeout)  # SIGINT: PostgreSQL's "fast" shutdown

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.cluster_dir, ignore_errors=True)

    def create_databases(self, *names: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as admin:
            for name in names:
                admin.execute(f'CREATE DATABASE "{name}"')


class RedisServer(HostedProcess):
    """Redis as the replay store needs it: every write in the append-only file before it is
    acknowledged, so that a restart forgets no used token id (docs/decisions.md, "Deployment")."""

    name = "redis"
    port = 6379

    def url(self, db: int = 0) -> str:
        return f"redis://{self.address}:{self.port}/{db}"

    def argv(self) -> list[str]:
        return [
            shutil.which("redis-server") or "redis-server", "--bind", self.address, "--port", str(self.port),
            "--dir", str(self.work_dir), "--save", "", "--appendonly", "yes", "--appendfsync", "always",
            "--protected-mode", "no", "--daemonize", "no",
        ]

    def ready(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(host=self.address, port=self.port, socket_timeout=0.5, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False


class HAProxy(HostedProcess):
    """One balancer host: a frontend per service, round robin over its replicas, each replica
    checked on /readyz. A request whose replica died under it, or that finds none ready, gets
    the shop's JSON 503 (retryable), never the balancer's HTML 502/504."""

    name = "haproxy"

    def __init__(self, network: Network, host: str, work_dir: Path, *, backends: dict[str, tuple[int, list[str]]]) -> None:
        """``backends``: service -> (the port its frontend listens on, its replicas' base URLs)."""
        super().__init__(network, host, work_dir)
        self.backends = backends
        self.config_path = work_dir / "haproxy.cfg"
        self.config_path.write_text(self._config())

    def url(self, service: str) -> str:
        return f"http://{self.address}:{self.backends[service][0]}"

    def _config(self) -> str:
        unavailable = self.work_dir / "503.http"
        body = '{"detail": "No replica of this service could answer. Try again shortly.", "code": "service_unavailable"}'
        unavailable.write_text(
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
            f"Cache-Control: no-store\r\nConnection: close\r\nContent-Length: {len(body)}\r\n\r\n{body}"
        )
        lines = [
            "global", "    maxconn 4096",
            "defaults",
            "    mode http", "    option httplog", "    log stdout format raw local0 warning",
            "    timeout connect 1s", "    timeout client 60s", "    timeout server 30s",
            # A refused connection (a dead replica not yet marked down) is tried on another one;
            # nothing already sent is ever sent twice.
            "    retries 2", "    option redispatch 1", "    retry-on conn-failure",
            "    option http-keep-alive",
            f"    errorfile 502 {unavailable}", f"    errorfile 503 {unavailable}", f"    errorfile 504 {unavailable}",
        ]
        for service, (port, replicas) in self.backends.items():
            lines += [
                f"frontend {service}", f"    bind {self.address}:{port}", f"    default_backend {service}",
                f"backend {service}", "    balance roundrobin",
                # Django allows the balancer's address as Host: the name peers use.
                "    option httpchk", f"    http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host {self.address}",
                "    http-check expect status 200",
                "    default-server inter 500ms fall 2 rise 2",
            ]
            lines += [f"    server {service}{i} {url.split('://', 1)[1]} check" for i, url in enumerate(replicas, 1)]
        return "\n".join(lines) + "\n"

    def argv(self) -> list[str]:
        return [shutil.which("haproxy") or "haproxy", "-db", "-f", str(self.config_path)]

    def ready(self) -> bool:
        import socket

        for port, _ in self.backends.values():
            try:
                socket.create_connection((self.address, port), timeout=0.5).close()
            except OSError:
                return False
        return True
