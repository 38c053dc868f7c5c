"""The contract every service keeps (service_kit.contract_tests), run against the product service."""
import pytest
from service_kit.contract_tests import *  # noqa: F401,F403
from service_kit.contract_tests import JsonEndpoint


@pytest.fixture
def json_endpoint(staff_client):
    return JsonEndpoint(staff_client, "/api/products/")
