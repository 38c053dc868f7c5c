"""Settings of the product service: the catalogue."""
from pathlib import Path

from service_kit.conf import common_settings

BASE_DIR = Path(__file__).resolve().parent.parent

globals().update(common_settings(service="product", base_dir=BASE_DIR))

INSTALLED_APPS += ["catalog"]  # noqa: F821 (set by common_settings)

ROOT_URLCONF = "product_site.urls"
WSGI_APPLICATION = "product_site.wsgi.application"

# Which calling services this service trusts, and the most each may be granted.
MS_TOKEN["TRUSTED_ISSUERS"] = {"billing": ["products:read"]}  # noqa: F821
