"""Test helpers shared by the shop's suites (pytest fixtures live in each conftest.py): the
shop's keys, peers' keys known without running them, end-user tokens."""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from ms_token.keys import load_key_ring
from ms_token.settings import reload_settings
from ms_token.testing import create_keys, trust_keys

SERVICES = ("user", "product", "billing")


def use_fresh_keys(directory: Path) -> Path:
    """New keys for every service under ``directory``, used from now on by this process (its
    ``MS_TOKEN["KEYS_DIR"]``) and by the subprocesses it starts (``MS_KEYS_DIR``)."""
    create_keys(directory, *SERVICES)
    os.environ["MS_KEYS_DIR"] = str(directory)
    settings.MS_TOKEN = {**settings.MS_TOKEN, "KEYS_DIR": directory}
    reload_settings()
    return directory


def preload_peer_keys(*services: str) -> None:
    """Let this process verify tokens of ``services`` without running them: their public keys
    are read from the test keys directory instead of fetched from their JWKS URL."""
    for service in services:
        trust_keys(service, load_key_ring(service))


def make_user_token(*, user_id: int, username: str = "alice", is_staff: bool = False) -> str:
    """An access token exactly as the user service issues it, signed with the user key."""
    from .user_auth import UserAccessToken, user_token_backend

    token = UserAccessToken()
    token["user_id"] = str(user_id)
    token["username"] = username
    token["is_staff"] = is_staff
    return user_token_backend.encode_with(token.payload, load_key_ring("user").signing_key)


def login_form_post(username: str, address: str, *, password: str = "guess"):
    """A login form's post as Django hands it to a view (what admin's and the browsable API's
    login views get) from client ``address``: for the login throttle, at a fraction of the cost
    of a whole request."""
    from django.http import HttpRequest, QueryDict

    request = HttpRequest()
    request.method = "POST"
    request.META["REMOTE_ADDR"] = address
    request.POST = QueryDict(mutable=True)
    request.POST.update({"username": username, "password": password})
    return request


@contextmanager
def migrations_at_hand() -> Iterator[Callable[[list[tuple[str, str]]], Any]]:
    """For tests of a data migration: a function that migrates the test database to the given
    targets and returns the app registry of that state; every app is migrated back to its latest
    state afterwards, so later tests find the schema as it was."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    def migrate_to(targets: list[tuple[str, str]]) -> Any:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(targets)
        return executor.loader.project_state(targets).apps

    try:
        yield migrate_to
    finally:
        migrate_to(MigrationExecutor(connection).loader.graph.leaf_nodes())
