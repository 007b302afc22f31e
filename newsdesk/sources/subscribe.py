"""Recording subscriptions: the source a site belongs to, its feeds, and changes to a feed.

One way for every door: `newsdesk add` and `import-opml`, the staff's desk pages and the
staff API write sources and feeds through these functions, so a site is one source
however it was added, adding a feed twice is adding it once, and a feed whose address
changes starts afresh the same way everywhere.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.utils import timezone
from django.utils.text import slugify

from newsdesk.links import canonical_url

from .models import Feed, Source

__all__ = ["change_feed", "find_source", "site_of", "source_for", "subscribe"]


def site_of(url: str) -> str:
    """Host without "www.", with ":port" when the URL names a port other than its
    scheme's (canonical_url drops a default one): two publishers served from one
    machine on two ports are two sites."""
    netloc = urlsplit(canonical_url(url) or url).netloc.lower()
    return netloc.rpartition("@")[2].removeprefix("www.")


def find_source(url: str) -> Source | None:
    """The publisher that owns `url`'s site, if there is one yet."""
    host = site_of(url)
    for existing in Source.objects.all():
        if site_of(existing.home_url) == host:
            return existing
    return None


def source_for(url: str, name: str | None, **fields: str) -> Source:
    """The publisher that owns `url`'s site (its host, and its port when one is named),
    created on first sight with `name` (else the host) and `fields` (country, language,
    kind); an existing one is returned as it is."""
    existing = find_source(url)
    if existing is not None:
        return existing
    host = site_of(url)
    base = slugify(host.replace(".", "-").replace(":", "-"))[:90] or "source"
    slug, n = base, 1
    while Source.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    parts = urlsplit(url)
    return Source.objects.create(
        name=(name or host)[:200], slug=slug, home_url=f"{parts.scheme}://{parts.netloc}/", **fields
    )


def subscribe(source: Source, url: str, title: str | None = None) -> tuple[Feed, bool]:
    """Record the feed at `url` for `source`, to be polled at once; (feed, created). A feed
    that already exists is returned as it is, with the source it already has."""
    feed, created = Feed.objects.get_or_create(
        url=canonical_url(url) or url,
        defaults={"source": source, "title": (title or "")[:300], "next_fetch_at": timezone.now()},
    )
    return feed, created


def change_feed(feed: Feed, *, url: str | None = None, title: str | None = None, enabled: bool | None = None) -> None:
    """Apply changes to `feed` (not saved: the caller saves, inside its own checks). A new
    address starts afresh: no validators of the old one, polled soon; so does a feed
    turned back on."""
    if url is not None and url != feed.url:
        feed.etag, feed.last_modified, feed.next_fetch_at = "", "", timezone.now()
        feed.url = url
    if title is not None:
        feed.title = title[:300]
    if enabled is not None:
        if enabled and not feed.enabled:
            feed.next_fetch_at = timezone.now()
        feed.enabled = enabled
