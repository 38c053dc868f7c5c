"""The replay store: remembers every accepted ``(iss, jti)`` until its token can no longer pass
the expiry check (``remember_until``: Unix seconds, its ``exp`` plus the leeway and a margin).

``claim(key, remember_until)`` is atomic across threads, processes and replicas: it returns True
for the first claim of a key and False ever after. The callee's database is the default store
(an ``INSERT ... ON CONFLICT DO NOTHING`` into a primary-key table: one statement, no
exception, no savepoint); Redis (``SET NX EX``) when ``MS_TOKEN["REPLAY_CACHE"]`` is a ``redis://`` URL.
A store that does not answer raises ``ReplayStoreUnavailable``: refusal, never acceptance.
"""
from __future__ import annotations

import itertools
import logging
import math
import threading
import time
from typing import Protocol

from django.db import DatabaseError, InterfaceError, OperationalError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from .exceptions import ReplayStoreUnavailable
from .settings import MSTokenSettings, ms_token_settings, on_reload

logger = logging.getLogger(__name__)


class ReplayStore(Protocol):
    def claim(self, key: str, remember_until: int) -> bool: ...

    def ping(self) -> None: ...


class DatabaseReplayStore:
    def __init__(self, alias: str = "default", *, prune_every: int = 200, async_commit: bool = True) -> None:
        from .models import UsedToken

        self.alias = alias
        self.prune_every = prune_every
        self.async_commit = async_commit
        self._claims = itertools.count(1)
        self._table = UsedToken._meta.db_table
        self._until_column = UsedToken._meta.get_field("remember_until").column
        self._insert_sqls: dict[bool, str] = {}  # in a transaction? -> the claim's SQL

    def _insert_sql(self, connection: BaseDatabaseWrapper) -> str:
        """The claim's statement, built once per store (its database, so its vendor, is fixed)."""
        in_transaction = connection.in_atomic_block
        sql = self._insert_sqls.get(in_transaction)
        if sql is None:
            sql = self._insert_sqls[in_transaction] = self._build_insert_sql(connection, in_transaction)
        return sql

    def _build_insert_sql(self, connection: BaseDatabaseWrapper, in_transaction: bool) -> str:
        table = connection.ops.quote_name(self._table)
        if connection.vendor == "mysql":
            return f"INSERT IGNORE INTO {table} (`key`, `{self._until_column}`) VALUES (%s, %s)"
        key = connection.ops.quote_name("key")
        until = connection.ops.quote_name(self._until_column)
        if connection.vendor == "postgresql" and self.async_commit and not in_transaction:
            # Don't wait for the WAL flush of this one insert (README: its cost): the row is
            # visible to every other session at once, so concurrent copies are still refused;
            # only a database crash could forget the last fraction of a second of jtis.
            # set_config(..., true) lasts to the end of the transaction: here, this statement's
            # own. Inside a request's transaction (ATOMIC_REQUESTS) it would also make the
            # service's own writes commit asynchronously, so there the plain insert runs.
            return (
                "WITH quick AS (SELECT set_config('synchronous_commit', 'off', true)) "
                f"INSERT INTO {table} ({key}, {until}) SELECT %s, %s FROM quick ON CONFLICT DO NOTHING"
            )
        return f"INSERT INTO {table} ({key}, {until}) VALUES (%s, %s) ON CONFLICT DO NOTHING"

    def claim(self, key: str, remember_until: int) -> bool:
        connection = connections[self.alias]
        try:
            claimed = self._insert(connection, key, remember_until)
        except (DatabaseError, InterfaceError) as error:  # Django's InterfaceError is no DatabaseError
            raise ReplayStoreUnavailable(f"replay store (database {self.alias!r}): {error}") from error
        if next(self._claims) % self.prune_every == 0:
            if connection.in_atomic_block:
                # The caller's transaction (ATOMIC_REQUESTS, say) is not ours to slow down or to
                # break: a failed DELETE would abort it. Pruned once it commits, outside it (a
                # rollback drops the prune; a later claim prunes).
                transaction.on_commit(self.prune, using=self.alias)
            else:
                self.prune()
        return claimed

    def _insert(self, connection: BaseDatabaseWrapper, key: str, remember_until: int) -> bool:
        # The claim is most often a request's first statement, and with CONN_HEALTH_CHECKS Django
        # would first spend a round trip ("SELECT 1") on checking the kept connection. Here the
        # claim is that check: on a broken connection it fails, the connection is closed, and
        # the claim runs once more on a new one, as Django would have reconnected. (Django's
        # health-check flags are internal: where they are missing, Django checks as usual.)
        checks_connection = bool(
            getattr(connection, "health_check_enabled", False)
            and not getattr(connection, "health_check_done", True)
            and connection.connection is not None
            and not connection.in_atomic_block
        )
        if checks_connection:
            setattr(connection, "health_check_done", True)  # an internal flag the type stubs lack
        try:
            return self._run_insert(connection, key, remember_until)
        except (InterfaceError, OperationalError):
            if not checks_connection or connection.is_usable():
                raise
        connection.close()
        if not self._run_insert(connection, key, remember_until):
            # The lost attempt may have committed before the connection broke: a row found now
            # is ours or a replay's, and nobody can tell. Refuse, as unavailable (retryable).
            raise ReplayStoreUnavailable(f"replay store (database {self.alias!r}): connection lost mid-claim")
        return True

    def _run_insert(self, connection: BaseDatabaseWrapper, key: str, remember_until: int) -> bool:
        sql = self._insert_sql(connection)
        if _can_prepare(connection):
            # A server-binding cursor, which psycopg prepares once the statement has run
            # prepare_threshold times on this connection: PostgreSQL then reuses its plan instead
            # of parsing and planning every claim. (Django's own cursors bind on the client and
            # are never prepared.) Django's error translation is kept; its query log and
            # execute_wrapper hooks do not see this one statement.
            import psycopg

            connection.ensure_connection()
            with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
                cursor.execute(sql, (key, remember_until))
                return cursor.rowcount == 1
        with connection.cursor() as cursor:
            cursor.execute(sql, [key, remember_until])
            inserted: int = cursor.rowcount
            return inserted == 1

    def prune(self, now: float | None = None) -> int:
        """Delete expired rows. Runs on every N-th claim, so no cron job is needed; a claim
        inside a transaction leaves it until that transaction commits."""
        from .models import UsedToken

        cutoff = int(time.time() if now is None else now)
        try:
            deleted, _ = UsedToken.objects.using(self.alias).filter(remember_until__lt=cutoff).delete()
        except DatabaseError as error:  # pruning is housekeeping: the claim already succeeded
            logger.warning("replay store: pruning failed: %s", error)
            return 0
        return deleted

    def ping(self) -> None:
        from .models import UsedToken

        try:
            UsedToken.objects.using(self.alias).filter(key="").exists()
        except DatabaseError as error:
            raise ReplayStoreUnavailable(f"replay store (database {self.alias!r}): {error}") from error


def _can_prepare(connection: BaseDatabaseWrapper) -> bool:
    """PostgreSQL with psycopg's prepared statements on (the psycopg 3 option
    ``DATABASES[...]["OPTIONS"]["prepare_threshold"]``, which Django leaves off by default for
    connection poolers), outside a transaction."""
    return (
        connection.vendor == "postgresql"
        and not connection.in_atomic_block
        and connection.settings_dict["OPTIONS"].get("prepare_threshold") is not None
    )


class RedisReplayStore:
    prefix = "ms_token:used:"

    def __init__(self, url: str, *, timeout: float = 0.5) -> None:
        import redis

        self._errors = redis.RedisError
        self.client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)

    def claim(self, key: str, remember_until: int) -> bool:
        seconds = max(1, math.ceil(remember_until - time.time()))
        try:
            return bool(self.client.set(self.prefix + key, b"1", nx=True, ex=seconds))
        except self._errors as error:
            raise ReplayStoreUnavailable(f"replay store (redis): {error}") from error

    def ping(self) -> None:
        try:
            self.client.ping()
        except self._errors as error:
            raise ReplayStoreUnavailable(f"replay store (redis): {error}") from error


_stores: dict[tuple[str, str], ReplayStore] = {}
_stores_lock = threading.Lock()


def get_replay_store() -> ReplayStore:
    """The store the settings name (``MS_TOKEN["REPLAY_CACHE"]``), shared per process."""
    config = ms_token_settings
    which = (config.REPLAY_CACHE or "", config.REPLAY_DATABASE)
    store = _stores.get(which)
    if store is None:
        with _stores_lock:
            store = _stores.get(which)
            if store is None:
                store = _stores[which] = _make_store(config)
    return store


def _make_store(config: MSTokenSettings) -> ReplayStore:
    if config.REPLAY_CACHE:  # a redis:// URL: the settings refuse anything else
        return RedisReplayStore(config.REPLAY_CACHE, timeout=config.REDIS_TIMEOUT)
    return DatabaseReplayStore(
        config.REPLAY_DATABASE,
        prune_every=config.REPLAY_PRUNE_EVERY,
        async_commit=config.REPLAY_ASYNC_COMMIT,
    )


@on_reload
def clear_replay_stores() -> None:
    """Forget the stores made with the settings before (their pruning, commit mode, timeout)."""
    with _stores_lock:
        _stores.clear()
