"""The static files' storage: whitenoise's, with each file's URL remembered.

`{% static %}` asks the storage for a URL on every use, and the manifest storage works
it out each time (the hashed name, then quoting and joining): about 20 us, six or seven
times on every page. The manifest is read once when the process starts and never
changes while it runs, so neither do the URLs.
"""

from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._urls: dict[tuple[str, bool], str] = {}

    def url(self, name: str, force: bool = False) -> str:
        key = (name, force)
        found = self._urls.get(key)
        if found is None:
            found = super().url(name, force)
            if len(self._urls) < 4096:  # the site's own files; any other name is worked out each time
                self._urls[key] = found
        return found
