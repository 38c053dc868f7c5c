"""pytest fixtures for a project that uses ms_token (with pytest-django):

    # conftest.py
    pytest_plugins = ["ms_token.fixtures"]

    def test_invoices_may_read_orders(client, fake_peer):
        invoices = fake_peer("invoices", scopes=["orders:read"])   # running, known, trusted
        token = invoices.mint(audience="orders", scope="orders:read", method="GET", path="/api/orders/")
        assert client.get("/api/orders/", HTTP_X_MS_TOKEN=token).status_code == 200
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .settings import ms_token_settings
from .testing import FakePeer, PeerHandler, create_keys


@pytest.fixture
def ms_token_keys(tmp_path: Path, settings: Any) -> Path:
    """A fresh keys directory holding one signing key of this service, in use for the test."""
    # Read through ms_token_settings (checked, defaults filled in); written to MS_TOKEN itself.
    directory = create_keys(tmp_path / "ms-token-keys", ms_token_settings.SERVICE_NAME)
    settings.MS_TOKEN = {**settings.MS_TOKEN, "KEYS_DIR": directory, "SIGNING_KEY": None, "SIGNING_KEY_FILE": None}
    return directory


@pytest.fixture
def fake_peer(settings: Any) -> Iterator[Callable[..., FakePeer]]:
    """``fake_peer(name, scopes=None, handler=None)``: a running ``FakePeer`` this service knows
    by URL (calls and its JWKS), trusted with ``scopes`` when given; stopped after the test."""
    peers: list[FakePeer] = []

    def start(service: str, *, scopes: list[str] | None = None, handler: PeerHandler | None = None) -> FakePeer:
        options: dict[str, Any] = {} if handler is None else {"handler": handler}
        peer = FakePeer(service, **options).start()
        peers.append(peer)
        config = dict(settings.MS_TOKEN)
        config["SERVICE_URLS"] = {**ms_token_settings.SERVICE_URLS, service: peer.url}
        config["JWKS_URLS"] = {**ms_token_settings.JWKS_URLS, service: peer.jwks_url}
        if scopes is not None:
            trusted = {issuer: sorted(granted) for issuer, granted in ms_token_settings.TRUSTED_ISSUERS.items()}
            config["TRUSTED_ISSUERS"] = {**trusted, service: scopes}
        settings.MS_TOKEN = config
        return peer

    yield start
    for peer in peers:
        peer.stop()
