"""The version matrix of django-ms-token: its own suite, run from the built wheel, on every
supported Python, Django and DRF. `make matrix`; `.ci/run` runs it after `make test`.

    nox                      # every combination
    nox -s "ms_token(python='3.13', django='6.1', drf='3.18')"

The suite runs on the database ``DATABASE_URL`` names (PostgreSQL in CI: the tuned replay
claim is exercised on every Django) and uses Redis at ``TEST_REDIS_URL``.
"""
from __future__ import annotations

import glob
import os
import tempfile
from pathlib import Path

import nox

REPO = Path(__file__).resolve().parent
LIBRARY = REPO / "libs" / "ms_token"

# Interpreters installed by pyenv (as on this repository's machines) are found by version.
for found in sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.1[1-3].*/bin")), reverse=True):
    os.environ["PATH"] = f"{found}{os.pathsep}{os.environ['PATH']}"

nox.options.default_venv_backend = "venv"
nox.options.error_on_missing_interpreters = True
nox.options.reuse_existing_virtualenvs = True

# (python, Django, DRF): Django 6 needs Python 3.12+; the lowest DRF we declare on the oldest pair.
MATRIX = [
    ("3.11", "5.2", "3.16"),
    ("3.11", "5.2", "3.18"),
    ("3.12", "5.2", "3.18"),
    ("3.13", "5.2", "3.18"),
    ("3.12", "6.0", "3.18"),
    ("3.13", "6.0", "3.18"),
    ("3.12", "6.1", "3.18"),
    ("3.13", "6.1", "3.18"),
]
# What the suite itself needs, beyond the library and its extras.
# PyJWT and jwcrypto: the independent JOSE implementations that check SPEC.md's vectors.
TEST_REQUIREMENTS = ["pytest==9.2.0", "pytest-django==4.14.0", "responses==0.26.3", "dj-database-url==3.1.2",
                     "gunicorn==27.0.1", "PyJWT==2.15.1", "jwcrypto==1.6.1",
                     "opentelemetry-sdk==1.45.1"]


@nox.session
@nox.parametrize("python,django,drf", MATRIX)
def ms_token(session: nox.Session, django: str, drf: str) -> None:
    dist = Path(tempfile.mkdtemp(prefix="ms-token-wheel-"))
    session.run("python", "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dist), str(LIBRARY))
    (wheel,) = dist.glob("django_ms_token-*.whl")
    session.install(
        f"{wheel}[drf,redis,postgres,prometheus]", f"Django~={django}.0", f"djangorestframework~={drf}.0",
        *TEST_REQUIREMENTS,
    )
    # The wheel just built, even where a reused environment holds one of the same version.
    session.install("--force-reinstall", "--no-deps", str(wheel))
    session.run("python", "-c", "import django, rest_framework, ms_token; "
                "print('Django', django.get_version(), 'DRF', rest_framework.VERSION, 'from', ms_token.__file__)")
    session.chdir(LIBRARY)
    session.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", *session.posargs)
