"""The contract every service keeps (service_kit.contract_tests), run against the billing service."""
import pytest
from rest_framework.test import APIClient
from service_kit.contract_tests import *  # noqa: F401,F403
from service_kit.contract_tests import JsonEndpoint
from service_kit.testing import make_user_token, preload_peer_keys


@pytest.fixture
def json_endpoint():
    # The body is refused before any peer is asked: no service needs to run.
    preload_peer_keys("user")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_user_token(user_id=42)}")
    return JsonEndpoint(client, "/api/bills/")
