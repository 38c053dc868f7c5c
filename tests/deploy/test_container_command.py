"""The image's command (deploy/container/shop), run here as the container runs it."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHOP = REPO / "deploy" / "container" / "shop"


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    # The image puts its virtualenv first on PATH; here, the one running the tests.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    return subprocess.run([str(SHOP), *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PATH": path, **env})


@pytest.mark.parametrize("args", [(), ("serve",), ("serve", "inventory"), ("migrate", "product"), ("manage", "product")])
def test_a_wrong_command_is_refused_with_its_usage(args):
    result = run(*args)
    assert result.returncode == 64, result
    assert "usage: shop serve SERVICE" in result.stderr


def test_manage_runs_a_command_of_the_named_service(tmp_path):
    result = run("manage", "billing", "check", "--deploy", "--fail-level", "ERROR",
                 DJANGO_DEBUG="0", DJANGO_SECRET_KEY="x" * 50, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
                 DJANGO_SETTINGS_MODULE="billing_site.settings")
    assert result.returncode == 0, result.stderr
    assert "System check identified" in result.stdout + result.stderr
