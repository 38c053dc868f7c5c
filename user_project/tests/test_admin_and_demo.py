import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.models import User

pytestmark = pytest.mark.django_db


def _seed(capsys):
    call_command("seed_demo")
    return capsys.readouterr().out


@pytest.fixture
def debug(settings):
    """`make up`'s debug mode, where the published demo password is accepted."""
    settings.DEBUG = True


def test_seed_demo_creates_the_staff_login_it_prints(capsys, login, monkeypatch, debug):
    monkeypatch.delenv("DEMO_STAFF_PASSWORD", raising=False)
    out = _seed(capsys)
    assert "user: staff login staff / staff-demo-2026!" in out
    staff = User.objects.get(username="staff")
    assert staff.is_staff and staff.is_active
    assert login("staff", "staff-demo-2026!").status_code == 200
    assert not User.objects.filter(username="alice").exists()  # the demo registers her


def test_with_debug_off_seed_demo_refuses_the_published_password(capsys, monkeypatch, settings):
    from django.core.management.base import CommandError

    settings.DEBUG = False
    monkeypatch.delenv("DEMO_STAFF_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="DEMO_STAFF_PASSWORD"):
        _seed(capsys)
    assert not User.objects.filter(username="staff").exists()

    monkeypatch.setenv("DEMO_STAFF_PASSWORD", "staff-demo-2026!")  # given explicitly: the operator's choice
    assert "staff login staff / staff-demo-2026!" in _seed(capsys)


def test_seed_demo_is_idempotent_and_follows_the_env_password(capsys, login, monkeypatch, debug):
    _seed(capsys)
    monkeypatch.setenv("DEMO_STAFF_PASSWORD", "another-demo-pass-9")
    out = _seed(capsys)
    assert "user: staff login staff / another-demo-pass-9" in out
    assert User.objects.filter(username="staff").count() == 1
    assert login("staff", "another-demo-pass-9").status_code == 200


def test_admin_lists_users(admin_client, alice):
    response = admin_client.get("/admin/accounts/user/")
    assert response.status_code == 200
    assert b"alice" in response.content


def test_admin_shows_and_edits_the_shipping_address(admin_client, alice):
    alice.shipping_address = "1 Rabbit Hole"
    alice.save()
    page = admin_client.get(f"/admin/accounts/user/{alice.pk}/change/")
    assert page.status_code == 200
    assert b'name="shipping_address"' in page.content and b"1 Rabbit Hole" in page.content

    form = {
        "username": "alice",
        "email": "alice@example.com",
        "first_name": "",
        "last_name": "",
        "shipping_address": "2 Looking Glass Lane",
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "initial-date_joined_0": "2026-01-01",
        "initial-date_joined_1": "00:00:00",
    }
    saved = admin_client.post(f"/admin/accounts/user/{alice.pk}/change/", form)
    assert saved.status_code == 302, saved.content[:2000]
    alice.refresh_from_db()
    assert alice.shipping_address == "2 Looking Glass Lane"


def test_a_non_staff_user_cannot_open_the_admin(alice):
    client = APIClient()
    client.force_login(alice)
    assert client.get("/admin/accounts/user/").status_code == 302  # to the admin login page


def test_createsuperuser_noinput_works_with_the_custom_user_model(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "root-pass-2026x")
    call_command("createsuperuser", "--noinput", username="root", email="root@example.com", verbosity=0)
    root = User.objects.get(username="root")
    assert root.is_superuser and root.check_password("root-pass-2026x")


def test_admin_add_user_form_asks_for_email_and_shipping_address(admin_client):
    page = admin_client.get("/admin/accounts/user/add/")
    assert page.status_code == 200
    assert b'name="email"' in page.content and b'name="shipping_address"' in page.content
