import json

import pytest

from accounts import services
from accounts.models import User
from accounts.serializers import RegisterSerializer
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db


def test_register_creates_the_account_and_answers_its_public_fields(register, password):
    response = register("alice", "alice@example.com")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "username", "email"}
    assert body["username"] == "alice" and body["email"] == "alice@example.com"
    user = User.objects.get(pk=body["id"])
    assert user.check_password(password) and user.password != password
    assert not user.is_staff and user.shipping_address == ""


def test_duplicate_username_is_a_400_and_keeps_the_first_account(register):
    assert register("alice", "first@example.com").status_code == 201
    body = assert_error(register("alice", "second@example.com"), 400, "unique")
    assert "username" in body["detail"]
    assert User.objects.get(username="alice").email == "first@example.com"


def test_username_differing_only_in_case_counts_as_taken(register):
    assert register("alice").status_code == 201
    assert_error(register("ALICE"), 400, "unique")
    assert User.objects.count() == 1


def test_the_database_refuses_a_case_variant_that_gets_past_the_serializer(password):
    # What a lost race looks like: the other registration committed after our check ran.
    services.register_user(username="alice", email="a@example.com", password=password)
    with pytest.raises(services.UsernameTaken):
        services.register_user(username="ALICE", email="b@example.com", password=password)
    assert list(User.objects.values_list("username", flat=True)) == ["alice"]


def test_a_case_variant_racing_past_the_check_is_a_400_not_a_500(register, monkeypatch):
    assert register("alice").status_code == 201
    # Both requests ran validate_username before either committed: the check saw no twin.
    monkeypatch.setattr(RegisterSerializer, "validate_username", lambda self, value: value)
    body = assert_error(register("Alice"), 400, "unique")
    assert body["detail"].startswith("username:")
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    "password, code",
    [
        ("short1!", "password_too_short"),
        ("password123", "password_too_common"),
        ("83920571946", "password_entirely_numeric"),
        ("alice@example", "password_too_similar"),  # too close to the username/email
    ],
)
def test_password_goes_through_djangos_validators(register, password, code):
    body = assert_error(register("alice", "alice@example.com", password=password), 400, code)
    assert body["detail"].startswith("password:")
    assert not User.objects.exists()


def _post(api_client, body, **kwargs):
    return api_client.post("/api/auth/register/", body, **kwargs)


GOOD = {"username": "alice", "email": "alice@example.com", "password": "correct-horse-battery-42"}


@pytest.mark.parametrize(
    "change, field, code",
    [
        ({"username": None}, "username", "required"),
        ({"email": None}, "email", "required"),
        ({"password": None}, "password", "required"),
        ({"email": ""}, "email", "blank"),
        ({"email": "not-an-email"}, "email", "invalid"),
        ({"username": "a" * 5000}, "username", "max_length"),
        ({"email": "a" * 5000 + "@example.com"}, "email", "max_length"),
        ({"password": "x" * 5000}, "password", "max_length"),
        ({"username": "bad name!"}, "username", "invalid"),
        ({"username": ""}, "username", "blank"),
        ({"username": 12345}, "username", "not_a_string"),
        ({"username": ["alice"]}, "username", "not_a_string"),
        ({"username": {"a": 1}}, "username", "not_a_string"),
        ({"email": True}, "email", "not_a_string"),
        ({"password": 1234567890123}, "password", "not_a_string"),
        ({"username": "nul\x00byte"}, "username", "invalid"),
    ],
)
def test_bad_fields_are_400_with_the_field_named(api_client, change, field, code):
    body = {**GOOD, **change}
    body = {k: v for k, v in body.items() if v is not None}
    response = _post(api_client, body, format="json")
    result = assert_error(response, 400, code)
    assert result["detail"].startswith(f"{field}:")
    assert field in result["errors"]
    assert not User.objects.exists()


@pytest.mark.parametrize(
    "raw, code",
    [
        (b'{"username": "alice", ', "parse_error"),
        (b"not json at all", "parse_error"),
        (b'["alice", "alice@example.com", "pw"]', "invalid"),
        (b'"just a string"', "invalid"),
        (b"null", "null"),
        (b"", "required"),
    ],
)
def test_bodies_that_are_not_a_json_object_are_400(api_client, raw, code):
    response = api_client.generic("POST", "/api/auth/register/", raw, content_type="application/json")
    assert_error(response, 400, code)
    assert not User.objects.exists()


def test_an_unsupported_media_type_is_a_415_json_error(api_client):
    response = api_client.generic("POST", "/api/auth/register/", b"<x/>", content_type="application/xml")
    assert_error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize("field", ["username", "email", "password"])
def test_text_that_is_not_valid_unicode_is_a_400_not_a_crash(api_client, field):
    # A lone surrogate is legal JSON but cannot be stored or hashed as UTF-8.
    body = {**GOOD, field: "PLACEHOLDER"}
    raw = json.dumps(body).replace("PLACEHOLDER", "abc\\ud800def").encode()
    response = api_client.generic("POST", "/api/auth/register/", raw, content_type="application/json")
    result = assert_error(response, 400)
    assert result["detail"].startswith(f"{field}:")
    assert not User.objects.exists()
