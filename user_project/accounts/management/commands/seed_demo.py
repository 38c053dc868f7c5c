"""Demo data for `make up`: the staff login the demo and the README use. Safe to run again."""
from __future__ import annotations

from django.core.management.base import BaseCommand
from service_kit.conf import demo_password

from accounts.services import ensure_demo_staff

DEFAULT_STAFF_PASSWORD = "staff-demo-2026!"


class Command(BaseCommand):
    help = (
        "Create or reset the demo staff user (password from DEMO_STAFF_PASSWORD; "
        "with debug off it must be set)."
    )

    def handle(self, *args, **options) -> None:
        password = demo_password("DEMO_STAFF_PASSWORD", DEFAULT_STAFF_PASSWORD)
        user = ensure_demo_staff(username="staff", password=password)
        # alice is not seeded: the demo registers her through the API.
        self.stdout.write(f"user: staff login {user.username} / {password}")
