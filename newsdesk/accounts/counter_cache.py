"""The rate-limit counters' cache without Redis: diskcache's Django backend, kept open.

Django closes every cache when a request ends (network caches hand their sockets
back), and diskcache's backend then closes its SQLite connections: each API request
paid about 1.5 ms to open four shards' files again and set their PRAGMAs, more than the
counting itself. The connections belong to their thread and live as long as it does.
"""

from __future__ import annotations

from typing import Any

from diskcache import DjangoCache


class CounterCache(DjangoCache):
    def close(self, **kwargs: Any) -> None:
        """Kept open: see the module's docstring."""
