"""The search page's result rows: their articles read with one plain query, their HTML
written in Python.

A search page shows 20 rows and is never cached, so what each row costs counts on every
search. Through the ORM and an included template a row cost about 0.25 ms: compiling the
queryset with its joins (more than running it), and some 25 template nodes per row with
URL reversing. Here the articles come from one fixed statement (newsdesk/plain_rows.py)
with only the columns a row shows, and each row's markup is joined in Python, as the
form's fields are (forms.py). Two parts stay in the template, which alone knows them:
the reader's "new" marker (the boundary comes from the reader layer's tag) and the site's
`{% when %}` time. So a row is three pieces of safe HTML around those: `head`, `source`
and `tail`, with `published_at` for the marker and the time; search.html joins them.
The markup is that of the former row template, search/_hit.html, which
tests/test_search_rows.py keeps as the reference the rows are compared with.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.signals import setting_changed
from django.db import connections
from django.db.models import Field, Model
from django.template.defaultfilters import truncatewords
from django.template.loader import get_template
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from newsdesk import plain_rows
from newsdesk.articles.copies import also_published_by
from newsdesk.articles.models import Article
from newsdesk.images.models import ArticleImage
from newsdesk.images.templatetags.images import picture
from newsdesk.search.types import Hit
from newsdesk.sources.models import Source

ALSO_PUBLISHED = "newsdesk/_also_published.html"  # the site's own line, shared by every listing
EXCERPT_WORDS = 40


# What a row reads of its article, its publisher and its picture; the rest is deferred.
# In each model's own field order: Model.from_db takes the values in that order.
def _fields(model: type[Model], names: set[str]) -> list[Field]:
    return [f for f in model._meta.concrete_fields if f.name in names]


_ARTICLE_FIELDS = _fields(Article, {"id", "title", "description", "published_at", "source"})
_SOURCE_FIELDS = _fields(Source, {"id", "name", "slug"})
_IMAGE_FIELDS = _fields(ArticleImage, {"article", "state", "width", "height", "variants", "alt"})


def shown_articles(ids: Sequence[int], using: str = "default") -> dict[int, Article]:
    """The articles of `ids` that still exist, by id, each with its publisher and its
    picture attached as select_related("source", "image") attaches them."""
    if not ids:
        return {}
    connection = connections[using]
    quote = connection.ops.quote_name
    article, source, image = (quote(m._meta.db_table) for m in (Article, Source, ArticleImage))
    sql = (
        f"SELECT {plain_rows.columns(connection, _ARTICLE_FIELDS, 'a')},"
        f" {plain_rows.columns(connection, _SOURCE_FIELDS, 's')},"
        f" {plain_rows.columns(connection, _IMAGE_FIELDS, 'i')}"
        f" FROM {article} a INNER JOIN {source} s ON s.id = a.source_id"
        f" LEFT OUTER JOIN {image} i ON i.article_id = a.id"
        f" WHERE a.id IN ({', '.join(['%s'] * len(ids))})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, list(ids))
        rows = cursor.fetchall()
    article_of = plain_rows.reader(connection, Article, _ARTICLE_FIELDS)
    source_of = plain_rows.reader(connection, Source, _SOURCE_FIELDS)
    image_of = plain_rows.reader(connection, ArticleImage, _IMAGE_FIELDS)
    split, end = len(_ARTICLE_FIELDS), len(_ARTICLE_FIELDS) + len(_SOURCE_FIELDS)
    found: dict[int, Article] = {}
    for row in rows:
        item = article_of(row[:split])
        plain_rows.attach(item, "source", source_of(row[split:end]))
        plain_rows.attach(item, "image", None if row[end] is None else image_of(row[end:]))
        found[item.pk] = item
    return found


def result_rows(hits: Sequence[Hit], using: str = "default") -> list[dict[str, Any]]:
    """One row per hit whose article still exists, in the hits' order (see the module)."""
    articles = shown_articles([hit.article_id for hit in hits], using)
    also_published_by(articles.values())  # each text is one hit; it names the other publishers
    url = _Urls()
    rows = []
    for hit in hits:
        found = articles.get(hit.article_id)
        if found is not None:
            rows.append(_row(found, hit.snippet, url))
    return rows


def _row(article: Any, snippet: str, url: _Urls) -> dict[str, Any]:
    shown = picture(article, "thumb")
    if snippet:  # escaped by the backend (highlight.to_html) before <mark> was added
        excerpt = f'<p class="excerpt snippet">{snippet}</p>'
    elif article.description:
        excerpt = f'<p class="excerpt">{escape(truncatewords(article.description, EXCERPT_WORDS))}</p>'
    else:
        excerpt = ""
    source = article.source
    return {
        "head": mark_safe(f'<li class="item hit{" has-pic" if shown else ""}">\n  {shown}\n  <p class="meta">'),
        "source": mark_safe(f'<a href="{url("source", source.slug)}">{escape(source.name)}</a>\n    · '),
        "published_at": article.published_at,
        "tail": mark_safe(
            f'</p>\n  <h3 class="headline"><a href="{url("article", article.pk)}">{escape(article.title)}</a></h3>\n'
            f"  {excerpt}\n  {_also_published(article.also_published_by)}\n</li>\n"
        ),
    }


def _also_published(sources: list[Source]) -> str:
    """The site's "Also published by" line, rendered by its template only when there
    is something to say (most texts have no copies); its empty output is kept too."""
    global _NOBODY
    if sources:
        return get_template(ALSO_PUBLISHED).render({"sources": sources})
    if _NOBODY is None:
        _NOBODY = get_template(ALSO_PUBLISHED).render({"sources": []})
    return _NOBODY


_NOBODY: str | None = None


class _Urls:
    """reverse() for the rows of one page, remembered across pages under the script
    prefix and URL configuration in force (as the site's `{% cached_url %}` does):
    reversing costs about 10 us, and the same publishers come back page after page."""

    def __init__(self) -> None:
        self.scope = (get_script_prefix(), get_urlconf())

    def __call__(self, name: str, arg: str | int) -> str:
        key = (name, arg, *self.scope)
        found = _URLS.get(key)
        if found is None:
            if len(_URLS) >= _URLS_MAX:
                _URLS.clear()
            found = _URLS[key] = escape(reverse(name, args=[arg]))
        return found


_URLS: dict[tuple, SafeString] = {}
_URLS_MAX = 20000


def _forget(**kwargs: Any) -> None:
    global _NOBODY
    _URLS.clear()
    _NOBODY = None


setting_changed.connect(_forget, dispatch_uid="newsdesk-search-rows")
