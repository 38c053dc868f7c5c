"""The contract every service keeps (service_kit.contract_tests), run against the library's
stand-in service: what service_kit alone gives a project."""
import pytest
from rest_framework.test import APIClient

from service_kit.contract_tests import *  # noqa: F401,F403
from service_kit.contract_tests import JsonEndpoint


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def json_endpoint(api_client):
    return JsonEndpoint(api_client, "/api/echo/")


@pytest.mark.django_db
def test_the_echo_endpoint_parses_json(json_endpoint):
    """The nested-JSON contract test above means something only if the endpoint parses JSON."""
    response = json_endpoint.client.post(json_endpoint.path, data='{"a": [1.10]}', content_type="application/json")
    assert response.status_code == 200 and response.json() == {"received": {"a": [1.10]}}
