"""Builders for the fixture feeds and article pages the pipeline tests serve."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from newsdesk.sources.http import FetchResult

LOREM = [
    "The council voted on Tuesday to approve the new transport plan after a long debate "
    "that stretched late into the evening and drew a large crowd of residents.",
    "Supporters said the plan would cut congestion in the city centre and make journeys "
    "faster for the thousands of commuters who travel by bus every day.",
    "Opponents argued that the cost had been underestimated and that small businesses on "
    "the main shopping streets would suffer during years of construction work.",
    "The mayor promised a review of the budget within six months and said that residents "
    "would be consulted before any street was closed to traffic.",
]


def article_page(
    title: str,
    paragraphs: list[str] | None = None,
    *,
    canonical: str | None = None,
    author: str = "Jane Reporter",
    published: datetime | None = None,
    section: str | None = None,
) -> bytes:
    """A news page with the chrome real sites carry around the article, seed-page chrome
    included; `section` is declared as the page's article:section."""
    paragraphs = paragraphs or LOREM
    published = published or datetime.now(UTC) - timedelta(minutes=16)
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    head = f'<link rel="canonical" href="{html.escape(canonical)}">' if canonical else ""
    if section:
        head += f'<meta property="article:section" content="{html.escape(section)}">'
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)} | Test Gazette</title>
{head}
<meta property="og:title" content="{html.escape(title)}">
<meta property="og:site_name" content="Test Gazette">
<meta name="author" content="{html.escape(author)}">
<meta property="article:published_time" content="{published.isoformat()}">
</head><body>
<header><nav><a href="/">Home</a> <a href="/world">World</a> <a href="/sport">Sport</a></nav></header>
<div class="share">Share on Facebook Share on X Copy link</div>
<main><article>
<h1>{html.escape(title)}</h1>
<p class="byline">By {html.escape(author)}</p>
{body}
</article>
<section class="hashtags"><h2>Hashtags</h2></section>
<section class="ai"><h2>Try Our AI Features</h2><p>Explore what Daily8 AI can do for you:</p></section>
<section class="comments"><h2>Comments</h2><p>No comments yet...</p></section>
<section class="related"><h2>Related Articles</h2>
<ul><li><a href="/other">Moscow lists countries whose citizens took part in incursion</a> 16 minutes ago</li></ul>
</section></main>
<footer>Subscribe to our newsletter. &copy; Test Gazette</footer>
</body></html>""".encode()


def rss(items: list[dict], *, title: str = "Test Gazette", link: str = "http://127.0.0.1/") -> bytes:
    """An RSS 2.0 feed; each item dict has link, title and optionally guid, published
    (datetime), description, content (HTML), categories (list of labels)."""
    parts = []
    for item in items:
        pub = item.get("published") or datetime.now(UTC) - timedelta(minutes=30)
        extra = ""
        if item.get("content"):
            extra += f"<content:encoded><![CDATA[{item['content']}]]></content:encoded>"
        extra += "".join(f"<category>{html.escape(c)}</category>" for c in item.get("categories", ()))
        parts.append(
            f"<item><title>{html.escape(item['title'])}</title><link>{html.escape(item['link'])}</link>"
            f"<guid>{html.escape(item.get('guid', item['link']))}</guid>"
            f"<pubDate>{format_datetime(pub)}</pubDate>"
            f"<description>{html.escape(item.get('description', ''))}</description>{extra}</item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:atom="http://www.w3.org/2005/Atom"><channel>'
        f"<title>{html.escape(title)}</title><link>{html.escape(link)}</link>"
        f"<description>Test feed</description>{''.join(parts)}</channel></rss>"
    ).encode()


def atom(entries: list[dict], *, title: str = "Test Gazette", link: str = "http://127.0.0.1/") -> bytes:
    """An Atom 1.0 feed; each entry dict has link, title, updated (datetime) and
    optionally content (HTML)."""
    parts = []
    for entry in entries:
        content = entry.get("content")
        content_xml = f'<content type="html">{html.escape(content)}</content>' if content else ""
        parts.append(
            f"<entry><title>{html.escape(entry['title'])}</title>"
            f'<link rel="alternate" href="{html.escape(entry["link"])}"/>'
            f"<id>{html.escape(entry.get('id', entry['link']))}</id>"
            f"<updated>{entry['updated'].isoformat()}</updated>{content_xml}</entry>"
        )
    newest = max((e["updated"] for e in entries), default=datetime.now(UTC))
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f'<title>{html.escape(title)}</title><link href="{html.escape(link)}"/>'
        f"<id>{html.escape(link)}</id><updated>{newest.isoformat()}</updated>{''.join(parts)}</feed>"
    ).encode()


def fetched(content: bytes, content_type: str, url: str = "https://daily.example/listing") -> FetchResult:
    """A fetched document, as the fetcher returns it, without a server."""
    return FetchResult(
        url=url,
        final_url=url,
        status=200,
        headers={"content-type": content_type},
        content=content,
        etag=None,
        last_modified=None,
        elapsed=0.0,
    )
