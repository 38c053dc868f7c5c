"""Settings of the user service: accounts, login, profile; issuer of end-user tokens."""
from pathlib import Path

from service_kit.conf import common_settings

BASE_DIR = Path(__file__).resolve().parent.parent

globals().update(common_settings(service="user", base_dir=BASE_DIR))

INSTALLED_APPS += ["accounts"]  # noqa: F821 (set by common_settings)

ROOT_URLCONF = "user_site.urls"
WSGI_APPLICATION = "user_site.wsgi.application"

# Which calling services this service trusts, and the most each may be granted.
MS_TOKEN = {"TRUSTED_ISSUERS": {"billing": ["users:read"]}}
