"""``manage.py ms_token --from invoices --to orders --scope orders:read --method GET
--path '/api/orders/?ids=1,2' [--txn-token TXN]``: prints one X-MS-TOKEN, for curl and
debugging."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...settings import ms_token_settings
from ...tokens import mint

_JWS_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


class Command(BaseCommand):
    help = "Print one X-MS-TOKEN that this service (--from) would send to --to for one request."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="issuer", required=True, help="this service's name")
        parser.add_argument("--to", dest="audience", required=True, help="the service called")
        parser.add_argument("--scope", required=True, help='space-separated, e.g. "orders:read"')
        parser.add_argument("--method", required=True, help="GET, POST, ...")
        parser.add_argument(
            "--path", required=True,
            help="request path, no host; a query string after '?' is bound exactly as written (send it so)",
        )
        parser.add_argument("--ttl", type=int, default=None, help="seconds (default 30, max 300)")
        parser.add_argument("--body-file", type=Path, default=None, help="the exact request body")
        parser.add_argument(
            "--txn-token", default=None, help="the transaction token the request carries as Txn-Token (tth)"
        )

    def handle(
        self, *args: Any, issuer: str, audience: str, scope: str, method: str, path: str, ttl: int | None,
        body_file: Path | None, txn_token: str | None, **options: Any,
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
        path, _, query = path.partition("?")
        if not path.startswith("/") or "#" in path or "#" in query:
            raise CommandError("--path must be a path starting with '/' (and a query string), without host or fragment")
        if txn_token is not None and not _JWS_SHAPE.fullmatch(txn_token):
            raise CommandError("--txn-token must be a transaction token (three base64url segments)")
        try:
            body = body_file.read_bytes() if body_file else None
        except OSError as error:
            raise CommandError(f"--body-file: {error}") from error
        try:
            # htu is the path as the callee's Django sees it (percent-decoded); qh is of the
            # query as curl sends it: the bytes written, UTF-8.
            token = mint(
                audience, scope, method, unquote(path), body,
                query=query.encode("utf-8").decode("latin-1"), txn_token=txn_token, ttl=ttl,
            )
        except ValueError as error:  # mint's own check of the ttl
            raise CommandError(f"--ttl: {error}") from error
        self.stdout.write(token)
