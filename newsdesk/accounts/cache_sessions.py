"""Django's cache sessions (settings.SESSION_ENGINE with Redis), reading a session of
Django's former sign-in backend as the site's (sessions.CurrentBackend)."""

from __future__ import annotations

from django.contrib.sessions.backends import cache

from newsdesk.accounts.sessions import CurrentBackend


class SessionStore(CurrentBackend, cache.SessionStore):
    pass
