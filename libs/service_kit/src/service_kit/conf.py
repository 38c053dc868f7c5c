"""Settings helpers: read a service's configuration from the environment.

Every project's ``settings.py`` calls :func:`common_settings` and then adds what is its own,
so the three projects agree on errors, logging, authentication and database handling.
"""
from __future__ import annotations

import importlib.util
import ipaddress
import os
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from .logs import LOG_FORMATS, PLAIN_FORMAT

SERVICE_NAMES = ("user", "product", "billing")

DEFAULT_SERVICE_URLS = {
    "user": "http://127.0.0.1:8001",
    "product": "http://127.0.0.1:8002",
    "billing": "http://127.0.0.1:8003",
}

# End users' tokens (simplejwt). Refresh tokens outlive the publication of the key that signed
# them: the user service verifies them with a replaced key for this long (MS_TOKEN below).
ACCESS_TOKEN_LIFETIME = timedelta(minutes=5)
REFRESH_TOKEN_LIFETIME = timedelta(days=1)
USER_TOKEN_LEEWAY = 5

# Who may read /metrics by default: a Prometheus (or an agent) on the service's own host.
DEFAULT_METRICS_ALLOWED_CIDRS = ["127.0.0.0/8", "::1/128"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {raw!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    """A whole number from the environment, at least ``minimum``; a bad one stops the service at
    startup with its name rather than a bare traceback."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def env_choice(name: str, choices: tuple[str, ...], default: str) -> str:
    value = os.environ.get(name, "").strip().lower() or default
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def env_networks(name: str, default: list[str]) -> list[Network]:
    """Comma-separated networks (``10.0.0.0/8,192.0.2.7``); a bad one stops the service at startup."""
    try:
        return [ipaddress.ip_network(cidr, strict=False) for cidr in env_list(name, default)]
    except ValueError as error:
        raise ImproperlyConfigured(f"{name}: {error}") from None


THROTTLE_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"10/min"`` → ``(10, 60)``: DRF's format (``s``, ``m``, ``h``, ``d``, or words that start so)."""
    try:
        number, period = rate.split("/")
        return int(number), THROTTLE_PERIODS[period.strip()[0]]
    except (ValueError, KeyError, IndexError):
        raise ImproperlyConfigured(f"a throttle rate is N/s, N/min, N/hour or N/day, not {rate!r}") from None


def env_rate(name: str, default: str) -> str:
    """A throttle rate from the environment, checked at startup rather than at the first login."""
    rate = os.environ.get(name, default)
    parse_rate(rate)
    return rate


def service_url(service: str) -> str:
    """Base URL of a service from ``<SERVICE>_SERVICE_URL``, without a trailing slash."""
    return os.environ.get(f"{service.upper()}_SERVICE_URL", DEFAULT_SERVICE_URLS[service]).rstrip("/")


def default_allowed_hosts(service: str) -> list[str]:
    """Loopback, and the host of the service's own ``<SERVICE>_SERVICE_URL``: the name its peers
    call it by (a Host header Django would otherwise refuse with a 400, so every call a 503)."""
    hosts = ["127.0.0.1", "localhost", "[::1]"]
    own = urlsplit(service_url(service)).hostname
    if own:
        own = f"[{own}]" if ":" in own else own
        if own not in hosts:
            hosts.append(own)
    return hosts


def database_config(service: str, *, data_dir: Path) -> dict[str, Any]:
    """``<SERVICE>_DATABASE_URL``, else ``DATABASE_URL``, else a SQLite file under ``data_dir``."""
    url = os.environ.get(f"{service.upper()}_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if not url:
        data_dir.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{data_dir / f'{service}.sqlite3'}"
    config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # Concurrent requests (threads, workers) queue for the write lock instead of failing
        # with "database is locked"; WAL lets readers go on while one writer works.
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"] = {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    elif config["ENGINE"] == "django.db.backends.postgresql" and importlib.util.find_spec("psycopg"):
        # psycopg 3 prepares a statement once it has run this often on a connection, on
        # server-binding cursors only: the X-MS-TOKEN replay claim (Django's own cursors bind on
        # the client). Django's default, never, suits a transaction-mode pooler that cannot keep
        # prepared statements (PgBouncer before 1.22, or with max_prepared_statements = 0, its
        # default before 1.24): behind one, set OPTIONS["prepare_threshold"] = None.
        config.setdefault("OPTIONS", {}).setdefault("prepare_threshold", 5)
    return config


CACHE_TABLE = "django_cache"


def cache_config(service: str) -> dict[str, Any]:
    """``CACHE_URL`` = ``redis://...``: Redis; unset, the service's own database
    (``service_kit.cache.DatabaseCache``, which never evicts a live entry). Both are shared by
    every worker process and replica (a per-process memory cache would let each gunicorn worker
    count login attempts on its own) and keep the throttles' counters until they expire."""
    url = os.environ.get("CACHE_URL")
    if not url:
        # MAX_ENTRIES: past this many rows, each write also deletes the expired ones.
        return {"BACKEND": "service_kit.cache.DatabaseCache", "LOCATION": CACHE_TABLE,
                "OPTIONS": {"MAX_ENTRIES": 10000}}
    if url.startswith(("redis://", "rediss://")):
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url,
                "KEY_PREFIX": service}
    raise ImproperlyConfigured(f"CACHE_URL must be redis://... (or unset: the service's database), not {url!r}")


def demo_password(variable: str, published: str) -> str:
    """The password of a demo login (``seed_demo``): the environment's ``variable``, else the
    published default, which only debug mode accepts: with debug off anyone who read the README
    could log in with it."""
    from django.conf import settings
    from django.core.management.base import CommandError

    given = os.environ.get(variable)
    if given:
        return given
    if settings.DEBUG:
        return published
    raise CommandError(
        f"DJANGO_DEBUG is off: set {variable} to the demo password you want "
        "(the default one is published, so it is used in debug mode only)"
    )


def secret_key(debug: bool) -> str:
    key = os.environ.get("DJANGO_SECRET_KEY")
    if key:
        return key
    if debug:
        return "django-insecure-dev-only-key-never-use-outside-127.0.0.1"
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is not set. With DJANGO_DEBUG off a real secret key is required; "
        "set DJANGO_SECRET_KEY (e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))')."
    )


def ms_token_settings(service: str, service_urls: dict[str, str], *, repo_dir: Path) -> dict[str, Any]:
    """The shop's ``MS_TOKEN``, from the environment: keys from ``MS_SIGNING_KEY`` (PEM text),
    ``MS_SIGNING_KEY_FILE`` or the ``MS_KEYS_DIR`` directory (``.keys/`` in the repo, made by
    ``manage_all.py keys``); ``MS_REPLAY_CACHE``; ``MS_TOKEN_SOURCE``. The user service is the
    shop's token service and its transaction token service (tokens for the audience ``shop``,
    the trust domain its user tokens are for too), and a key it replaced verifies its refresh
    tokens until they expire."""
    return {
        "SERVICE_NAME": service,
        "SERVICE_URLS": service_urls,
        "SIGNING_KEY": os.environ.get("MS_SIGNING_KEY") or None,
        "SIGNING_KEY_FILE": os.environ.get("MS_SIGNING_KEY_FILE") or None,
        "KEYS_DIR": Path(os.environ.get("MS_KEYS_DIR") or repo_dir / ".keys"),
        "REPLAY_CACHE": os.environ.get("MS_REPLAY_CACHE") or None,
        "TOKEN_SOURCE": os.environ.get("MS_TOKEN_SOURCE") or "self",
        "TOKEN_SERVICE_ISSUER": "user",
        "TXN_TOKEN_ISSUER": "user",
        "TXN_TOKEN_AUDIENCE": "shop",
        "PEER_HEADERS": "service_kit.middleware.request_id_headers",
        "RETIRED_KEY_VERIFIES_FOR": int(REFRESH_TOKEN_LIFETIME.total_seconds()) + USER_TOKEN_LEEWAY,
        "METRICS": "ms_token.contrib.prometheus.PrometheusMetrics",
    }


def common_settings(*, service: str, base_dir: Path) -> dict[str, Any]:
    """Settings shared by every service. ``base_dir`` is the project directory."""
    if service not in SERVICE_NAMES:
        raise ImproperlyConfigured(f"unknown service {service!r}")
    repo_dir = base_dir.parent
    debug = env_bool("DJANGO_DEBUG", True)
    log_level = os.environ.get("LOG_LEVEL", "INFO")
    log_format = env_choice("LOG_FORMAT", LOG_FORMATS, "plain")
    service_urls = {name: service_url(name) for name in SERVICE_NAMES}
    trusted_proxies = env_int("TRUSTED_PROXY_COUNT", 0)
    secure_cookies = env_bool("DJANGO_SECURE_COOKIES", False)
    return {
        "BASE_DIR": base_dir,
        "REPO_DIR": repo_dir,
        "DEBUG": debug,
        "SECRET_KEY": secret_key(debug),
        "ALLOWED_HOSTS": env_list("DJANGO_ALLOWED_HOSTS", default_allowed_hosts(service)),
        "DATABASES": {"default": database_config(service, data_dir=repo_dir / ".data")},
        "CACHES": {"default": cache_config(service)},
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
        "INSTALLED_APPS": [
            "django.contrib.admin",
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "django.contrib.messages",
            "django.contrib.staticfiles",
            "rest_framework",
            "drf_spectacular",
            "drf_spectacular_sidecar",
            "service_kit",
            "ms_token",
        ],
        "MIDDLEWARE": [
            # Request counts and latency by view (GET /metrics), around everything else.
            "django_prometheus.middleware.PrometheusBeforeMiddleware",
            "service_kit.middleware.RequestIDMiddleware",
            "service_kit.tracing.TraceContextMiddleware",
            # Before anything that reads the Host header or the body (and could fail on them).
            "service_kit.middleware.AllowedHostsMiddleware",
            "service_kit.middleware.RequestSizeMiddleware",
            "service_kit.unavailable.DatabaseUnavailableMiddleware",
            "django.middleware.security.SecurityMiddleware",
            "whitenoise.middleware.WhiteNoiseMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
            "service_kit.middleware.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "service_kit.throttling.LoginThrottleMiddleware",  # after the CSRF check
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
            "django.middleware.clickjacking.XFrameOptionsMiddleware",
            "service_kit.metrics.PrometheusAfterMiddleware",
        ],
        # Who may read GET /metrics (loopback unless METRICS_ALLOWED_CIDRS says otherwise).
        "METRICS_ALLOWED_NETWORKS": env_networks("METRICS_ALLOWED_CIDRS", DEFAULT_METRICS_ALLOWED_CIDRS),
        "TEMPLATES": [
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "DIRS": [],
                "APP_DIRS": True,
                "OPTIONS": {
                    "context_processors": [
                        "django.template.context_processors.request",
                        "django.contrib.auth.context_processors.auth",
                        "django.contrib.messages.context_processors.messages",
                    ]
                },
            }
        ],
        "AUTH_PASSWORD_VALIDATORS": [
            {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
            {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
            {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
            {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
        ],
        "LANGUAGE_CODE": "en-us",
        "TIME_ZONE": "UTC",
        "USE_I18N": True,
        "USE_TZ": True,
        "CSRF_FAILURE_VIEW": "service_kit.errors.csrf_failure",
        # Behind a TLS-terminating proxy (the Ingress) a request is HTTPS when the proxy says so;
        # otherwise the CSRF origin check compares https:// with http:// and refuses every form
        # login. Trusted only where proxies are (TRUSTED_PROXY_COUNT), as X-Forwarded-For is.
        "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https") if trusted_proxies else None,
        "CSRF_TRUSTED_ORIGINS": env_list("DJANGO_CSRF_TRUSTED_ORIGINS", []),
        # Session and CSRF cookies only over HTTPS (a deployment served over TLS sets it).
        "SESSION_COOKIE_SECURE": secure_cookies,
        "CSRF_COOKIE_SECURE": secure_cookies,
        # Debug mode's error page shows the traceback, never the settings or the environment.
        "DEFAULT_EXCEPTION_REPORTER_FILTER": "service_kit.errors.TracebackOnlyReporterFilter",
        "STATIC_URL": "static/",
        "STATIC_ROOT": repo_dir / ".data" / "static" / service,
        "STORAGES": {
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            # Plain storage (no manifest): works without collectstatic in dev and tests.
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
        # Serve static files from the finders (no collectstatic needed) so gunicorn serves the
        # admin's CSS and Swagger UI's offline assets.
        "WHITENOISE_USE_FINDERS": True,
        "WHITENOISE_AUTOREFRESH": debug,
        "REST_FRAMEWORK": {
            "DEFAULT_AUTHENTICATION_CLASSES": [
                # Bearer first: a request with no credentials is answered
                # `WWW-Authenticate: Bearer`, the header end users need.
                "service_kit.user_auth.UserTokenAuthentication",
                "ms_token.contrib.rest_framework.MSTokenAuthentication",
                "rest_framework.authentication.SessionAuthentication",
            ],
            "DEFAULT_PERMISSION_CLASSES": ["service_kit.permissions.IsEndUser"],
            "DEFAULT_RENDERER_CLASSES": [
                "rest_framework.renderers.JSONRenderer",
                "service_kit.branding.BrowsableAPIRenderer",  # DRF's, naming the service
            ],
            "DEFAULT_PARSER_CLASSES": [
                "service_kit.parsers.JSONParser",
                "rest_framework.parsers.FormParser",
                "rest_framework.parsers.MultiPartParser",
            ],
            "DEFAULT_PAGINATION_CLASS": "service_kit.pagination.StrictPageNumberPagination",
            "PAGE_SIZE": 20,
            "DEFAULT_SCHEMA_CLASS": "service_kit.schema.ServiceAutoSchema",
            "EXCEPTION_HANDLER": "service_kit.errors.exception_handler",
            "DEFAULT_THROTTLE_RATES": {
                "login": env_rate("LOGIN_THROTTLE_RATE", "10/min"),
                "login_username": env_rate("LOGIN_USERNAME_THROTTLE_RATE", "20/hour"),
                "register": env_rate("REGISTER_THROTTLE_RATE", "20/hour"),
            },
            # Client addresses for throttling come from the socket unless this many proxies in
            # front of us are trusted to set X-Forwarded-For; otherwise any client could
            # dodge the login throttle by sending a new X-Forwarded-For each time.
            "NUM_PROXIES": trusted_proxies,
        },
        "SIMPLE_JWT": {
            "ACCESS_TOKEN_LIFETIME": ACCESS_TOKEN_LIFETIME,
            "REFRESH_TOKEN_LIFETIME": REFRESH_TOKEN_LIFETIME,
            "ROTATE_REFRESH_TOKENS": True,
            "BLACKLIST_AFTER_ROTATION": True,
            "ALGORITHM": "EdDSA",
            "ISSUER": "user",
            "AUDIENCE": "shop",
            "LEEWAY": USER_TOKEN_LEEWAY,
            "AUTH_TOKEN_CLASSES": ("service_kit.user_auth.UserAccessToken",),
        },
        "SPECTACULAR_SETTINGS": {
            "TITLE": f"{service} service",
            "VERSION": "1.0.0",
            "SERVE_INCLUDE_SCHEMA": False,
            "SWAGGER_UI_DIST": "SIDECAR",
            "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
            "REDOC_DIST": "SIDECAR",
            "COMPONENT_SPLIT_REQUEST": True,
            # The API reads JSON; the form parsers are there for the browsable API's HTML forms,
            # whose rules (an empty field is an absent one) are not JSON's.
            "PARSER_WHITELIST": ["service_kit.parsers.JSONParser"],
        },
        # The X-MS-TOKEN library (ms_token): who we are, where our peers are, our keys, the
        # replay store, the token source. Each project adds whom it trusts (TRUSTED_ISSUERS).
        "MS_TOKEN": ms_token_settings(service, service_urls, repo_dir=repo_dir),
        "LOG_FORMAT": log_format,
        "LOGGING": {
            "version": 1,
            "disable_existing_loggers": False,
            "filters": {
                "request_id": {"()": "service_kit.middleware.RequestIDLogFilter"},
                "trace_context": {"()": "service_kit.tracing.TraceContextLogFilter"},
            },
            "formatters": {
                "plain": {"format": PLAIN_FORMAT},
                # LOG_FORMAT=json: one JSON object per line (service_kit.logs).
                "json": {"()": "service_kit.logs.JSONFormatter"},
            },
            "handlers": {
                "console": {
                    "class": "logging.StreamHandler",
                    "filters": ["request_id", "trace_context"] if log_format == "json" else ["request_id"],
                    "formatter": log_format,
                }
            },
            "root": {"handlers": ["console"], "level": log_level},
            "loggers": {
                # Django's default config gives "django" a console handler of its own (debug
                # only) besides propagating to ours: every line twice, and not all as JSON.
                "django": {"handlers": [], "level": log_level},
                "django.db.backends": {"level": "WARNING"},
                # runserver's request lines: JSON too, when lines are JSON.
                **({"django.server": {"handlers": ["console"], "level": "INFO", "propagate": False}}
                   if log_format == "json" else {}),
            },
        },
    }
