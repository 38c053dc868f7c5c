"""A plain Django + DRF project that uses ms_token and nothing of the shop: the library's own
test bed. This service is "product"; "billing" and "user" are its peers."""
import os
import tempfile
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "ms-token-tests-only"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
USE_TZ = True
ROOT_URLCONF = "tests.urls"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "rest_framework",
    "ms_token",
]
MIDDLEWARE: list[str] = []
# The suite runs on the database DATABASE_URL names (PostgreSQL in CI and the version matrix),
# else a SQLite file: threads writing at once then wait for the lock instead of failing.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'ms_token_tests.sqlite3'}",
        conn_max_age=60,
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {"timeout": 20}
    DATABASES["default"]["TEST"] = {"NAME": os.path.join(tempfile.gettempdir(), f"ms_token_test_{os.getpid()}.sqlite3")}
else:
    # psycopg 3 prepares the replay claim (the library's default on PostgreSQL when enabled).
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
STATIC_URL = "static/"  # live_server serves static files

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["ms_token.contrib.rest_framework.MSTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": [],
    "EXCEPTION_HANDLER": "ms_token.contrib.rest_framework.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": None,
}

MS_TOKEN = {
    "SERVICE_NAME": "product",
    # Nothing listens there (tests that call a peer start one), unless a test running this
    # project as a server names billing's URL.
    "SERVICE_URLS": {
        "billing": os.environ.get("TEST_BILLING_URL", "http://127.0.0.1:9/billing"),
        "user": "http://127.0.0.1:9/user",
    },
    "TRUSTED_ISSUERS": {"billing": ["products:read"]},
    # "user" runs a token service here (its tokens speak for the service in sub).
    "TOKEN_SERVICE_ISSUER": "user",
    "PEER_HEADERS": "tests.request_context.peer_headers",
    # The suite's fresh keys (conftest.py), for its own process and the servers it starts.
    "KEYS_DIR": os.environ.get("MS_KEYS_DIR"),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
