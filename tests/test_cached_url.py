"""`{% cached_url %}` gives what `{% url %}` gives, with `as var` too."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.urls import NoReverseMatch, reverse


def render(text: str) -> str:
    return Template("{% load newsdesk %}" + text).render(Context({"pk": 7, "slug": "bbc"}))


def test_the_same_urls_as_the_url_tag_with_and_without_a_variable():
    for _ in range(2):  # the second time from memory
        assert render("{% cached_url 'article' pk %}") == reverse("article", args=[7])
        assert render("{% cached_url 'source' slug as to %}<{{ to }}>") == f"<{reverse('source', args=['bbc'])}>"
        assert render("{% cached_url 'article' pk as to %}{{ to }}") == render("{% url 'article' pk as to %}{{ to }}")


def test_an_unknown_view_is_an_error_unless_kept_in_a_variable_as_the_url_tag_does():
    assert render("{% cached_url 'no-such-view' pk as to %}[{{ to }}]") == "[]"
    assert render("{% url 'no-such-view' pk as to %}[{{ to }}]") == "[]"
    with pytest.raises(NoReverseMatch):
        render("{% cached_url 'no-such-view' pk %}")
