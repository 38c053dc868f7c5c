"""Test helpers shared by the projects' suites (pytest fixtures live in each conftest.py)."""
from __future__ import annotations

import os
from pathlib import Path

from .keys import clear_key_cache, create_key

SERVICES = ("user", "product", "billing")


def use_fresh_keys(directory: Path) -> Path:
    """Point this process (and the subprocesses it starts) at new keys for every service."""
    for service in SERVICES:
        create_key(service, directory)
    os.environ["MS_KEYS_DIR"] = str(directory)
    clear_key_cache()
    return directory


def preload_peer_keys(*services: str) -> None:
    """Let this process verify tokens of ``services`` without running them: their public keys
    are read from the test keys directory instead of fetched from their JWKS URL."""
    from .jwks import remote_key_set
    from .keys import load_key_ring

    for service in services:
        ring = load_key_ring(service)
        remote_key_set(service).set_keys({k.kid: k.public_key for k in ring.published_keys()})


def make_user_token(*, user_id: int, username: str = "alice", is_staff: bool = False) -> str:
    """An access token exactly as the user service issues it, signed with the user key."""
    from .keys import load_key_ring
    from .user_auth import UserAccessToken, user_token_backend

    token = UserAccessToken()
    token["user_id"] = str(user_id)
    token["username"] = username
    token["is_staff"] = is_staff
    return user_token_backend.encode_with(token.payload, load_key_ring("user").signing_key)
