"""Page versions: what invalidates the cached pages (see pagecache.py)."""

from __future__ import annotations

from django.db import models


class PageVersion(models.Model):
    """The current version of one cached page scope ("home", "article:42").

    A row changes whenever something the scope's pages show changes; a cached page is
    stored under the version it was rendered at, so a new version is a cache miss. Kept
    in the database rather than the cache because the default cache is per process and
    the changes mostly happen in task workers, not in the web process that caches.
    """

    scope = models.CharField(max_length=64, unique=True)
    version = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.scope}@{self.version}"
