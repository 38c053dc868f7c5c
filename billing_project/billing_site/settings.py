"""Settings of the billing service: bills and deliveries."""
from pathlib import Path

from service_kit.conf import common_settings

BASE_DIR = Path(__file__).resolve().parent.parent

globals().update(common_settings(service="billing", base_dir=BASE_DIR))

INSTALLED_APPS += ["bills"]  # noqa: F821 (set by common_settings)

ROOT_URLCONF = "billing_site.urls"
WSGI_APPLICATION = "billing_site.wsgi.application"

# No service calls billing; it trusts none.
MS_TOKEN["TRUSTED_ISSUERS"] = {}  # noqa: F821
