"""billing's settings plus the bench caller (DJANGO_SETTINGS_MODULE for `make bench` only)."""
import os

from billing_site.settings import *  # noqa: F403

ROOT_URLCONF = "shopbench.billing_urls"
BENCH_STATIC_TOKEN = os.environ["BENCH_STATIC_TOKEN"]
