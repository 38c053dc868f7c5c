import io

import pytest
import yaml
from django.core.management import call_command
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

USER_ENDPOINTS = {
    "register": "/api/auth/register/",
    "login": "/api/auth/login/",
    "refresh": "/api/auth/refresh/",
    "logout": "/api/auth/logout/",
    "me": "/api/users/me/",
}


def test_api_root_lists_the_user_endpoints(api_client):
    body = api_client.get("/api/", HTTP_ACCEPT="application/json").json()
    for label, path in USER_ENDPOINTS.items():
        assert body[label].endswith(path)


def test_api_root_renders_in_the_browsable_api(api_client):
    response = api_client.get("/api/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b"/api/auth/login/" in response.content and b"Log in" in response.content


def test_session_login_page_for_the_browsable_api(alice, password):
    client = APIClient(enforce_csrf_checks=False)
    page = client.get("/api-auth/login/")
    assert page.status_code == 200
    response = client.post(
        "/api-auth/login/", {"username": "alice", "password": password, "next": "/api/users/me/"}
    )
    assert response.status_code == 302 and response["Location"] == "/api/users/me/"
    me = client.get("/api/users/me/", HTTP_ACCEPT="application/json")
    assert me.status_code == 200 and me.json()["username"] == "alice"


def test_browsable_forms_render_for_every_endpoint(alice_client):
    for path in USER_ENDPOINTS.values():
        response = alice_client.get(path, HTTP_ACCEPT="text/html")
        # GET on POST-only endpoints is a 405 page, still with the form to POST.
        assert response.status_code == (200 if path == USER_ENDPOINTS["me"] else 405), path
        assert b"<form" in response.content, path


def _schema():
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    return yaml.safe_load(out.getvalue())


def test_the_schema_generates_without_warnings_and_describes_the_endpoints():
    schema = _schema()
    paths = schema["paths"]
    for path in [*USER_ENDPOINTS.values(), "/api/internal/users/{user_id}/"]:
        assert path in paths, path
    assert set(paths["/api/users/me/"]) >= {"get", "patch"}
    schemes = schema["components"]["securitySchemes"]
    assert schemes["userToken"]["scheme"] == "bearer"
    assert schemes["msToken"]["name"] == "X-MS-TOKEN"
    assert paths["/api/internal/users/{user_id}/"]["get"]["security"] == [{"msToken": []}]
    login = paths["/api/auth/login/"]["post"]["responses"]
    assert {"200", "401", "429"} <= set(login)


def test_the_schema_states_what_registration_and_the_profile_enforce():
    schema = _schema()
    register = schema["components"]["schemas"]["RegisterRequest"]["properties"]
    assert register["password"]["minLength"] == 8 and register["password"]["maxLength"] == 4096
    assert register["email"]["pattern"].startswith("^[A-Za-z0-9") and "format" not in register["email"]
    responses = schema["paths"]["/api/auth/register/"]["post"]["responses"]
    assert set(responses) == {"201", "400", "406", "413", "415", "429", "503"}
    me = schema["paths"]["/api/users/me/"]["patch"]["responses"]
    assert set(me) == {"200", "400", "401", "403", "406", "413", "415", "503"}
    internal = schema["paths"]["/api/internal/users/{user_id}/"]["get"]["responses"]
    assert {"401", "403", "404", "503"} <= set(internal)
