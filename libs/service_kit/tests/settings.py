"""A minimal service on the shop's platform (service_kit.conf), standing in for one of its projects."""
import os
import tempfile
from pathlib import Path

from service_kit.conf import common_settings

globals().update(common_settings(service="product", base_dir=Path(__file__).resolve().parent))

ROOT_URLCONF = "tests.urls"
MS_TOKEN["TRUSTED_ISSUERS"] = {"billing": ["products:read"]}  # noqa: F821 (set by common_settings)

# A file, not SQLite's shared in-memory database, for the test database: threads writing at once
# then wait for the lock (timeout) instead of failing with "database table is locked".
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F821
    DATABASES["default"]["TEST"] = {  # noqa: F821
        "NAME": os.path.join(tempfile.gettempdir(), f"service_kit_test_{os.getpid()}.sqlite3")
    }
