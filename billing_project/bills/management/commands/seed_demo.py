"""Billing's local admin login, for `make up`. Safe to run again."""
from __future__ import annotations

from django.core.management.base import BaseCommand
from ms_token.settings import ms_token_settings
from service_kit.demo import ensure_demo_admin


class Command(BaseCommand):
    help = (
        "Ensure the local admin login for /admin/, where bills and deliveries are read "
        "(password from DEMO_ADMIN_PASSWORD; with debug off it must be set)."
    )

    def handle(self, *args, **options) -> None:
        # Bills are made by end users through the API (the demo's alice); none are seeded.
        username, password = ensure_demo_admin()
        url = ms_token_settings.SERVICE_URLS["billing"]
        self.stdout.write(f"billing: admin login {username} / {password} at {url}/admin/")
