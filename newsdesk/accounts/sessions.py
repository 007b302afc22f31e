"""Django's database sessions, read with a plain statement.

Every signed-in request reads its session, and building and compiling the queryset
cost several times more than running it (see plain_rows.py). Everything else (saving,
cycling keys, expiry, clearsessions) is Django's; settings.SESSION_ENGINE names this
module where sessions live in the site's database.
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends import db
from django.utils import timezone

from newsdesk import plain_rows


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> Any:
        """The unexpired session of this key (its data and expiry read), or None: then the
        key is dropped, as Django's own store does."""
        found: Any = plain_rows.first(
            self.model, ("session_key", "session_data", "expire_date"), session_key=self.session_key
        )
        if found is None or found.expire_date <= timezone.now():
            self._session_key = None
            return None
        return found
