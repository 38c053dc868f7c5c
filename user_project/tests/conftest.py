import pytest
from rest_framework.test import APIClient

from service_kit.testing import use_fresh_keys

# The shared contract tests (service_kit.contract_tests) get pytest's assertion messages too.
pytest.register_assert_rewrite("service_kit.contract_tests")

STRONG_PASSWORD = "correct-horse-battery-42"


@pytest.fixture(scope="session", autouse=True)
def signing_keys(tmp_path_factory):
    """Every test session signs with throwaway keys, never the developer's .keys/."""
    return use_fresh_keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Real hashing is slow on purpose; the tests check behaviour, not its cost."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def admin_client(db, capsys, monkeypatch):
    """The demo's staff user, logged in (seed_demo's printout is captured)."""
    from django.core.management import call_command

    from accounts.models import User

    monkeypatch.setenv("DEMO_STAFF_PASSWORD", "staff-test-password-1")
    call_command("seed_demo")
    client = APIClient()
    client.force_login(User.objects.get(username="staff"))
    return client


@pytest.fixture
def password():
    return STRONG_PASSWORD


@pytest.fixture
def register(api_client, password):
    """POST /api/auth/register/ and return the response."""

    def do(username="alice", email=None, password=password):
        body = {"username": username, "email": email or f"{username}@example.com", "password": password}
        return api_client.post("/api/auth/register/", body, format="json")

    return do


@pytest.fixture
def login(api_client, password):
    def do(username="alice", password=password):
        return api_client.post("/api/auth/login/", {"username": username, "password": password}, format="json")

    return do


@pytest.fixture
def alice(db, register):
    response = register("alice")
    assert response.status_code == 201, response.content
    from accounts.models import User

    return User.objects.get(username="alice")


@pytest.fixture
def alice_tokens(alice, login):
    response = login("alice")
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def alice_client(alice_tokens):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {alice_tokens['access']}")
    return client

