"""The order of the related-articles box (newsdesk/stories/related.py): same-story
coverage by other publishers first, one entry per text, a mix of sources, and the newest
first among equally good candidates."""

from __future__ import annotations

from newsdesk.stories.related import Candidate, Query, rank

NOW = 1_800_000_000.0
QUERY = Query(id=0, publisher="a", time=NOW, entities=frozenset({"kyiv"}))


def c(id, similarity, publisher, *, same_story=False, hours=0.0, duplicate_of=None, entities=()):
    return Candidate(
        id=id,
        similarity=similarity,
        same_story=same_story,
        publisher=publisher,
        time=NOW - hours * 3600,
        entities=frozenset(entities),
        duplicate_of=duplicate_of,
    )


def test_same_story_from_other_publishers_comes_first_even_when_less_similar():
    picked = rank(QUERY, [c(1, 0.95, "b"), c(2, 0.60, "b", same_story=True), c(3, 0.70, "a", same_story=True)])
    assert [p.id for p in picked] == [2, 3, 1]
    assert [p.tier for p in picked] == [0, 1, 2]


def test_each_text_appears_once_and_never_a_copy_of_the_article_itself():
    picked = rank(
        QUERY,
        [
            c(1, 0.9, "b"),
            c(2, 0.8, "c", duplicate_of=1),
            c(3, 0.99, "d", duplicate_of=0),
            c(0, 1.0, "a"),
            c(4, 0.5, "e"),
        ],
    )
    assert [p.id for p in picked] == [1, 4]


def test_a_prolific_publisher_does_not_fill_the_box():
    many = [c(i, 0.80 - i * 0.001, "b") for i in range(1, 6)]
    others = [c(10, 0.76, "c"), c(11, 0.75, "d")]
    picked = rank(QUERY, many + others, limit=4)
    assert {p.publisher for p in picked} == {"b", "c", "d"}


def test_newest_first_among_equally_good_and_older_days_cost_relevance():
    picked = rank(QUERY, [c(1, 0.800, "b", hours=5), c(2, 0.795, "c", hours=1)])
    assert [p.id for p in picked] == [2, 1]
    # Three days apart loses more than a small similarity edge.
    picked = rank(QUERY, [c(1, 0.82, "b", hours=72), c(2, 0.80, "c", hours=2)])
    assert picked[0].id == 2 and picked[1].score < 0.82 - 0.02 * 2.9


def test_shared_entities_break_near_ties():
    picked = rank(QUERY, [c(1, 0.700, "b"), c(2, 0.695, "c", entities={"kyiv"})], limit=1)
    assert picked[0].id == 2 and abs(picked[0].score - (0.695 + 0.05)) < 1e-9
