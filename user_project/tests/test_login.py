import pytest
from django.conf import settings
from django.test import override_settings

from tests.helpers import assert_error

pytestmark = pytest.mark.django_db


def test_login_answers_an_access_and_a_refresh_token(alice, login):
    response = login("alice")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh"}
    assert body["access"] != body["refresh"]
    alice.refresh_from_db()
    assert alice.last_login is not None


@pytest.mark.parametrize(
    "username, given_password",
    [("alice", "wrong-password-123"), ("nobody", "correct-horse-battery-42"), ("ALICE", "wrong-password-123")],
)
def test_wrong_credentials_are_a_401_json_error(alice, login, username, given_password):
    response = login(username, given_password)
    assert_error(response, 401, "invalid_credentials")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_inactive_account_cannot_log_in(alice, login):
    alice.is_active = False
    alice.save()
    assert_error(login("alice"), 401, "invalid_credentials")


def test_a_stale_bearer_token_does_not_block_logging_in(alice, api_client, password):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")
    response = api_client.post("/api/auth/login/", {"username": "alice", "password": password}, format="json")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "body, field, code",
    [
        ({"password": "x"}, "username", "required"),
        ({"username": "alice"}, "password", "required"),
        ({"username": "a" * 5000, "password": "x"}, "username", "max_length"),
        ({"username": "alice", "password": "x" * 5000}, "password", "max_length"),
        ({"username": 42, "password": "x"}, "username", "not_a_string"),
        ({"username": "alice", "password": ["x"]}, "password", "not_a_string"),
        ({"username": None, "password": "x"}, "username", "null"),
    ],
)
def test_bad_login_input_is_a_400(alice, api_client, body, field, code):
    response = api_client.post("/api/auth/login/", body, format="json")
    result = assert_error(response, 400, code)
    assert result["detail"].startswith(f"{field}:")


@pytest.mark.parametrize("raw", [b"{not json", b'["alice", "pw"]', b"42"])
def test_login_bodies_that_are_not_a_json_object_are_400(api_client, raw):
    response = api_client.generic("POST", "/api/auth/login/", raw, content_type="application/json")
    assert_error(response, 400)


def test_login_with_unencodable_password_is_a_400(alice, api_client):
    raw = b'{"username": "alice", "password": "x\\ud800"}'
    response = api_client.generic("POST", "/api/auth/login/", raw, content_type="application/json")
    assert_error(response, 400, "not_utf8")


def test_the_login_rate_comes_from_the_environment_with_a_default(monkeypatch, tmp_path):
    from service_kit.conf import common_settings

    def login_rate():
        return common_settings(service="user", base_dir=tmp_path)["REST_FRAMEWORK"]["DEFAULT_THROTTLE_RATES"]["login"]

    monkeypatch.setenv("LOGIN_THROTTLE_RATE", "7/min")
    assert login_rate() == "7/min"
    monkeypatch.delenv("LOGIN_THROTTLE_RATE")
    assert login_rate() == "10/min"


def _rate(rate):
    return override_settings(
        REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"login": rate}}
    )


def test_login_attempts_beyond_the_rate_are_429_even_with_the_right_password(alice, login):
    with _rate("3/min"):
        for _ in range(3):
            assert_error(login("alice", "wrong-password-123"), 401)
        response = login("alice")
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0


def test_the_throttle_counts_per_client_address(alice, api_client, password):
    with _rate("2/min"):
        for _ in range(2):
            api_client.post("/api/auth/login/", {"username": "alice", "password": "nope"}, format="json")
        blocked = api_client.post(
            "/api/auth/login/", {"username": "alice", "password": password}, format="json"
        )
        other = api_client.post(
            "/api/auth/login/", {"username": "alice", "password": password}, format="json",
            REMOTE_ADDR="10.0.0.7",
        )
    assert blocked.status_code == 429
    assert other.status_code == 200


# --- per account, whatever the address -----------------------------------------------------------


def _rates(**rates):
    return override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates})


def _login_from(api_client, address, username, password):
    return api_client.post(
        "/api/auth/login/", {"username": username, "password": password}, format="json", REMOTE_ADDR=address
    )


def test_guessing_one_account_from_many_addresses_is_throttled(alice, api_client, password):
    with _rates(login="100/min", login_username="3/hour"):
        for n in range(3):
            assert_error(_login_from(api_client, f"10.0.0.{n + 1}", "alice", "wrong-password-123"), 401)
        response = _login_from(api_client, "10.0.0.99", "alice", password)
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0


def test_the_account_throttle_ignores_the_usernames_case(alice, api_client, password):
    with _rates(login="100/min", login_username="3/hour"):
        for n, spelling in enumerate(["Alice", "ALICE", "alice"]):
            _login_from(api_client, f"10.0.1.{n + 1}", spelling, "wrong-password-123")
        assert _login_from(api_client, "10.0.1.99", "aLiCe", password).status_code == 429


def test_the_account_throttle_leaves_other_accounts_alone(alice, register, api_client, password):
    assert register("bob").status_code == 201
    with _rates(login="100/min", login_username="2/hour"):
        for _ in range(2):
            _login_from(api_client, "10.0.2.1", "alice", "wrong-password-123")
        assert _login_from(api_client, "10.0.2.1", "alice", password).status_code == 429
        assert _login_from(api_client, "10.0.2.1", "bob", password).status_code == 200


@pytest.mark.parametrize("username", [42, ["alice"], None])
def test_a_username_that_is_not_a_string_is_a_400_and_not_counted(alice, api_client, password, username):
    with _rates(login="100/min", login_username="1/hour"):
        for _ in range(2):
            assert _login_from(api_client, "10.0.3.1", username, "x").status_code == 400
        assert _login_from(api_client, "10.0.3.1", "alice", password).status_code == 200


def test_the_account_rate_falls_back_to_20_an_hour_when_not_configured():
    from service_kit.throttling import LoginThrottle

    by_username = LoginThrottle.limits[1]
    with _rates(login="10/min"):
        assert by_username.rate() == (20, 3600)
    with _rates(login="10/min", login_username="5/min"):
        assert by_username.rate() == (5, 60)
