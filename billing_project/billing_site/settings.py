"""Settings of the billing service: bills and deliveries."""
from pathlib import Path

from service_kit.conf import common_settings, env_int

BASE_DIR = Path(__file__).resolve().parent.parent

globals().update(common_settings(service="billing", base_dir=BASE_DIR))

INSTALLED_APPS += ["bills"]  # noqa: F821 (set by common_settings)

ROOT_URLCONF = "billing_site.urls"
WSGI_APPLICATION = "billing_site.wsgi.application"

# No service calls billing; it trusts none.
MS_TOKEN["TRUSTED_ISSUERS"] = {}  # noqa: F821

# An Idempotency-Key claimed by a request that died with its process (a killed worker or
# replica) blocks retries with 409 until it is this old; then a retry takes it over. It must
# exceed the longest a bill can take (its peer calls are bounded by their timeouts).
IDEMPOTENCY_STALE_CLAIM_SECONDS = env_int("IDEMPOTENCY_STALE_CLAIM_SECONDS", 120, minimum=10)
