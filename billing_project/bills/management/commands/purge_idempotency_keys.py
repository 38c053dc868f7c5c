"""Forget Idempotency-Keys older than the retention (24 hours at least); run it daily (cron)."""

from datetime import timedelta

from django.core.management.base import BaseCommand

from bills.services import IDEMPOTENCY_KEY_RETENTION, purge_idempotency_records


class Command(BaseCommand):
    help = "Delete Idempotency-Key records older than --hours (never fewer than 24)."

    def add_arguments(self, parser):
        default_hours = int(IDEMPOTENCY_KEY_RETENTION.total_seconds() // 3600)
        parser.add_argument("--hours", type=int, default=default_hours)

    def handle(self, *args, hours: int, **options):
        deleted = purge_idempotency_records(older_than=timedelta(hours=hours))
        self.stdout.write(f"deleted {deleted} idempotency record(s)")
