"""The default cache of every service: Django's database cache, minus eviction of live entries.

The cache holds the login and registration throttles' counters. Django's database cache, past
``MAX_ENTRIES`` rows, deletes the expired ones and then, if there are still too many, a third of
the rest (the first in key order); its file cache deletes a third at random. Either way whoever
can make entries (a flood of usernames) could erase a counter. This one only ever deletes expired
rows: the table holds what the limits admitted within their windows, and no more.

    CACHES = {"default": {"BACKEND": "service_kit.cache.DatabaseCache", "LOCATION": "django_cache"}}

The table is made by ``manage.py createcachetable``, which ``migrate`` runs for it
(``service_kit.apps``).
"""
from __future__ import annotations

from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.db import connections


class DatabaseCache(DjangoDatabaseCache):
    def _cull(self, db, cursor, now, num) -> None:
        # Called by every write once the table holds more than MAX_ENTRIES rows.
        connection = connections[db]
        cursor.execute(
            "DELETE FROM %s WHERE %s < %%s"
            % (connection.ops.quote_name(self._table), connection.ops.quote_name("expires")),
            [connection.ops.adapt_datetimefield_value(now)],
        )
