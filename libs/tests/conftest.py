import pytest

from service_kit.testing import use_fresh_keys


@pytest.fixture(scope="session", autouse=True)
def signing_keys(tmp_path_factory):
    return use_fresh_keys(tmp_path_factory.mktemp("keys"))
