import pytest
from rest_framework.test import APIClient

from service_kit.testing import use_fresh_keys


@pytest.fixture(scope="session", autouse=True)
def signing_keys(tmp_path_factory):
    """Every test session signs with throwaway keys, never the developer's .keys/."""
    return use_fresh_keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def api_client():
    return APIClient()
