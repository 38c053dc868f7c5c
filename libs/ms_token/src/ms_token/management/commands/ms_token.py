"""``manage.py ms_token --from billing --to product --scope products:read --method GET
--path /api/products/``: prints one X-MS-TOKEN, for curl and debugging."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...settings import ms_token_settings
from ...tokens import mint


class Command(BaseCommand):
    help = "Print one X-MS-TOKEN that this service (--from) would send to --to for one request."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="issuer", required=True, help="this service's name")
        parser.add_argument("--to", dest="audience", required=True, help="the service called")
        parser.add_argument("--scope", required=True, help='space-separated, e.g. "products:read"')
        parser.add_argument("--method", required=True, help="GET, POST, ...")
        parser.add_argument("--path", required=True, help="request path, no host, no query")
        parser.add_argument("--ttl", type=int, default=None, help="seconds (default 30, max 300)")
        parser.add_argument("--body-file", type=Path, default=None, help="the exact request body")

    def handle(
        self, *args: Any, issuer: str, audience: str, scope: str, method: str, path: str, ttl: int | None,
        body_file: Path | None, **options: Any,
    ) -> None:
        own = ms_token_settings.SERVICE_NAME
        if issuer != own:
            raise CommandError(
                f"--from {issuer}: this project is {own!r} and signs only its own "
                "tokens (run the command in the --from project)"
            )
        peers = ms_token_settings.SERVICE_URLS
        if audience not in peers:
            raise CommandError(f"--to must be one of {', '.join(sorted(peers))}")
        if not path.startswith("/") or "?" in path:
            raise CommandError("--path must be a path starting with '/', without host or query")
        try:
            body = body_file.read_bytes() if body_file else None
        except OSError as error:
            raise CommandError(f"--body-file: {error}") from error
        try:
            token = mint(audience, scope, method, path, body, ttl=ttl)
        except ValueError as error:  # mint's own check of the ttl
            raise CommandError(f"--ttl: {error}") from error
        self.stdout.write(token)
