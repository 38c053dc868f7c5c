"""manage_all.py (repo root): what `make up` shows when a step fails."""
import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

FAKE_MANAGE = """
import sys
if sys.argv[1] == "seed_demo":
    print("seeding the demo data")
    sys.stderr.write("Traceback (most recent call last):\\nRuntimeError: the real cause\\n")
    sys.exit(1)
"""


@pytest.fixture
def manage_all(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("manage_all_under_test", REPO / "manage_all.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for service in module.SERVICES:  # projects whose manage.py migrates fine and fails to seed
        commands = tmp_path / f"{service}_project" / "app" / "management" / "commands"
        commands.mkdir(parents=True)
        (commands / "seed_demo.py").write_text("")
        (tmp_path / f"{service}_project" / "manage.py").write_text(FAKE_MANAGE)
    monkeypatch.setattr(module, "REPO", tmp_path)
    monkeypatch.setattr(module, "cmd_keys", lambda argv: 0)
    return module


def test_up_shows_why_seeding_failed_before_exiting(manage_all, capfd):
    with pytest.raises(SystemExit) as exit_:
        manage_all.cmd_up([])
    assert "seed_demo` failed with exit code 1" in str(exit_.value.code)
    out, err = capfd.readouterr()
    assert "RuntimeError: the real cause" in out + err
    assert "seeding the demo data" in out + err


def test_a_failing_command_with_captured_output_shows_that_output(manage_all, capfd):
    with pytest.raises(SystemExit):
        manage_all.manage("user", "seed_demo", capture_output=True, text=True)
    out, err = capfd.readouterr()
    assert "RuntimeError: the real cause" in err


def test_a_plain_database_url_does_not_put_the_three_services_in_one_database(tmp_path):
    import os
    import subprocess
    import sys

    shared = tmp_path / "shared.sqlite3"
    env = {name: value for name, value in os.environ.items() if not name.endswith("DATABASE_URL")}
    env["DATABASE_URL"] = f"sqlite:///{shared}"
    show_database = "from django.conf import settings; print(settings.DATABASES['default']['NAME'])"
    result = subprocess.run(
        [sys.executable, str(REPO / "manage_all.py"), "product", "shell", "-c", show_database],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert str(shared) not in result.stdout and result.stdout.strip().endswith("product.sqlite3")
    assert "ignoring DATABASE_URL" in result.stderr


@pytest.mark.parametrize("url", ["http://0.0.0.0:8002", "http://192.0.2.10:8002", "http://shop.example:8002"])
def test_up_refuses_debug_mode_on_an_address_beyond_loopback(manage_all, monkeypatch, capfd, url):
    monkeypatch.delenv("DJANGO_DEBUG", raising=False)  # debug is the default
    monkeypatch.setenv("PRODUCT_SERVICE_URL", url)
    with pytest.raises(SystemExit) as exit_:
        manage_all.cmd_up([])
    message = str(exit_.value.code)
    assert "debug mode" in message and f"PRODUCT_SERVICE_URL={url}" in message and "DJANGO_DEBUG=0" in message
    assert "seeding the demo data" not in capfd.readouterr().out  # refused before any step ran

    monkeypatch.setenv("DJANGO_DEBUG", "0")  # debug off: it goes on (to the fake seed's failure)
    with pytest.raises(SystemExit) as exit_:
        manage_all.cmd_up([])
    assert "seed_demo` failed" in str(exit_.value.code)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8002", "http://localhost:8002", "http://[::1]:8002", "http://127.0.0.2:8002"])
def test_up_keeps_debug_mode_on_loopback(manage_all, monkeypatch, url):
    monkeypatch.delenv("DJANGO_DEBUG", raising=False)
    monkeypatch.setenv("PRODUCT_SERVICE_URL", url)
    with pytest.raises(SystemExit) as exit_:
        manage_all.cmd_up([])
    assert "seed_demo` failed" in str(exit_.value.code)  # past the check, to the fake seed


def _keys(keys_dir, *args):
    """``python manage_all.py keys <args>`` on the keys under ``keys_dir``; its output."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "MS_KEYS_DIR": str(keys_dir)}
    env.pop("MS_SIGNING_KEY", None), env.pop("MS_SIGNING_KEY_FILE", None)
    result = subprocess.run(
        [sys.executable, str(REPO / "manage_all.py"), "keys", *args],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _listed(output):
    """``keys --list`` as {(service, kid): state}, checking every line names a creation time."""
    import re

    rows = {}
    for line in output.splitlines():
        service, kid, created, state, *_ = line.split()
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", created), line
        rows[(service, kid)] = state
    return rows


def test_keys_list_and_revoke_through_manage_all(tmp_path):
    _keys(tmp_path)
    assert "new key" in _keys(tmp_path, "--rotate", "product")
    rows = _listed(_keys(tmp_path, "--list"))
    assert sorted(state for (service, _), state in rows.items() if service == "product") == ["pending", "signing"]
    assert {service for service, _ in rows} == {"user", "product", "billing"}
    assert set(rows.values()) == {"signing", "pending"}

    (billing_kid,) = [kid for (service, kid) in rows if service == "billing"]
    output = _keys(tmp_path, "--revoke", "billing", billing_kid)
    assert f"revoked {billing_kid}" in output and "created" in output  # it was billing's only key
    rows = _listed(_keys(tmp_path, "--list"))
    billing = {kid: state for (service, kid), state in rows.items() if service == "billing"}
    assert billing.pop(billing_kid) == "revoked"
    assert list(billing.values()) == ["signing"]  # the new key, at once
    # Creating missing keys again brings nothing back: the revocation is on record.
    _keys(tmp_path)
    assert _listed(_keys(tmp_path, "--list"))[("billing", billing_kid)] == "revoked"


def _run_manage_all(*args):
    import subprocess
    import sys

    return subprocess.run([sys.executable, str(REPO / "manage_all.py"), *args],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args, usage, options", [
    (["--help"], "python manage_all.py up", ["keys --rotate SERVICE", "ms-token --from billing"]),
    (["up", "--help"], "usage: manage_all.py up", ["--no-seed", "--ready-timeout"]),
    (["keys", "--help"], "usage: manage_all.py keys", ["--rotate SERVICE", "--list", "--revoke SERVICE KID"]),
    (["ms-token", "--help"], "usage: manage_all.py ms-token",
     ["--from", "one of user, product, billing", "--to", "--scope", "--method", "--path", "--ttl", "--body-file",
      "--txn-token"]),
    (["ms-token", "--from", "billing", "-h"], "usage: manage_all.py ms-token", ["--txn-token"]),
    (["product", "createsuperuser", "--help"], "usage: manage.py createsuperuser", ["--username", "--noinput"]),
    (["product", "help"], "Available subcommands", ["seed_demo", "ms_token_keys"]),
    (["migrate", "--help"], "usage: manage.py migrate", ["--fake", "in user, product, billing"]),
])
def test_every_command_prints_its_real_help(args, usage, options):
    result = _run_manage_all(*args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(usage) == 1, result.stdout  # once, even for a command of all three
    for option in options:
        assert option in result.stdout, (option, result.stdout)
    assert "is required" not in result.stdout + result.stderr


def test_ms_token_without_from_points_to_its_help():
    result = _run_manage_all("ms-token", "--to", "product")
    assert result.returncode != 0
    assert "--from SERVICE is required" in result.stderr and "ms-token --help" in result.stderr


@pytest.mark.parametrize("url, address", [
    ("http://127.0.0.1:8002", "127.0.0.1:8002"),
    ("http://[::1]:8002", "[::1]:8002"),  # runserver's form for IPv6; "::1:8002" it refuses
    ("http://localhost", "localhost:80"),
    ("https://shop.example", "shop.example:443"),
])
def test_up_gives_runserver_the_address_of_the_service_url(manage_all, url, address):
    assert manage_all.runserver_address(url) == address
