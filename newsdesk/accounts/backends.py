"""The sign-in backend: Django's ModelBackend, with the signed-in reader read by a plain
statement.

Every signed-in request loads its user, and `User.objects.get(pk=...)` cost more to
build and compile than to run (see plain_rows.py): some 8% of a signed-in search page's
samples under a sampling profiler, about 3% of its instructions with the header's links.
Passwords, permissions and the rest are Django's.

Sessions signed in before this backend name Django's own; the session stores read that
name as this one (sessions.CurrentBackend), so the change signs nobody out. That
reading can go once every such session has expired (SESSION_COOKIE_AGE after the
release that brought this backend): a session keeps the name it was stored with.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import backends, get_user_model

from newsdesk import plain_rows

BACKEND = "newsdesk.accounts.backends.ModelBackend"
FORMER_BACKEND = "django.contrib.auth.backends.ModelBackend"


class ModelBackend(backends.ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        model = get_user_model()
        names = [field.name for field in model._meta.concrete_fields]
        user = plain_rows.first(model, names, **{model._meta.pk.name: user_id})
        return user if user is not None and self.user_can_authenticate(user) else None
