"""Search results show each article text once, as every listing does.

The stories app records each copy of a text (a wire story on several sites, one page in
two feeds) as a NearDuplicate pointing at its original; newsdesk/stories/copies.py folds
the other listings with those records, and search reads them through
newsdesk/articles/copies.py (it sits beside the stories app and may not import it). Of a
text's matches the best-scoring one stands for it; the others are not ranked, shown or
counted.
"""

from __future__ import annotations

from newsdesk.articles.copies import originals

__all__ = ["one_per_text", "originals"]


def one_per_text(rows: list[tuple[int, float, float]], original_of: dict[int, int]) -> list[tuple[int, float, float]]:
    """The (article_id, published, score) rows keeping, of each text, its best-scoring
    row (the earlier on a tie: the original before its copies), in their order."""
    best: dict[int, tuple[int, float, float]] = {}
    for row in rows:
        text = original_of.get(row[0], row[0])
        kept = best.get(text)
        if kept is None or (row[2], -row[1]) > (kept[2], -kept[1]):
            best[text] = row
    kept_ids = {row[0] for row in best.values()}
    return [row for row in rows if row[0] in kept_ids]
