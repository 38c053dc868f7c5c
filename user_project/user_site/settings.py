"""Settings of the user service: accounts, login, profile; issuer of end-user tokens."""
from pathlib import Path

from service_kit.conf import common_settings

BASE_DIR = Path(__file__).resolve().parent.parent

globals().update(common_settings(service="user", base_dir=BASE_DIR))

INSTALLED_APPS += [  # noqa: F821 (set by common_settings)
    "rest_framework_simplejwt.token_blacklist",  # rotation and logout kill refresh tokens
    "accounts",
    "service_tokens",  # the central token service (issue 6): POST /api/service-tokens/
    "txn_tokens",  # the transaction token service (issue 15): POST /api/txn-tokens/
]

# Set before the first migration: swapping the user model later means rebuilding the tables.
AUTH_USER_MODEL = "accounts.User"

ROOT_URLCONF = "user_site.urls"
WSGI_APPLICATION = "user_site.wsgi.application"

# This service owns the user table, so a Bearer token is resolved to the database user:
# a deactivated or deleted account stops working at once, not when its token expires.
REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"] = [  # noqa: F821
    "accounts.authentication.UserJWTAuthentication",
    "ms_token.contrib.rest_framework.MSTokenAuthentication",
    "rest_framework.authentication.SessionAuthentication",
]

# Which calling services this service trusts, and the most each may be granted.
# service-tokens:request: the service may ask the token service (POST /api/service-tokens/) for
# tokens; what it then gets is the grant table's decision (admin), bounded by each callee's policy.
# txn-tokens:request: it may exchange the access token of a user it serves for a transaction token
# (POST /api/txn-tokens/), which users:read then needs for that user.
MS_TOKEN["TRUSTED_ISSUERS"] = {  # noqa: F821
    "billing": ["users:read", "txn-tokens:request", "service-tokens:request"],
    "product": ["service-tokens:request"],
}
