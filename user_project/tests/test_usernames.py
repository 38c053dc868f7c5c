"""One person, one name: usernames are compared after NFKC and case folding everywhere (register,
login, the admin's forms and login, createsuperuser, the login throttle), the database holds the
rule on its own, and a name's length counts once normalized."""
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction
from django.test import Client, override_settings
from django.conf import settings

from accounts import services
from accounts.models import User
from tests.helpers import assert_error, decode_jws

pytestmark = pytest.mark.django_db

# (registered, another spelling of the same name)
SAME_NAME = [
    ("müller", "MÜLLER"),  # beyond ASCII: SQLite's LOWER() folds ASCII only
    ("müller", "mu\u0308ller"),  # a combining diaeresis
    ("alice", "ａｌｉｃｅ"),  # fullwidth letters (a compatibility spelling)
    ("straße", "STRASSE"),  # full case folding, not lower(): "ß" is "ss"
    ("kelvin", "\u212aelvin"),  # the Kelvin sign is a K
    ("σοφία", "ΣΟΦΊΑ"),  # final sigma
]


@pytest.mark.parametrize(("first", "second"), SAME_NAME)
def test_a_second_spelling_of_a_registered_name_is_taken(register, first, second):
    assert register(first, "first@example.com").status_code == 201
    body = assert_error(register(second, "second@example.com"), 400, "unique")
    assert body["detail"].startswith("username:")
    assert User.objects.count() == 1


@pytest.mark.parametrize(("first", "second"), SAME_NAME)
def test_any_spelling_of_the_name_logs_in_to_the_one_account(register, login, first, second):
    registered = register(first, "someone@example.com")
    assert registered.status_code == 201
    response = login(second)
    assert response.status_code == 200, response.content
    _, claims = decode_jws(response.json()["access"])
    # The token names the account as it was registered, whatever spelling logged in.
    assert claims["user_id"] == str(registered.json()["id"])
    assert claims["username"] == registered.json()["username"]


def test_the_name_is_stored_as_given_in_its_normalized_form(register):
    response = register("Mu\u0308ller", "someone@example.com")
    assert response.status_code == 201
    assert response.json()["username"] == "Müller"  # NFKC composes; the case is kept
    assert User.objects.get().username_key == "müller"


def test_a_name_over_150_characters_once_normalized_is_a_400_and_registers_nothing(register):
    # U+FDFA is one character that NFKC spells out in 18 (spaces among them, which no name has).
    body = assert_error(register("\ufdfa" * 150, "someone@example.com"), 400)
    assert body["detail"].startswith("username:")
    assert "Ensure this field has no more than 150 characters." in body["errors"]["username"]
    # "ﬃ" is "ffi" once normalized: 153 characters, valid ones.
    body = assert_error(register("ﬃ" * 51, "someone@example.com"), 400, "max_length")
    assert body["detail"].startswith("username:")
    assert not User.objects.exists()


def test_a_name_of_exactly_150_characters_once_normalized_registers(register, login):
    name = "ﬀ" * 75  # the ligature is "ff" once normalized
    response = register(name, "someone@example.com")
    assert response.status_code == 201, response.content
    assert response.json()["username"] == "f" * 150
    assert login(name).status_code == 200


def test_a_login_name_over_150_characters_once_normalized_is_a_400(api_client):
    response = api_client.post("/api/auth/login/", {"username": "\ufdfa" * 150, "password": "x"}, format="json")
    assert_error(response, 400, "max_length")


def test_the_database_refuses_another_spelling_that_gets_past_the_serializer(password):
    # What a lost race looks like: the other registration committed after our check ran.
    services.register_user(username="müller", email="a@example.com", password=password)
    with pytest.raises(services.UsernameTaken):
        services.register_user(username="MU\u0308LLER", email="b@example.com", password=password)
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="ｍüller")
    assert list(User.objects.values_list("username", flat=True)) == ["müller"]


def test_renaming_keeps_the_key_in_step(alice):
    alice.username = "Zoë"
    alice.save(update_fields=["username"])
    assert User.objects.get(pk=alice.pk).username_key == "zoë"
    assert User.objects.get_by_natural_key("ZOË") == alice


def test_the_login_throttle_counts_every_spelling_against_the_one_account(register, api_client, password):
    assert register("müller", "someone@example.com").status_code == 201
    rates = {"login": "100/min", "login_username": "3/hour"}
    with override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}):
        for n, spelling in enumerate(["MÜLLER", "mu\u0308ller", "ｍüｌｌｅｒ"]):
            response = api_client.post(
                "/api/auth/login/", {"username": spelling, "password": "wrong-password-1"}, format="json",
                REMOTE_ADDR=f"10.0.9.{n + 1}",
            )
            assert_error(response, 401)
        response = api_client.post(
            "/api/auth/login/", {"username": "Müller", "password": password}, format="json", REMOTE_ADDR="10.0.9.99"
        )
    assert_error(response, 429, "throttled")


# --- The admin ------------------------------------------------------------------------------------


def _add_user(admin_client, username):
    return admin_client.post(
        "/admin/accounts/user/add/",
        {
            "username": username,
            "usable_password": "true",
            "password1": "a-long-admin-pass-9",
            "password2": "a-long-admin-pass-9",
            "email": "",
            "shipping_address": "",
        },
    )


def test_the_admin_cannot_add_another_spelling_of_a_taken_name(admin_client, register):
    assert register("müller", "someone@example.com").status_code == 201
    page = _add_user(admin_client, "MÜLLER")
    assert page.status_code == 200  # the form again, with its error
    assert "A user with that username already exists." in page.content.decode()
    assert not User.objects.filter(username="MÜLLER").exists()
    assert _add_user(admin_client, "Zoë").status_code == 302
    assert User.objects.get(username_key="zoë").username == "Zoë"


def test_the_admin_cannot_add_a_name_too_long_once_normalized(admin_client):
    page = _add_user(admin_client, "\ufdfa" * 150)
    assert page.status_code == 200
    assert not User.objects.filter(is_staff=False).exists()


def test_the_admin_cannot_rename_an_account_to_another_spelling_of_a_taken_name(admin_client, register):
    assert register("müller", "someone@example.com").status_code == 201
    assert register("zoe", "someone@example.com").status_code == 201
    zoe = User.objects.get(username="zoe")
    form = admin_client.get(f"/admin/accounts/user/{zoe.pk}/change/").context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "password"}
    data.update(
        username="MÜLLER", groups=[], user_permissions=[], last_login_0="", last_login_1="",
        date_joined_0="2026-01-01", date_joined_1="00:00:00",
    )
    page = admin_client.post(f"/admin/accounts/user/{zoe.pk}/change/", data)
    assert page.status_code == 200
    assert "A user with that username already exists." in page.content.decode()
    zoe.refresh_from_db()
    assert zoe.username == "zoe"
    # ...while the account keeps its own name in another spelling.
    data["username"] = "ZOE"
    assert admin_client.post(f"/admin/accounts/user/{zoe.pk}/change/", data).status_code == 302
    zoe.refresh_from_db()
    assert (zoe.username, zoe.username_key) == ("ZOE", "zoe")


def test_the_admin_login_takes_any_spelling_of_the_name(capsys, monkeypatch):
    monkeypatch.setenv("DEMO_STAFF_PASSWORD", "staff-test-password-1")
    call_command("seed_demo")
    client = Client()
    page = client.post("/admin/login/?next=/admin/", {"username": "ＳＴＡＦＦ", "password": "staff-test-password-1"})
    assert page.status_code == 302 and page["Location"] == "/admin/"
    assert client.get("/admin/accounts/user/").status_code == 200


def test_createsuperuser_refuses_another_spelling_of_a_taken_name(register, monkeypatch):
    assert register("müller", "someone@example.com").status_code == 201
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "root-pass-2026x")
    with pytest.raises(CommandError, match="already taken"):
        call_command("createsuperuser", "--noinput", username="MÜLLER", email="root@example.com", verbosity=0)
    assert User.objects.count() == 1


def test_the_demo_staff_account_is_found_by_its_name_in_any_spelling(capsys, monkeypatch):
    monkeypatch.setenv("DEMO_STAFF_PASSWORD", "staff-test-password-1")
    call_command("seed_demo")
    services.ensure_demo_staff(username="STAFF", password="staff-test-password-2")
    assert User.objects.get().check_password("staff-test-password-2")
