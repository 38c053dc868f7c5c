"""Migrations that check the data they change."""
import pytest

from service_kit.testing import migrations_at_hand

BEFORE = [("accounts", "0001_initial")]
CASE_UNIQUE = [("accounts", "0002_username_unique_ignoring_case")]


@pytest.fixture
def migrate(transactional_db):
    with migrations_at_hand() as migrate_to:
        yield migrate_to


def test_case_twins_already_stored_stop_the_migration_by_name(migrate):
    old_apps = migrate(BEFORE)
    User = old_apps.get_model("accounts", "User")
    User.objects.create(username="alice")
    User.objects.create(username="Alice")
    with pytest.raises(RuntimeError, match="differ only in case.*alice"):
        migrate(CASE_UNIQUE)
    User.objects.filter(username="Alice").delete()


def test_without_twins_the_migration_applies(migrate):
    old_apps = migrate(BEFORE)
    old_apps.get_model("accounts", "User").objects.create(username="alice")
    new_apps = migrate(CASE_UNIQUE)
    assert new_apps.get_model("accounts", "User").objects.get().username == "alice"


KEYED = [("accounts", "0005_fill_username_key")]


def test_accounts_that_are_one_name_once_folded_stop_the_migration_by_name(migrate):
    # Names LOWER() keeps apart on every database (on SQLite "müller" and "MÜLLER" too).
    old_apps = migrate(CASE_UNIQUE)
    User = old_apps.get_model("accounts", "User")
    for name in ["straße", "STRASSE", "zoe", "ｚｏｅ", "alice"]:
        User.objects.create(username=name)
    with pytest.raises(RuntimeError, match="STRASSE = straße; zoe = ｚｏｅ$"):
        migrate(KEYED)
    User.objects.filter(username__in=["STRASSE", "ｚｏｅ"]).delete()


def test_every_account_gets_its_key(migrate):
    old_apps = migrate(CASE_UNIQUE)
    User = old_apps.get_model("accounts", "User")
    for name in ["Müller", "STRAẞE", "ｚｏｅ", "alice"]:
        User.objects.create(username=name)
    new_apps = migrate(KEYED)
    keys = dict(new_apps.get_model("accounts", "User").objects.values_list("username", "username_key"))
    assert keys == {"Müller": "müller", "STRAẞE": "strasse", "ｚｏｅ": "zoe", "alice": "alice"}
