import pytest

from ms_token.jwks import clear_remote_key_sets
from service_kit.testing import use_fresh_keys

# The shared contract tests (service_kit.contract_tests) get pytest's assertion messages too.
pytest.register_assert_rewrite("service_kit.contract_tests")


@pytest.fixture(scope="session", autouse=True)
def signing_keys(tmp_path_factory):
    return use_fresh_keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture(autouse=True)
def no_cached_peer_keys():
    clear_remote_key_sets()
    yield
    clear_remote_key_sets()
