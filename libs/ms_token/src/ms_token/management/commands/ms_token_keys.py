"""``manage.py ms_token_keys``: this service's signing keys.

    manage.py ms_token_keys                 # creates a key under KEYS_DIR if the service has none
    manage.py ms_token_keys --rotate        # adds a new key: published at once, signing soon after
    manage.py ms_token_keys --list          # every key: kid, created, state (and when)
    manage.py ms_token_keys --revoke KID    # withdraws a key at once and for good
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...jwks import RefreshPolicy, withdrawal_bound
from ...keys import (
    ACTIVATION_SECONDS,
    OWN_KEYS_CHECK_INTERVAL,
    RETENTION_SECONDS,
    KeyConfigurationError,
    KeyNotFound,
    KeyRing,
    KeyStatus,
    configured_key_ring,
    create_key,
    default_keys_dir,
    ensure_key,
    keys_given_in_settings,
    revoke_key,
)
from ...settings import ms_token_settings


def _when(moment: float | None) -> str:
    if moment is None:
        return "-"
    return datetime.fromtimestamp(moment, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Command(BaseCommand):
    help = "This service's signing keys: create one if it has none, or --rotate, --list, --revoke KID."
    requires_system_checks: list[str] = []  # keys are needed before anything else works

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_mutually_exclusive_group()
        actions.add_argument(
            "--rotate", action="store_true",
            help=f"add a new key: published at once, signing {ACTIVATION_SECONDS} s later",
        )
        actions.add_argument("--list", action="store_true", help="print every key: kid, created, state")
        actions.add_argument(
            "--revoke", metavar="KID",
            help="withdraw KID at once and for good (a key that may have leaked)",
        )

    def handle(self, *args: Any, rotate: bool, list: bool, revoke: str | None, **options: Any) -> None:
        service = ms_token_settings.SERVICE_NAME
        try:
            if list:
                self._list(service, configured_key_ring(service))
            elif revoke:
                self._revoke(service, revoke)
            else:
                self._create(service, rotate=rotate)
        except (KeyConfigurationError, KeyNotFound) as error:
            raise CommandError(str(error)) from error

    def _create(self, service: str, *, rotate: bool) -> None:
        if keys_given_in_settings():
            if rotate:
                raise CommandError(
                    f"{service}: its key is given by SIGNING_KEY/SIGNING_KEY_FILE: rotate by giving it a "
                    "new key there (see the README, 'Keys given in settings')"
                )
            self.stdout.write(f"{service}: signs with the key given by SIGNING_KEY/SIGNING_KEY_FILE")
            return
        directory = default_keys_dir()
        created = ensure_key(service, directory)
        if created is not None:
            self.stdout.write(f"{service}: created signing key {created.kid} in {directory / service}")
        if rotate:
            key = create_key(service, directory)
            self.stdout.write(
                f"{service}: new key {key.kid}, published now, signing in {ACTIVATION_SECONDS} s; "
                "the key it replaces keeps verifying until its tokens have expired"
            )
        elif created is None:
            self.stdout.write(f"{service}: has a signing key in {directory / service}")

    def _list(self, service: str, ring: KeyRing) -> None:
        for status in ring.statuses():
            self.stdout.write(
                f"{service:<10} {status.kid:<34} {_when(status.created_at or None):<20} "
                f"{status.state:<8} {self._detail(status)}".rstrip()
            )

    @staticmethod
    def _detail(status: KeyStatus) -> str:
        if status.state == "pending":
            return f"signs from {_when(status.signs_from)}"
        if status.state == "signing":
            return f"since {_when(status.signs_from)}" if status.created_at else ""
        if status.state == "retired":
            published = None if status.retired_at is None else status.retired_at + RETENTION_SECONDS
            return f"since {_when(status.retired_at)}, published until {_when(published)}"
        return f"at {_when(status.revoked_at)}"

    def _revoke(self, service: str, kid: str) -> None:
        ring = configured_key_ring(service)
        if any(revocation.kid == kid for revocation in ring.revocations):
            self.stdout.write(f"{service}: {kid} is already revoked")
            return
        revocation = revoke_key(ring, kid, default_keys_dir())
        self.stdout.write(
            f"{service}: revoked {kid}: out of the JWKS now; this service refuses its tokens within "
            f"{OWN_KEYS_CHECK_INTERVAL:.0f} s, peers on these settings within "
            f"{withdrawal_bound(RefreshPolicy.from_settings()):.0f} s"
        )
        remaining = configured_key_ring(service)
        if not remaining.keys:
            if keys_given_in_settings():
                self.stdout.write(
                    f"{service}: has no signing key left: give it a new SIGNING_KEY/SIGNING_KEY_FILE "
                    "(until then it can sign nothing)"
                )
                return
            key = create_key(service, default_keys_dir())
            self.stdout.write(f"{service}: no key was left: created {key.kid}, signing at once")
        elif revocation.was_signing:
            self.stdout.write(f"{service}: {remaining.signing_key.kid} signs from now on")
