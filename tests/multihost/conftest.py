"""The multi-host suite runs where simulated hosts can be made (root, `ip netns`) and HAProxy
is installed; `.ci/run` (CI=true) requires it to run, so there a missing piece fails."""
from __future__ import annotations

import os
import shutil

import pytest

from hosts import unavailable_reason


def multihost_unavailable() -> str | None:
    reason = unavailable_reason()
    if reason is None and shutil.which("haproxy") is None:
        reason = "haproxy is not installed (Debian package haproxy)"
    return reason


@pytest.fixture(scope="session")
def multihost():
    reason = multihost_unavailable()
    if reason:
        if os.environ.get("CI") or os.environ.get("MULTIHOST_REQUIRED"):
            pytest.fail(f"the multi-host test must run here: {reason}")
        pytest.skip(reason)
