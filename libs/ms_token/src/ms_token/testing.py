"""Helpers for a project's own tests: keys, tokens as a peer would mint them, and a real peer.

    from ms_token.testing import FakePeer, create_keys, mint_as

    with FakePeer("invoices") as invoices:          # serves /.well-known/jwks.json on 127.0.0.1
        token = invoices.mint(audience="orders", scope="orders:read", method="GET", path="/api/orders/")

pytest users get fixtures built on these from ``ms_token.fixtures`` (``pytest_plugins``).
"""
from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from . import keys
from .jwks import JWKS_PATH, remote_key_set
from .keys import KeyRing, SigningKey, create_key
from .tokens import mint

__all__ = [
    "FakePeer", "ManualClock", "PeerRequest", "create_keys", "free_port", "mint_as", "own_keys_clock", "send_json",
    "trust_keys",
]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def create_keys(directory: Path, *services: str) -> Path:
    """One new signing key per service under ``directory`` (a ``KEYS_DIR``); returns it."""
    for service in services:
        create_key(service, directory)
    return directory


def trust_keys(service: str, ring: KeyRing) -> None:
    """Verify ``service``'s tokens with ``ring``'s published keys, as if just fetched from its
    JWKS: for tests that run no such peer."""
    remote_key_set(service).set_keys({key.kid: key.public_key for key in ring.published_keys()})


class ManualClock:
    """A monotonic clock that moves only when told, for a ``RemoteKeySet`` under test:
    ``remote_key_set("invoices").clock = clock = ManualClock()``, then ``clock.advance(61)``."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@contextmanager
def own_keys_clock(clock: Callable[[], float]) -> Iterator[None]:
    """Within, this service rereads its own keys on ``clock`` (it looks every
    ``OWN_KEYS_CHECK_INTERVAL`` of it, as it does of the real clock): ``with own_keys_clock(clock): ... clock.advance(5)``."""
    cached = keys._own_key_ring
    cached.clock = clock
    cached.clear()
    try:
        yield
    finally:
        cached.clock = time.monotonic
        cached.clear()


def mint_as(
    key: SigningKey,
    *,
    issuer: str,
    audience: str,
    scope: str,
    method: str,
    path: str,
    body: bytes | None = None,
    query: str | None = None,
    txn_token: str | None = None,
    ttl: int | None = None,
) -> str:
    """A token exactly as ``issuer`` would send it, signed with ``key``: for a request with
    ``query`` (the query string as sent, without ``?``) and ``txn_token`` if given."""
    return mint(
        audience, scope, method, path, body, query=query, txn_token=txn_token, issuer=issuer, key=key, ttl=ttl
    )


def send_json(
    handler: BaseHTTPRequestHandler, status: int, document: Any, headers: Mapping[str, str] | None = None
) -> None:
    """Answer the request ``handler`` serves with ``document`` as JSON (and ``headers``)."""
    data = json.dumps(document).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)


@dataclass(frozen=True)
class PeerRequest:
    method: str
    path: str  # with the query string, as sent
    headers: dict[str, str]
    body: bytes


# What a fake peer answers a call with: (status, JSON document).
PeerHandler = Callable[[PeerRequest], tuple[int, Any]]


def _not_found(request: PeerRequest) -> tuple[int, Any]:
    return 404, {"detail": "Not found.", "code": "not_found"}


@dataclass
class FakePeer:
    """A real HTTP server on 127.0.0.1 standing in for the service ``service``: it publishes a
    key of its own at ``/.well-known/jwks.json`` and answers other requests with ``handler``
    (recorded in ``received``). ``published`` may be changed to withdraw or add keys;
    ``jwks_cache_control`` is its JWKS answer's Cache-Control (None: none), and a
    ``jwks_status`` other than 200 makes its JWKS fail (an outage)."""

    service: str
    handler: PeerHandler = _not_found
    key: SigningKey = field(default_factory=lambda: SigningKey("fake-peer-key", Ed25519PrivateKey.generate(), 0))
    received: list[PeerRequest] = field(default_factory=list)
    jwks_hits: int = 0
    jwks_cache_control: str | None = None
    jwks_status: int = 200

    def __post_init__(self) -> None:
        self.published: list[SigningKey] = [self.key]
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the peer is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def jwks_url(self) -> str:
        return self.url + JWKS_PATH

    def mint(self, *, audience: str, scope: str, method: str, path: str, body: bytes | None = None,
             ttl: int | None = None) -> str:
        """A token from this peer, signed with its published key."""
        return mint_as(self.key, issuer=self.service, audience=audience, scope=scope, method=method,
                       path=path, body=body, ttl=ttl)

    def start(self) -> FakePeer:
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {}
                if self.command == "GET" and self.path == JWKS_PATH:
                    peer.jwks_hits += 1
                    status, document = peer.jwks_status, {"keys": [key.public_jwk() for key in peer.published]}
                    if peer.jwks_cache_control is not None:
                        headers["Cache-Control"] = peer.jwks_cache_control
                else:
                    request = PeerRequest(self.command, self.path, dict(self.headers), body)
                    peer.received.append(request)
                    status, document = peer.handler(request)
                send_json(self, status, document, headers)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakePeer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()
