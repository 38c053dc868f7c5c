"""shopdev's database helpers, on the PostgreSQL server CI names."""
import os
from urllib.parse import urlsplit

import dj_database_url
import pytest

from shopdev.processes import fresh_database_url, postgres_admin


def test_a_fresh_database_is_the_same_url_with_its_own_name(tmp_path, monkeypatch):
    base = os.environ.get("PRODUCT_DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        pytest.skip("a PostgreSQL server (CI runs this suite on PostgreSQL)")
    # A password with URL-reserved characters (trust auth ignores it): kept exactly as encoded.
    parts = urlsplit(base)
    with_password = parts._replace(netloc=f"{parts.username or 'postgres'}:p%40ss%2Fw%3F@{parts.hostname}:{parts.port or 5432}")
    monkeypatch.setenv("PRODUCT_DATABASE_URL", with_password.geturl())
    url = fresh_database_url("product", "service_kit_fresh_check", tmp_path)
    try:
        config = dj_database_url.parse(url)
        assert config["NAME"] == "service_kit_fresh_check" and config["PASSWORD"] == "p@ss/w?"
        with postgres_admin(url) as admin:
            assert admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]).fetchone()
    finally:
        with postgres_admin(url) as admin:
            admin.execute("DROP DATABASE IF EXISTS service_kit_fresh_check")
