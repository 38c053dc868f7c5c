"""product's settings plus the bench endpoints (DJANGO_SETTINGS_MODULE for `make bench` only)."""
import os

from product_site.settings import *  # noqa: F403

ROOT_URLCONF = "shopbench.product_urls"
BENCH_STATIC_TOKEN = os.environ["BENCH_STATIC_TOKEN"]
BENCH_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
