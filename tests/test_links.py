"""The one definition of a URL, with the column limit the stored rows need."""

from newsdesk.limits import MAX_URL
from newsdesk.links import absolute_url, canonical_url


def test_a_url_longer_than_the_limit_is_refused_not_cut():
    long_path = "https://news.example/" + "a" * MAX_URL
    assert canonical_url(long_path) == long_path  # no limit asked: kept whole
    assert canonical_url(long_path, limit=MAX_URL) is None
    assert absolute_url("/" + "a" * MAX_URL, "https://news.example/", limit=MAX_URL) is None
    assert canonical_url("https://news.example/" + "b" * 4 * MAX_URL, limit=MAX_URL) is None  # not parsed


def test_tracking_parameters_come_off_before_the_limit_is_checked():
    base = "https://news.example/story?id=7"
    padded = base + "&utm_source=" + "x" * (MAX_URL - len(base))
    assert len(padded) > MAX_URL
    assert canonical_url(padded, limit=MAX_URL) == base
    assert absolute_url("/story?id=7", "https://news.example/", limit=MAX_URL) == base
