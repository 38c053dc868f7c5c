import json

import pytest
from rest_framework.test import APIClient

from service_kit.testing import make_user_token
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

PROFILE_FIELDS = {"id", "username", "email", "first_name", "last_name", "shipping_address"}


def test_me_shows_the_signed_in_users_profile(alice, alice_client):
    response = alice_client.get("/api/users/me/")
    assert response.status_code == 200
    assert response.json() == {
        "id": alice.pk,
        "username": "alice",
        "email": "alice@example.com",
        "first_name": "",
        "last_name": "",
        "shipping_address": "",
    }


def test_patch_edits_the_profile_and_it_is_stored(alice, alice_client):
    change = {
        "first_name": "Alice",
        "last_name": "Liddell",
        "email": "alice@wonderland.example",
        "shipping_address": "1 Rabbit Hole\nOxford OX1 1AA\nUK",
    }
    response = alice_client.patch("/api/users/me/", change, format="json")
    assert response.status_code == 200
    assert response.json() == {"id": alice.pk, "username": "alice", **change}
    assert alice_client.get("/api/users/me/").json()["shipping_address"] == change["shipping_address"]
    alice.refresh_from_db()
    assert alice.first_name == "Alice" and alice.email == "alice@wonderland.example"


def test_patch_changes_only_the_fields_sent(alice, alice_client):
    assert alice_client.patch("/api/users/me/", {"first_name": "Alice"}, format="json").status_code == 200
    response = alice_client.patch("/api/users/me/", {"shipping_address": "2 Main St"}, format="json")
    assert response.status_code == 200
    assert response.json()["first_name"] == "Alice"
    assert response.json()["shipping_address"] == "2 Main St"


@pytest.mark.parametrize(
    ("sent", "stored"),
    [("\u200b", ""), ("\u200b\u200c\u200d\u2060\ufeff", ""), (" \u3000\u00a0\u2007 ", ""), ("\u202e\u00ad", ""),
     ("\u3164\u2800", ""), ("\u200b 2 Main St \u200b", "2 Main St"), ("2 Main St \U0001f3e0\ufe0f", "2 Main St \U0001f3e0\ufe0f")],
)
def test_an_address_of_invisible_characters_is_no_address(alice, alice_client, sent, stored):
    alice_client.patch("/api/users/me/", {"shipping_address": "1 Old Road"}, format="json")
    response = alice_client.patch("/api/users/me/", {"shipping_address": sent}, format="json")
    assert response.status_code == 200 and response.json()["shipping_address"] == stored
    alice.refresh_from_db()
    assert alice.shipping_address == stored


@pytest.mark.parametrize("email", ["a@b.cc", "first.last+tag@mail.example.org", "o'hara@x-y.example", "A@B.CO"])
def test_plain_addresses_are_taken(alice_client, email):
    response = alice_client.patch("/api/users/me/", {"email": email}, format="json")
    assert response.status_code == 200 and response.json()["email"] == email


def test_id_and_username_are_read_only(alice, alice_client):
    response = alice_client.patch("/api/users/me/", {"id": 999, "username": "mallory"}, format="json")
    assert response.status_code == 200
    assert response.json()["id"] == alice.pk and response.json()["username"] == "alice"
    alice.refresh_from_db()
    assert alice.username == "alice"


def test_fields_outside_the_profile_cannot_be_set(alice, alice_client):
    response = alice_client.patch("/api/users/me/", {"is_staff": True, "password": "x", "is_superuser": True}, format="json")
    assert response.status_code == 200
    assert not {"is_staff", "is_superuser", "password"} & set(response.json())
    alice.refresh_from_db()
    assert not alice.is_staff and not alice.is_superuser
    assert alice.check_password("correct-horse-battery-42")


def test_put_is_not_offered(alice_client):
    assert_error(alice_client.put("/api/users/me/", {}, format="json"), 405, "method_not_allowed")


@pytest.mark.parametrize(
    "change, field, code",
    [
        ({"first_name": "x" * 5000}, "first_name", "max_length"),
        ({"last_name": "x" * 5000}, "last_name", "max_length"),
        ({"shipping_address": "x" * 5000}, "shipping_address", "max_length"),
        ({"email": "not-an-email"}, "email", "invalid"),
        # The schema's pattern: ASCII dot-atom @ host names with a TLD of letters, as sent.
        ({"email": "a@b.c"}, "email", "invalid"),
        ({"email": " alice@example.com"}, "email", "invalid"),
        ({"email": "alice@example.com "}, "email", "invalid"),
        ({"email": '"al ice"@example.com'}, "email", "invalid"),
        ({"email": "alice@[127.0.0.1]"}, "email", "invalid"),
        ({"email": ""}, "email", "blank"),
        ({"email": None}, "email", "null"),
        ({"first_name": None}, "first_name", "null"),
        ({"first_name": 42}, "first_name", "not_a_string"),
        ({"shipping_address": {"street": "Main"}}, "shipping_address", "not_a_string"),
        ({"last_name": ["Liddell"]}, "last_name", "not_a_string"),
        ({"shipping_address": "nul\x00byte"}, "shipping_address", "null_characters_not_allowed"),
    ],
)
def test_bad_profile_input_is_a_400_and_changes_nothing(alice, alice_client, change, field, code):
    response = alice_client.patch("/api/users/me/", change, format="json")
    result = assert_error(response, 400, code)
    assert result["detail"].startswith(f"{field}:")
    assert alice_client.get("/api/users/me/").json()[field] == ("alice@example.com" if field == "email" else "")


def test_one_bad_field_means_no_field_is_written(alice, alice_client):
    response = alice_client.patch(
        "/api/users/me/", {"first_name": "Alice", "last_name": "y" * 5000}, format="json"
    )
    assert_error(response, 400, "max_length")
    alice.refresh_from_db()
    assert alice.first_name == ""


@pytest.mark.parametrize("field", ["first_name", "shipping_address", "email"])
def test_profile_text_that_is_not_valid_unicode_is_a_400(alice_client, field):
    raw = json.dumps({field: "PLACEHOLDER"}).replace("PLACEHOLDER", "a\\udfffb").encode()
    response = alice_client.generic("PATCH", "/api/users/me/", raw, content_type="application/json")
    assert_error(response, 400, "not_utf8")


@pytest.mark.parametrize("raw", [b"{broken", b'[{"first_name": "A"}]', b"17", b"null"])
def test_profile_bodies_that_are_not_a_json_object_are_400(alice_client, raw):
    response = alice_client.generic("PATCH", "/api/users/me/", raw, content_type="application/json")
    assert_error(response, 400)


def test_me_needs_a_signed_in_user(api_client):
    response = api_client.get("/api/users/me/")
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header, code",
    [
        ("Bearer garbage", "token_not_valid"),
        ("Bearer a.b.c", "token_not_valid"),
        ("Bearer", "bad_authorization_header"),
        ("Bearer one two", "bad_authorization_header"),
    ],
)
def test_me_refuses_bad_bearer_tokens_as_json(api_client, header, code):
    api_client.credentials(HTTP_AUTHORIZATION=header)
    assert_error(api_client.get("/api/users/me/"), 401, code)


def test_me_refuses_a_refresh_token_as_bearer(api_client, alice_tokens):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {alice_tokens['refresh']}")
    body = assert_error(api_client.get("/api/users/me/"), 401, "token_not_valid")
    assert body["detail"] == "Token has wrong type"


def test_me_loads_the_database_user_so_a_deactivated_account_is_locked_out_at_once(alice, alice_client):
    alice.is_active = False
    alice.save()
    assert_error(alice_client.get("/api/users/me/"), 401, "user_inactive")


def test_me_refuses_a_validly_signed_token_for_a_user_that_does_not_exist(api_client, alice):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_user_token(user_id=alice.pk + 1000)}")
    assert_error(api_client.get("/api/users/me/"), 401, "user_not_found")


def test_me_works_with_a_session_for_the_browsable_api(alice, password):
    client = APIClient()
    assert client.login(username="alice", password=password)
    response = client.get("/api/users/me/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b"shipping_address" in response.content
    patched = client.patch("/api/users/me/", {"first_name": "Al"}, format="json")
    assert patched.status_code == 200 and patched.json()["first_name"] == "Al"
