"""The contract every service keeps (service_kit.contract_tests), run against the user service."""
import pytest
from service_kit.contract_tests import *  # noqa: F401,F403
from service_kit.contract_tests import JsonEndpoint


@pytest.fixture
def json_endpoint(api_client):
    return JsonEndpoint(api_client, "/api/auth/register/")
