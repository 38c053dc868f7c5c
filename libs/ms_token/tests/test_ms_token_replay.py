"""The replay store: atomic first-claim-wins, across threads, with the database and with Redis."""
import threading
import time

import pytest
from django.db import connection, connections, transaction

from ms_token.models import UsedToken
from ms_token.replay import DatabaseReplayStore, RedisReplayStore, get_replay_store
from ms_token.exceptions import ReplayStoreUnavailable

from .conftest import free_port, wait_until


@pytest.mark.django_db
def test_database_store_accepts_a_key_once():
    store = DatabaseReplayStore()
    expires = int(time.time()) + 60
    assert store.claim("billing:jti-one", expires) is True
    assert store.claim("billing:jti-one", expires) is False
    assert store.claim("user:jti-one", expires) is True  # keyed on (iss, jti)


@pytest.mark.django_db(transaction=True)
def test_expired_rows_are_pruned_on_insert_without_a_cron_job():
    now = int(time.time())
    UsedToken.objects.bulk_create([UsedToken(key=f"billing:old-{i}", remember_until=now - 10) for i in range(5)])
    store = DatabaseReplayStore(prune_every=3)
    for i in range(3):
        store.claim(f"billing:new-{i}", now + 60)
    assert not UsedToken.objects.filter(key__startswith="billing:old-").exists()
    assert UsedToken.objects.filter(key__startswith="billing:new-").count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_claim_inside_a_transaction_prunes_only_once_it_committed():
    # The caller's transaction (ATOMIC_REQUESTS) must not carry our DELETE: slower, and a
    # failing one would abort it.
    now = int(time.time())
    UsedToken.objects.bulk_create([UsedToken(key=f"billing:old-{i}", remember_until=now - 10) for i in range(3)])
    store = DatabaseReplayStore(prune_every=1)
    with transaction.atomic():
        assert store.claim("billing:jti-in-a-transaction", now + 60) is True
        assert UsedToken.objects.filter(key__startswith="billing:old-").count() == 3
    assert not UsedToken.objects.filter(key__startswith="billing:old-").exists()


@pytest.mark.postgresql  # synchronous_commit is PostgreSQL's
@pytest.mark.django_db
def test_a_claim_inside_a_transaction_leaves_that_transactions_commit_mode_alone():
    # pytest-django runs this test inside a transaction, as ATOMIC_REQUESTS runs a view: the
    # claim's async commit must not become the commit mode of the service's own writes.
    assert connection.in_atomic_block
    assert DatabaseReplayStore(async_commit=True).claim("billing:jti-in-a-transaction", int(time.time()) + 60)
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"


def test_redis_store_accepts_a_key_once_and_remembers_it_until_its_time(redis_store):
    assert isinstance(redis_store, RedisReplayStore)
    assert redis_store.claim("billing:jti-two", int(time.time()) + 30) is True
    assert redis_store.claim("billing:jti-two", int(time.time()) + 30) is False
    assert 0 < redis_store.client.ttl(redis_store.prefix + "billing:jti-two") <= 31


def test_redis_store_forgets_a_key_once_its_time_is_up(redis_store):
    stored = redis_store.prefix + "billing:jti-forgotten"
    assert redis_store.claim("billing:jti-forgotten", int(time.time()) + 30) is True
    redis_store.client.pexpire(stored, 1)  # its 30 s are up, a millisecond from now
    wait_until(lambda: not redis_store.client.exists(stored))
    assert redis_store.claim("billing:jti-forgotten", int(time.time()) + 30) is True


def test_redis_store_remembers_a_key_at_least_a_second_even_if_its_time_is_past(redis_store):
    assert redis_store.claim("billing:jti-late", int(time.time()) - 5) is True
    assert redis_store.client.ttl(redis_store.prefix + "billing:jti-late") == 1
    assert redis_store.claim("billing:jti-late", int(time.time()) - 5) is False


def test_an_unreachable_redis_is_unavailable_not_acceptance():
    store = RedisReplayStore(f"redis://127.0.0.1:{free_port()}/0", timeout=0.5)
    with pytest.raises(ReplayStoreUnavailable):
        store.claim("billing:jti", int(time.time()) + 30)
    with pytest.raises(ReplayStoreUnavailable):
        store.ping()


@pytest.mark.django_db
def test_replay_store_down_means_503(call, make_token, settings):
    settings.MS_TOKEN = {**settings.MS_TOKEN, "REPLAY_CACHE": f"redis://127.0.0.1:{free_port()}/0"}
    response = call(make_token())
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"


@pytest.mark.django_db(transaction=True)
def test_database_store_gone_means_503_not_acceptance(call, make_token):
    with connection.schema_editor() as editor:
        editor.delete_model(UsedToken)
    try:
        response = call(make_token())
        assert response.status_code == 503
        assert response.json()["code"] == "service_unavailable"
    finally:
        with connection.schema_editor() as editor:
            editor.create_model(UsedToken)


def twenty_copies_at_once(client_factory, token):
    """Send one token twenty times at once from twenty threads; return the responses."""
    barrier = threading.Barrier(20)
    responses = [None] * 20

    def send(index):
        try:
            client = client_factory()
            barrier.wait(timeout=10)
            responses[index] = client.get("/api/service-only/", HTTP_X_MS_TOKEN=token)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return responses


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_copies_exactly_one_accepted_database(make_token):
    from django.test import Client

    responses = twenty_copies_at_once(Client, make_token())
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [401] * 19, statuses
    assert {r.json()["code"] for r in responses if r.status_code == 401} == {"token_replayed"}
    assert UsedToken.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_copies_exactly_one_accepted_redis(make_token, redis_store):
    from django.test import Client

    responses = twenty_copies_at_once(Client, make_token())
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [401] * 19, statuses
    assert {r.json()["code"] for r in responses if r.status_code == 401} == {"token_replayed"}
    assert get_replay_store() is redis_store
    assert not UsedToken.objects.exists()  # the database was not the store


def as_at_a_requests_start(monkeypatch) -> None:
    """A kept connection, not yet checked in this request (Django's CONN_HEALTH_CHECKS)."""
    wrapper = connections["default"]  # the connection itself: monkeypatch cannot undo through the proxy
    wrapper.ensure_connection()
    monkeypatch.setattr(wrapper, "health_check_enabled", True)
    monkeypatch.setattr(wrapper, "health_check_done", False)


@pytest.mark.django_db(transaction=True)
def test_the_claim_is_the_requests_connection_check_not_one_more_round_trip(monkeypatch):
    as_at_a_requests_start(monkeypatch)
    checks = []
    monkeypatch.setattr(connections["default"], "is_usable", lambda: checks.append("SELECT 1") or True)
    assert DatabaseReplayStore().claim("billing:jti-first-statement", int(time.time()) + 60) is True
    assert checks == []
    assert connection.health_check_done  # the view's own queries do not check again


def break_the_kept_connection() -> int:
    """Another session ends ours, as a database restart or a dropped proxy connection would."""
    backend = connection.connection.info.backend_pid
    with connections["default"]._nodb_cursor() as other:
        other.execute("SELECT pg_terminate_backend(%s)", [backend])
    return backend


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_a_kept_connection_that_broke_is_replaced_and_the_claim_still_counts(monkeypatch):
    as_at_a_requests_start(monkeypatch)
    old_backend = break_the_kept_connection()
    store = DatabaseReplayStore()
    assert store.claim("billing:jti-after-a-restart", int(time.time()) + 60) is True
    assert connection.connection.info.backend_pid != old_backend
    assert store.claim("billing:jti-after-a-restart", int(time.time()) + 60) is False
    assert UsedToken.objects.filter(key="billing:jti-after-a-restart").count() == 1


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_a_claim_whose_first_attempt_may_have_committed_is_refused_as_unavailable(monkeypatch):
    # The row is there, as if the attempt lost with the connection had committed: the second
    # attempt cannot tell our own insert from a replay's, so the call is a retryable 503.
    UsedToken.objects.create(key="billing:jti-lost-with-the-connection", remember_until=int(time.time()) + 60)
    as_at_a_requests_start(monkeypatch)
    break_the_kept_connection()
    with pytest.raises(ReplayStoreUnavailable):
        DatabaseReplayStore().claim("billing:jti-lost-with-the-connection", int(time.time()) + 60)


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_the_claim_is_prepared_once_per_connection():
    threshold = connection.settings_dict["OPTIONS"]["prepare_threshold"]
    store = DatabaseReplayStore()
    for number in range(threshold + 2):
        assert store.claim(f"billing:jti-prepared-{number}", int(time.time()) + 60) is True
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s", ["%INSERT INTO%"])
        prepared = [row[0] for row in cursor.fetchall()]
    assert len(prepared) == 1 and UsedToken._meta.db_table in prepared[0], prepared


@pytest.mark.django_db(transaction=True)  # SQLite's schema editor runs outside a transaction
def test_the_rename_to_remember_until_changes_no_table():
    # Safe for a project upgrading with replicas of the old code still running: no SQL at all,
    # the column keeps the name the old code writes.
    from io import StringIO

    from django.core.management import call_command

    sql = StringIO()
    call_command("sqlmigrate", "ms_token", "0002", stdout=sql)
    statements = [line for line in sql.getvalue().splitlines() if line.strip() and not line.startswith("--")]
    assert [s for s in statements if s.upper() not in ("BEGIN;", "COMMIT;")] == []
    columns = [c.name for c in connection.introspection.get_table_description(connection.cursor(), UsedToken._meta.db_table)]
    assert "expires_at" in columns and "remember_until" not in columns
    assert UsedToken._meta.get_field("remember_until").column == "expires_at"


@pytest.mark.django_db
def test_a_verified_token_still_answers_to_its_old_name(make_token):
    from ms_token.verification import verify

    verified = verify(make_token(), method="GET", path="/api/service-only/", body=b"")
    assert verified.expires_at == verified.remember_until == verified.claims["exp"] + 5 + 60
