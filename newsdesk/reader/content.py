"""An article as reader apps show it, whichever API (Google Reader, Fever) asks."""

from __future__ import annotations

from django.utils.html import escape

from newsdesk.articles.models import Article


def article_html(article: Article) -> str:
    """The article's sanitised body, or its description as a paragraph when the body
    was not extracted; empty when it has neither."""
    if article.body_html:
        return article.body_html
    return f"<p>{escape(article.description)}</p>" if article.description else ""
