"""``manage.py ms_token_keys``: this service's signing keys under ``MS_TOKEN["KEYS_DIR"]``.

    manage.py ms_token_keys             # creates a key if the service has none
    manage.py ms_token_keys --rotate    # adds a new key: published at once, signing soon after
"""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...keys import ACTIVATION_SECONDS, KeyConfigurationError, create_key, default_keys_dir, ensure_key
from ...settings import ms_token_settings


class Command(BaseCommand):
    help = "Create this service's signing key if it has none, or add a new one (--rotate)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--rotate", action="store_true",
            help=f"add a new key: published at once, signing {ACTIVATION_SECONDS} s later",
        )

    def handle(self, *args: Any, rotate: bool, **options: Any) -> None:
        service = ms_token_settings.SERVICE_NAME
        try:
            directory = default_keys_dir()
        except KeyConfigurationError as error:
            raise CommandError(str(error)) from error
        created = ensure_key(service, directory)
        if created is not None:
            self.stdout.write(f"{service}: created signing key {created.kid} in {directory / service}")
        if rotate:
            key = create_key(service, directory)
            self.stdout.write(
                f"{service}: new key {key.kid}, published now, signing in {ACTIVATION_SECONDS} s; "
                "the old key stays published until its tokens have expired"
            )
        elif created is None:
            self.stdout.write(f"{service}: has a signing key in {directory / service}")
