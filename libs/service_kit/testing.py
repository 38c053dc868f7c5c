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
