"""A simulated publisher on 127.0.0.1 for benchmarks: article pages and feeds listing them.

Pages are built at run time from a folder of plain-text articles (first line the
headline, then paragraphs), wrapped in the chrome real news pages carry (navigation,
share and newsletter boxes, related links, comments), so extraction does real work.
"""

from __future__ import annotations

import html
import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} - Bench News</title>
<link rel="canonical" href="{url}"><meta property="og:title" content="{title}">
<meta property="article:published_time" content="{published}">
<meta name="author" content="Bench News reporters">
<link rel="alternate" type="application/rss+xml" href="/feeds/0.xml"></head>
<body><header><nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li>
<li><a href="/business">Business</a></li><li><a href="/tech">Technology</a></li></ul></nav></header>
<div class="share">Share this article: <a href="#">Facebook</a> <a href="#">X</a> <a href="#">Email</a></div>
<main><article><h1>{title}</h1><p class="byline">By Bench News reporters</p>
<time datetime="{published}">{published}</time>
{paragraphs}
</article>
<aside class="newsletter"><h2>Get our daily briefing</h2><p>Sign up for the newsletter.</p>
<form><input type="email"><button>Subscribe</button></form></aside>
<section class="related"><h2>Related Articles</h2><ul>{related}</ul></section>
<section class="comments"><h2>Comments</h2><p>No comments yet...</p></section></main>
<footer><p>&copy; Bench News. All rights reserved.</p><a href="/privacy">Privacy</a></footer>
</body></html>"""


def load_articles(folder: Path) -> list[tuple[str, list[str]]]:
    """(headline, paragraphs) for every .txt file below `folder`, in a stable order."""
    items = []
    for path in sorted(folder.rglob("*.txt")):
        lines = [line.strip() for line in path.read_text("utf-8", errors="replace").splitlines()]
        lines = [line for line in lines if line]
        if len(lines) >= 2:
            items.append((lines[0], lines[1:]))
    return items


class Publisher:
    """`count` article pages under /articles/N and feeds of `per_feed` items at /feeds/K.xml."""

    def __init__(self, articles: list[tuple[str, list[str]]], count: int, per_feed: int = 100) -> None:
        if not articles:
            raise ValueError("no articles to build pages from")
        self.articles = articles
        self.count = count
        self.per_feed = per_feed
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def feed_urls(self) -> list[str]:
        return [f"{self.base}/feeds/{k}.xml" for k in range(-(-self.count // self.per_feed))]

    def start(self) -> Publisher:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def published(self, n: int) -> datetime:
        return self.now - timedelta(minutes=n)

    def title(self, n: int) -> str:
        # Each page is its own article even when the source text repeats.
        title = self.articles[n % len(self.articles)][0]
        return f"{title} ({n})" if n >= len(self.articles) else title

    def page(self, n: int) -> bytes:
        title, paragraphs = self.title(n), self.articles[n % len(self.articles)][1]
        body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
        body += f"\n<p>This is Bench News report number {n}.</p>"
        related = "".join(
            f'<li><a href="/articles/{(n + k) % self.count}">{html.escape(self.articles[(n + k) % len(self.articles)][0])}</a></li>'
            for k in (1, 2, 3)
        )
        return PAGE.format(
            title=html.escape(title),
            url=f"{self.base}/articles/{n}",
            published=self.published(n).isoformat(),
            paragraphs=body,
            related=related,
        ).encode("utf-8")

    def feed(self, k: int) -> bytes:
        items = []
        for n in range(k * self.per_feed, min((k + 1) * self.per_feed, self.count)):
            title = self.title(n)
            items.append(
                f"<item><title>{html.escape(title)}</title><link>{self.base}/articles/{n}?utm_source=rss</link>"
                f"<guid>{self.base}/articles/{n}</guid><pubDate>{format_datetime(self.published(n))}</pubDate>"
                f"<description>{html.escape(self.articles[n % len(self.articles)][1][0])}</description></item>"
            )
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Bench News {k}</title><link>{self.base}/</link>{''.join(items)}</channel></rss>"
        ).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        publisher = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in separate writes

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?")[0]
                body, kind = b"not found", "text/plain"
                status = 404
                try:
                    if path.startswith("/articles/"):
                        n = int(path.rsplit("/", 1)[1])
                        if 0 <= n < publisher.count:
                            body, kind, status = publisher.page(n), "text/html; charset=utf-8", 200
                    elif path.startswith("/feeds/") and path.endswith(".xml"):
                        k = int(path[len("/feeds/") : -len(".xml")])
                        body, kind, status = publisher.feed(k), "application/rss+xml", 200
                    elif path == "/robots.txt":
                        body, kind, status = b"User-agent: *\nDisallow: /private/\n", "text/plain", 200
                except ValueError:
                    pass
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler
