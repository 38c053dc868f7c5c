"""`manage_all.py up` (what `make up` runs) as a newcomer meets it: a real subprocess on free
ports, SQLite and keys in a temporary directory."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from ms_token.testing import free_port

REPO = Path(__file__).resolve().parents[1]
SERVICES = ("user", "product", "billing")
STARTUP_TIMEOUT = 240  # keys, three migrations on fresh databases, the demo data, three servers
# What the developer's environment may hold that would send this run elsewhere.
NOT_INHERITED = ("DATABASE_URL", "MS_SIGNING_KEY", "MS_REPLAY_CACHE", "CACHE_URL", "DJANGO_", "LOG_", "OTEL_",
                 "DEMO_", "METRICS_", "MS_TOKEN_SOURCE")
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def answers_healthz(url: str) -> bool:
    try:
        with NO_PROXY.open(f"{url}/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def call(method: str, url: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(url, method=method, headers=headers,
                                     data=json.dumps(body).encode() if body is not None else None)
    try:
        with NO_PROXY.open(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


class Up:
    """``manage_all.py up`` running; its output read line by line as it comes."""

    def __init__(self, tmp_path: Path, *args: str, ports: dict[str, int] | None = None) -> None:
        ports = {**{service: free_port() for service in SERVICES}, **(ports or {})}
        self.urls = {service: f"http://127.0.0.1:{ports[service]}" for service in SERVICES}
        env = {name: value for name, value in os.environ.items()
               if not any(part in name for part in NOT_INHERITED)}
        for service, url in self.urls.items():
            env[f"{service.upper()}_SERVICE_URL"] = url
            env[f"{service.upper()}_DATABASE_URL"] = f"sqlite:///{tmp_path / service}.sqlite3"
        env["MS_KEYS_DIR"] = str(tmp_path / "keys")
        env["PYTHONUNBUFFERED"] = "1"
        self.lines: list[str] = []
        self.ended = False  # its output is read to the end
        self.changed = threading.Condition()
        self.process = subprocess.Popen(
            [sys.executable, str(REPO / "manage_all.py"), "up", *args], env=env, cwd=tmp_path,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            with self.changed:
                self.lines.append(line.rstrip("\n"))
                self.changed.notify_all()
        with self.changed:
            self.ended = True
            self.changed.notify_all()

    def wait_for(self, text: str, timeout: float = STARTUP_TIMEOUT) -> int:
        """The index of the first line holding ``text``, once it has been printed."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                found = next((index for index, line in enumerate(self.lines) if text in line), None)
                if found is not None:
                    return found
                if self.ended or time.monotonic() > deadline:
                    raise AssertionError(f"{text!r} never printed:\n" + "\n".join(self.lines))
                self.changed.wait(0.5)

    def finish(self, timeout: float = STARTUP_TIMEOUT) -> int:
        try:
            return self.process.wait(timeout=timeout)
        finally:
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def output(self) -> str:
        with self.changed:
            return "\n".join(self.lines)


def test_up_prints_the_services_and_every_demo_login_once_they_answer_and_logs_each_line_once(tmp_path):
    up = Up(tmp_path, "--ready-timeout", "180")  # a busy machine's runserver may be slow to start
    try:
        banner = up.wait_for("Services:")
        # Printed only now: every service answers at once, no waiting.
        assert {service: answers_healthz(url) for service, url in up.urls.items()} == dict.fromkeys(SERVICES, True)
        up.wait_for("Ctrl-C stops all three.")
        shown = up.output().splitlines()[banner:]
        logins = "\n".join(shown[shown.index("Demo logins:"):])
        assert "user: staff login staff / staff-demo-2026!" in logins
        for service in ("product", "billing"):  # each admin's own demo login
            assert f"{service}: admin login admin / admin-demo-2026! at {up.urls[service]}/admin/" in logins
        assert "createsuperuser" not in logins

        # One line per event in the services' output: an application line, the token library's,
        # Django's (a 404 warning) and runserver's.
        user, product, billing = (up.urls[service] for service in SERVICES)
        assert call("GET", f"{product}/nowhere-{os.getpid()}")[0] == 404
        credentials = {"username": "alice", "password": "wonderland-2026!"}
        assert call("POST", f"{user}/api/auth/register/", {**credentials, "email": "alice@example.com"})[0] == 201
        status, tokens = call("POST", f"{user}/api/auth/login/", credentials)
        assert status == 200
        status, bill = call("POST", f"{billing}/api/bills/", {"items": [{"product_id": 1, "quantity": 2}]},
                            tokens["access"])
        assert status == 201, bill
        up.wait_for(f"bill {bill['id']} made for user")
        up.wait_for(f'"GET /nowhere-{os.getpid()} HTTP/1.1" 404')
    finally:
        up.process.send_signal(signal.SIGINT)  # Ctrl-C
        code = up.finish(timeout=60)
    output = up.output()
    assert code == 0 and output.endswith("all services stopped"), output
    lines = output.splitlines()
    for once in (f"bill {bill['id']} made for user", f"Not Found: /nowhere-{os.getpid()}",
                 f'"GET /nowhere-{os.getpid()} HTTP/1.1" 404', "ms_token verification issuer=billing",
                 '"POST /api/bills/ HTTP/1.1" 201'):
        assert len([line for line in lines if once in line]) == 1, (once, output)
    assert not any(answers_healthz(url) for url in up.urls.values())


def test_up_names_a_service_that_does_not_come_up_shows_its_last_lines_and_stops_the_others(tmp_path):
    with socket.socket() as taken:  # billing's port is someone else's
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        up = Up(tmp_path, "--no-seed", ports={"billing": taken.getsockname()[1]})
        code = up.finish()
    output = up.output()
    assert code != 0, output
    assert "Services:" not in output and "Demo logins:" not in output  # never said it was ready
    failure = output[output.index("billing did not come up: exited with code"):]
    assert "Its last lines:" in failure and "That port is already in use" in failure, output
    assert "Stopping the others." in failure and output.endswith("all services stopped")
    assert not answers_healthz(up.urls["user"]) and not answers_healthz(up.urls["product"])
