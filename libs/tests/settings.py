"""A minimal service that uses service_kit, standing in for "any Django/DRF project"."""
from pathlib import Path

from service_kit.conf import common_settings

globals().update(common_settings(service="product", base_dir=Path(__file__).resolve().parent))

ROOT_URLCONF = "tests.urls"
MS_TOKEN = {"TRUSTED_ISSUERS": {"billing": ["products:read"]}}
