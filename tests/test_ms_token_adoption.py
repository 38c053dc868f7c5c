"""Adoption, proven: the django-ms-token wheel in a fresh virtualenv with nothing of the shop,
two projects made by `django-admin startproject` under foreign names (orders, invoices), exactly
the lines libs/ms_token/README.md shows, both under gunicorn: invoices calls orders through
ServiceClient (200), a replayed token is refused (token_replayed), an untrusted caller too
(untrusted_issuer)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import venv
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parent.parent
LIBRARY = REPO / "libs" / "ms_token"
README = LIBRARY / "README.md"
# The pinned versions the shop runs, so the fresh environment needs no other index state.
PINNED = {
    line.split("==")[0].split("[")[0].lower(): line.strip()
    for line in (REPO / "requirements.txt").read_text().splitlines()
    if "==" in line and not line.startswith("#")
}
SNIPPET = re.compile(r"<!-- adoption: (?P<target>[\w/.]+) -->\n```python\n(?P<code>.*?)```", re.S)


def readme_snippets() -> dict[str, str]:
    return {m["target"]: m["code"] for m in SNIPPET.finditer(README.read_text())}


def run(*command: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{' '.join(command)}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_readme_shows_at_most_ten_lines_per_project():
    snippets = readme_snippets()
    assert set(snippets) == {"orders/settings.py", "invoices/settings.py", "urls.py", "orders/views.py",
                             "invoices/views.py"}
    for target in ("orders/settings.py", "invoices/settings.py"):
        setting_lines = snippets[target].strip().splitlines() + snippets["urls.py"].strip().splitlines()
        assert len(setting_lines) <= 12, target  # ten lines of settings, two of URLs


@pytest.fixture(scope="module")
def adopter_env(tmp_path_factory) -> dict[str, Path]:
    """A virtualenv with the wheel (and DRF, gunicorn) and nothing of the shop."""
    work = tmp_path_factory.mktemp("adoption")
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(work / "dist"), str(LIBRARY),
        cwd=work)
    (wheel,) = (work / "dist").glob("django_ms_token-*.whl")
    venv.create(work / "venv", with_pip=True)
    python = work / "venv" / "bin" / "python"
    run(str(python), "-m", "pip", "install", "--quiet", f"{wheel}[drf]", PINNED["django"],
        PINNED["djangorestframework"], PINNED["gunicorn"], cwd=work)
    installed = {line.split("==")[0].lower() for line in run(str(python), "-m", "pip", "freeze", cwd=work).split()}
    assert "django-ms-token" in installed
    assert not installed & {"service-kit", "shopdev", "djangorestframework-simplejwt"}
    return {"work": work, "python": python, "bin": python.parent}


def make_project(env: dict[str, Path], name: str, snippets: dict[str, str]) -> Path:
    run(str(env["bin"] / "django-admin"), "startproject", name, cwd=env["work"])
    project = env["work"] / name
    package = project / name
    with (package / "settings.py").open("a") as settings:
        settings.write("\n" + snippets[f"{name}/settings.py"])
    (package / "views.py").write_text(snippets[f"{name}/views.py"])
    view = {"orders": ("api/orders/", "OrderList"), "invoices": ("api/order-count/", "OrderCount")}[name]
    with (package / "urls.py").open("a") as urls:
        urls.write("\n" + snippets["urls.py"])
        # The project's own route to its own view (not the library's business).
        urls.write(f"from .views import {view[1]}\nurlpatterns += [path({view[0]!r}, {view[1]}.as_view())]\n")
    return project


def start(env: dict[str, Path], project: Path, port: int, environ: dict[str, str]) -> subprocess.Popen:
    process = subprocess.Popen(
        [str(env["bin"] / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", f"{project.name}.wsgi:application"],
        cwd=project, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, f"{project.name} exited"
        try:
            if requests.get(f"http://127.0.0.1:{port}/.well-known/jwks.json", timeout=1).status_code == 200:
                return process
        except requests.RequestException:
            pass
        time.sleep(0.1)
    process.kill()
    raise AssertionError(f"{project.name} did not start")


def test_invoices_calls_orders_from_the_wheel_with_the_readme_lines(adopter_env):
    snippets = readme_snippets()
    ports = {"orders": free_port(), "invoices": free_port()}
    environ = {
        "PATH": f"{adopter_env['bin']}{os.pathsep}{os.environ['PATH']}",
        "ORDERS_URL": f"http://127.0.0.1:{ports['orders']}",
        "INVOICES_URL": f"http://127.0.0.1:{ports['invoices']}",
    }
    projects = {name: make_project(adopter_env, name, snippets) for name in ports}
    for project in projects.values():
        run(str(adopter_env["python"]), "manage.py", "migrate", "-v", "0", cwd=project, env=environ)
        run(str(adopter_env["python"]), "manage.py", "ms_token_keys", cwd=project, env=environ)
    processes = [start(adopter_env, projects[name], ports[name], environ) for name in ports]
    try:
        orders = environ["ORDERS_URL"] + "/api/orders/"
        answer = requests.get(environ["INVOICES_URL"] + "/api/order-count/", timeout=10)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"orders": 0}

        token = run(str(adopter_env["python"]), "manage.py", "ms_token", "--from", "invoices", "--to", "orders",
                    "--scope", "orders:read", "--method", "GET", "--path", "/api/orders/",
                    cwd=projects["invoices"], env=environ).strip()
        first = requests.get(orders, headers={"X-MS-TOKEN": token}, timeout=10)
        assert first.status_code == 200 and first.json()["caller"] == "invoices"
        replayed = requests.get(orders, headers={"X-MS-TOKEN": token}, timeout=10)
        assert replayed.status_code == 401 and replayed.json()["code"] == "token_replayed"
        assert replayed.headers["WWW-Authenticate"] == "MS-Token"

        # A well-formed token from mallory, whom orders does not trust (the issuer is checked
        # before any key is looked up, so any key will do).
        untrusted = run(str(adopter_env["python"]), "-c", (
            "from ms_token.keys import load_key_ring; from ms_token.tokens import mint; "
            "from django.conf import settings; import django; "
            "settings.configure(MS_TOKEN={'SERVICE_NAME': 'mallory', 'KEYS_DIR': 'keys'}); django.setup(); "
            "print(mint('orders', 'orders:read', 'GET', '/api/orders/', issuer='mallory', "
            "key=load_key_ring('orders', __import__('pathlib').Path('keys')).signing_key))"
        ), cwd=projects["orders"], env=environ).strip()
        refused = requests.get(orders, headers={"X-MS-TOKEN": untrusted}, timeout=10)
        assert refused.status_code == 401 and refused.json()["code"] == "untrusted_issuer", json.dumps(refused.json())
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)
