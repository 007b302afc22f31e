"""Django's database sessions, read with a plain statement.

Every signed-in request reads its session, and building and compiling the queryset
cost several times more than running it (see plain_rows.py). Everything else (saving,
cycling keys, expiry, clearsessions) is Django's; settings.SESSION_ENGINE names this
module where sessions live in the site's database.
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> Any:
        """The unexpired session row of this key (only its data is read), or None: then
        the key is dropped, as Django's own store does."""
        connection = connections[router.db_for_read(self.model)]
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT session_data FROM {quote(self.model._meta.db_table)}"
                " WHERE session_key = %s AND expire_date > %s",
                [self.session_key, connection.ops.adapt_datetimefield_value(timezone.now())],
            )
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return self.model(session_key=self.session_key, session_data=row[0])
