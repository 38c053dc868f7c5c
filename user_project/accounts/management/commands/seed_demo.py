"""Demo data for `make up`: the staff login the demo and the README use. Safe to run again."""
from __future__ import annotations

import os

from django.core.management.base import BaseCommand

from accounts.services import ensure_demo_staff

DEFAULT_STAFF_PASSWORD = "staff-demo-2026!"


class Command(BaseCommand):
    help = "Create or reset the demo staff user (password from DEMO_STAFF_PASSWORD)."

    def handle(self, *args, **options) -> None:
        password = os.environ.get("DEMO_STAFF_PASSWORD") or DEFAULT_STAFF_PASSWORD
        user = ensure_demo_staff(username="staff", password=password)
        # alice is not seeded: the demo registers her through the API.
        self.stdout.write(f"user: staff login {user.username} / {password}")
