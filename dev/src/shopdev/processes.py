"""The shop's services as real processes on 127.0.0.1, each on a fresh database: for the
suites that run them, `make demo`, `make load` and `make bench`. Repo-only: it knows this
repository's layout."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ms_token.testing import free_port

__all__ = [
    "REPO_DIR", "SERVICES", "ServiceProcess", "fresh_database_url", "free_port", "in_parallel",
    "postgres_admin", "service_processes", "start_all", "stop_all",
]


REPO_DIR = Path(__file__).resolve().parents[3]  # dev/src/shopdev/processes.py -> the repo
SERVICES = ("user", "product", "billing")


def postgres_admin(url: str):
    """An autocommit psycopg connection to the maintenance database ("postgres") of the server
    that ``url`` names, to create and drop databases on it."""
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(url)
    given = {"host": config["HOST"], "port": config["PORT"], "user": config["USER"], "password": config["PASSWORD"]}
    # What the URL leaves out, libpq decides (PGHOST, PGUSER, the socket...), as it would for the URL.
    parameters = {**(config.get("OPTIONS") or {}), **{name: value for name, value in given.items() if value}}
    return psycopg.connect(**parameters, dbname="postgres", autocommit=True, connect_timeout=5)


def fresh_database_url(service: str, name: str, tmp_dir: Path) -> str:
    """A new, empty database for a service started by a test.

    PostgreSQL when ``<SERVICE>_DATABASE_URL`` names it (CI): a database called ``name`` on the
    same server, dropped and created anew. Otherwise a SQLite file under ``tmp_dir``.
    """
    from urllib.parse import urlsplit

    base = os.environ.get(f"{service.upper()}_DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        return f"sqlite:///{tmp_dir / f'{name}.sqlite3'}"
    from psycopg import sql

    with postgres_admin(base) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    # The same URL with the new database's name: user, password, host and options as given.
    return urlsplit(base)._replace(path=f"/{name}").geturl()


def database_prefix(kind: str) -> str:
    """PostgreSQL database names for a run of ``kind``, after the ones given: USER_DATABASE_URL
    .../h9_user gives h9_<kind>_<service>, ... So runs with different URLs on one server (CI and a
    developer, two suites side by side) never drop each other's databases. SQLite (no URL): files
    in the run's own directory, the prefix is moot."""
    from urllib.parse import urlsplit

    given = urlsplit(os.environ.get("USER_DATABASE_URL", "")).path.lstrip("/")
    stem = given.removesuffix("_user")
    return f"{stem}_{kind}" if stem else kind


class ServiceProcess:
    """One of our services running in a subprocess on 127.0.0.1, as a deployment would run it.

    ``server`` is ``"gunicorn"`` (workers and threads, keep-alive) or ``"runserver"``.
    The environment is the caller's plus ``env``; the service's database is ``database_url``.
    """

    def __init__(
        self,
        service: str,
        *,
        port: int,
        database_url: str,
        env: dict[str, str] | None = None,
        server: str = "gunicorn",
        workers: int = 2,
        threads: int = 4,
        log_dir: Path | None = None,
    ) -> None:
        self.service = service
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.database_url = database_url
        self.project_dir = REPO_DIR / f"{service}_project"
        self.server = server
        self.workers = workers
        self.threads = threads
        self.env = {
            # Not the caller's CACHE_URL: throttle counters are the service's own (its database's
            # cache table) unless ``env`` says otherwise, never shared with a dev server or a suite.
            **{name: value for name, value in os.environ.items() if name != "CACHE_URL"},
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "test-only-secret-key-for-subprocess-services",
            f"{service.upper()}_DATABASE_URL": database_url,
            f"{service.upper()}_SERVICE_URL": self.url,
            "PYTHONUNBUFFERED": "1",
            # Never the parent's: a suite's own settings module must not leak into its peers.
            "DJANGO_SETTINGS_MODULE": f"{service}_site.settings",
            **(env or {}),
        }
        self.log_path = (log_dir or Path(os.environ.get("TMPDIR", "/tmp"))) / f"{service}-{port}.log"
        self.process = None

    def _manage(self, *args: str) -> None:
        import subprocess
        import sys

        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=self.project_dir,
            env=self.env,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{self.service}: manage.py {' '.join(args)} failed:\n{result.stderr}")

    def migrate(self) -> "ServiceProcess":
        self._manage("migrate", "--noinput", "-v", "0")
        return self

    def command(self) -> list[str]:
        import sys

        if self.server == "runserver":
            return [sys.executable, "manage.py", "runserver", f"127.0.0.1:{self.port}", "--noreload"]
        return [
            sys.executable, "-m", "gunicorn", f"{self.service}_site.wsgi:application",
            "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(self.workers),
            "--threads", str(self.threads),
            "--graceful-timeout", "3",
            "--timeout", "30",
            "--keep-alive", "30",
        ]

    def start(self, *, ready_timeout: float = 30.0) -> "ServiceProcess":
        import subprocess

        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            self.command(),
            cwd=self.project_dir,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.wait_healthy(ready_timeout)
        return self

    def wait_healthy(self, timeout: float) -> None:
        """Poll /healthz until it answers (a readiness wait, bounded, not a lock)."""
        import time

        import requests

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.service} exited early:\n{self.log_tail()}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.service} did not become healthy in {timeout}s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def log_lines(self) -> list[str | dict]:
        """Every line this process wrote, in order; a JSON object line (``LOG_FORMAT=json``) parsed."""
        if not self.log_path.exists():
            return []
        return [_parsed(line) for line in self.log_path.read_text(errors="replace").splitlines()]

    def stop(self, sig: int | None = None) -> None:
        import signal
        import subprocess

        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, sig or signal.SIGTERM)
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass

    def kill(self) -> None:
        """Die abruptly, as a crashed host would."""
        import signal

        self.stop(signal.SIGKILL)

    def __enter__(self) -> "ServiceProcess":
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def _parsed(line: str) -> str | dict:
    import json

    if line.startswith("{"):
        try:
            document = json.loads(line)
        except ValueError:
            return line
        if isinstance(document, dict):
            return document
    return line


def service_processes(
    work_dir: Path,
    *,
    db_prefix: str,
    env: dict[str, str] | None = None,
    log_dir: Path | None = None,
    services: tuple[str, ...] = SERVICES,
    **options: Any,
) -> dict[str, ServiceProcess]:
    """One ``ServiceProcess`` per service (not started): each on a free loopback port and a fresh
    database named ``<db_prefix>_<service>`` (``fresh_database_url``), all knowing each other's
    URLs. ``env`` goes to every process (``MS_KEYS_DIR`` for one shared keys directory); other
    ``options`` go to ``ServiceProcess`` (server, workers, threads)."""
    ports = {service: free_port() for service in services}
    shared_env = {
        **{f"{service.upper()}_SERVICE_URL": f"http://127.0.0.1:{port}" for service, port in ports.items()},
        **(env or {}),
    }
    return {
        service: ServiceProcess(
            service,
            port=ports[service],
            database_url=fresh_database_url(service, f"{db_prefix}_{service}", work_dir),
            env=shared_env,
            log_dir=log_dir or work_dir,
            **options,
        )
        for service in services
    }


def in_parallel(action, processes) -> None:
    """``action`` on every process at once (starting and stopping are mostly waiting);
    re-raises the first error once all are done."""
    import threading

    errors: list[BaseException] = []

    def run(process):
        try:
            action(process)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(process,)) for process in processes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def start_all(processes) -> None:
    """Migrate, then start, every process at once; if any fails, stop them all and re-raise."""
    processes = list(processes)
    try:
        in_parallel(lambda process: process.migrate(), processes)
        in_parallel(lambda process: process.start(), processes)
    except BaseException:
        stop_all(processes)
        raise


def stop_all(processes) -> None:
    """Stop every process at once (each may wait out gunicorn's graceful timeout); one that will
    not stop quietly does not keep the others running."""

    def stop_quietly(process: ServiceProcess) -> None:
        try:
            process.stop()
        except Exception:
            pass

    in_parallel(stop_quietly, processes)
