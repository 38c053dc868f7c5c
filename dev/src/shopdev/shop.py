"""The whole shop as real processes, seen from outside: for the system tests, `make demo`,
`make load` and `make bench`.

Three services under gunicorn (or runserver) on free loopback ports, each on its own fresh
database (PostgreSQL when ``<SVC>_DATABASE_URL`` names it, else SQLite files), all sharing one
fresh keys directory and knowing each other's URLs. Replicas of a service share its database.
Everything started here is stopped by :meth:`Shop.stop`, whatever happened.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from ms_token.keys import SigningKey, create_key, load_key_ring
from .processes import SERVICES, ServiceProcess, free_port, service_processes, start_all, stop_all


# ms_token's one line per verification (libs/ms_token/README.md, "Logs").
_VERIFICATION = re.compile(
    r"ms_token verification issuer=(?P<issuer>\S+) jti=\S+ outcome=(?P<outcome>\S+) code=(?P<code>\S+)"
    r" caller=(?P<caller>\S+) txn=(?P<txn>\S+) sub=(?P<sub>\S+)"
)


@dataclass(frozen=True)
class Verification:
    issuer: str
    outcome: str
    code: str
    caller: str
    txn: str = "-"  # the transaction of the transaction token the call carried, if any
    sub: str = "-"  # and the end user it was made for


class Shop:
    """user, product and billing, started together. ``work_dir`` holds keys, SQLite files, logs."""

    def __init__(
        self,
        work_dir: Path,
        *,
        db_prefix: str = "e2e",
        server: str = "gunicorn",
        workers: int = 2,
        threads: int = 4,
        env: dict[str, str] | None = None,
        settings_modules: dict[str, str] | None = None,
    ) -> None:
        self.work_dir = Path(work_dir)
        self.keys_dir = self.work_dir / "keys"
        self.log_dir = self.work_dir / "logs"
        for service in SERVICES:
            if not (self.keys_dir / service).is_dir():
                create_key(service, self.keys_dir)
        self.services: dict[str, ServiceProcess] = service_processes(
            self.work_dir,
            db_prefix=db_prefix,
            env={"MS_KEYS_DIR": str(self.keys_dir), **(env or {})},
            log_dir=self.log_dir,
            server=server,
            workers=workers,
            threads=threads,
        )
        for service, module in (settings_modules or {}).items():
            self.services[service].env["DJANGO_SETTINGS_MODULE"] = module
        self.ports = {service: process.port for service, process in self.services.items()}
        self.urls = {service: process.url for service, process in self.services.items()}
        self.env = {
            "MS_KEYS_DIR": str(self.keys_dir),
            **{f"{service.upper()}_SERVICE_URL": url for service, url in self.urls.items()},
            **(env or {}),
        }
        self.database_urls = {service: process.database_url for service, process in self.services.items()}
        self.extra: list[ServiceProcess] = []

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> "Shop":
        start_all(self.services.values())
        return self

    def stop(self) -> None:
        stop_all([*self.extra, *self.services.values()])

    def __enter__(self) -> "Shop":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def replica(
        self,
        service: str,
        *,
        env: dict[str, str] | None = None,
        workers: int = 1,
        start: bool = True,
        port: int | None = None,
    ) -> ServiceProcess:
        """Another process of ``service`` on the same database and keys (stopped with the shop)."""
        process = ServiceProcess(
            service,
            port=port or free_port(),
            database_url=self.database_urls[service],
            env={**self.services[service].env, **(env or {})},
            workers=workers,
            threads=self.services[service].threads,
            log_dir=self.log_dir,
        )
        # ServiceProcess names itself the service's URL; peers given in ``env`` stay as given.
        process.env[f"{service.upper()}_SERVICE_URL"] = process.url
        self.extra.append(process)
        if start:
            process.start()
        return process

    # --- helpers ---------------------------------------------------------------------------

    def url(self, service: str) -> str:
        return self.urls[service]

    @property
    def token_source(self) -> str:
        """How billing gets its X-MS-TOKENs here (``MS_TOKEN_SOURCE``): ``self`` or ``token-service``."""
        return self.env.get("MS_TOKEN_SOURCE", "self")

    def verifications(self, service: str, *, request_id: str) -> list[Verification]:
        """The X-MS-TOKEN verifications that ``service`` (all its processes) logged while serving
        the request ``request_id``, in log order: what it saw, observed from outside its code.
        Plain lines and ``LOG_FORMAT=json`` lines alike."""
        found = []
        for line in self.log_lines(service):
            if isinstance(line, dict):
                if line.get("request_id") == request_id and line.get("logger") == "ms_token" and "outcome" in line:
                    found.append(Verification(*(line[key] for key in ("issuer", "outcome", "code", "caller"))))
            elif f"[rid={request_id}]" in line and (match := _VERIFICATION.search(line)):
                found.append(Verification(**match.groupdict()))
        return found

    def log_lines(self, service: str) -> list[str | dict]:
        """Every line the processes of ``service`` wrote, in order; a JSON object line parsed."""
        lines: list[str | dict] = []
        for process in [*self.services.values(), *self.extra]:
            if process.service == service:
                lines.extend(process.log_lines())
        return lines

    def signing_key(self, service: str) -> SigningKey:
        """The key ``service`` signs with: what an attacker who stole it would have."""
        return load_key_ring(service, self.keys_dir).signing_key

    def mint(
        self,
        issuer: str,
        *,
        audience: str,
        scope: str,
        method: str,
        path: str,
        body: bytes | None = None,
        txn_token: str | None = None,
        ttl: int = 30,
    ) -> str:
        """An X-MS-TOKEN exactly as ``issuer`` signs it here (what ``manage_all.py ms-token``
        prints): for ``path``, whose query string (after ``?``), if any, it binds as written."""
        return library_mint(
            audience, scope, method, path, body, txn_token=txn_token, issuer=issuer, ttl=ttl,
            key=self.signing_key(issuer),
        )

    def manage(self, service: str, *args: str, env: dict[str, str] | None = None) -> str:
        """``manage.py <args>`` in ``service``'s project, on its database; returns stdout."""
        process = self.services[service]
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=process.project_dir,
            env={**process.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{service}: manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def create_superuser(self, service: str, *, username: str, password: str, email: str | None = None) -> None:
        """A staff superuser in ``service``'s own user table, the way an operator makes one."""
        self.manage(
            service,
            "createsuperuser", "--noinput", "--username", username, "--email", email or f"{username}@example.com",
            env={"DJANGO_SUPERUSER_PASSWORD": password},
        )

    def logs(self, lines: int = 30) -> str:
        return "\n".join(
            f"--- {process.service} {process.url}\n{process.log_tail(lines)}"
            for process in [*self.services.values(), *self.extra]
        )


def library_mint(audience: str, scope: str, method: str, target: str, body: bytes | None = None, **options) -> str:
    """``ms_token.tokens.mint`` for a request ``target`` (a path with its query string, as sent),
    from a process that runs no Django project: the library reads Django settings, so this one
    gets the least that minting needs (issuer and key are passed in ``options``)."""
    from django.conf import settings

    if not settings.configured:
        settings.configure(MS_TOKEN={"SERVICE_NAME": options.get("issuer") or "billing"})
    from ms_token.tokens import mint

    path, _, query = target.partition("?")
    return mint(audience, scope, method, unquote(path), body, query=query, **options)


def python_path_with(*paths: Path) -> str:
    return os.pathsep.join([*(str(p) for p in paths), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
