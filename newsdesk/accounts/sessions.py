"""Django's database sessions, read with a plain statement.

Every signed-in request reads its session, and building and compiling the queryset
cost several times more than running it (see plain_rows.py). Everything else (saving,
cycling keys, expiry, clearsessions) is Django's; settings.SESSION_ENGINE names this
module where sessions live in the site's database (cache_sessions.py where they live
in Redis).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.sessions.backends import db
from django.utils import timezone

from newsdesk import plain_rows
from newsdesk.accounts.backends import BACKEND, FORMER_BACKEND


class CurrentBackend:
    """A session signed in through Django's ModelBackend, before the site had its own
    (backends.py), is read as signed in through the site's: the same accounts and
    passwords, and Django would otherwise drop a session whose backend is not listed."""

    def load(self) -> dict[str, Any]:
        data: dict[str, Any] = super().load()  # type: ignore[misc]
        if data.get(BACKEND_SESSION_KEY) == FORMER_BACKEND:
            data[BACKEND_SESSION_KEY] = BACKEND
        return data


class SessionStore(CurrentBackend, db.SessionStore):
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
