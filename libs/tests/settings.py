"""A minimal service that uses service_kit, standing in for "any Django/DRF project"."""
from pathlib import Path

from service_kit.conf import common_settings

globals().update(common_settings(service="product", base_dir=Path(__file__).resolve().parent))

ROOT_URLCONF = "tests.urls"
MS_TOKEN = {"TRUSTED_ISSUERS": {"billing": ["products:read"]}}

# A file, not SQLite's shared in-memory database, for the test database: threads writing at once
# then wait for the lock (timeout) instead of failing with "database table is locked".
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    import os
    import tempfile

    DATABASES["default"]["TEST"] = {"NAME": os.path.join(tempfile.gettempdir(), f"ms_token_test_{os.getpid()}.sqlite3")}
