"""The personal briefing: what is new on each story the reader follows since they last
looked, in a few sentences taken only from that newer coverage, each citing its article.

"Since they last looked" is the follow's `seen_at` (when the reader last opened the
story, or marked the briefing seen), or for an email the time the previous briefing
email was made, whichever is later: an email never repeats the last one. Coverage counts
as new by when it joined the story here (`StoryMember.joined_at`), not by the date the
publisher put on it: an article published this morning and found this afternoon is new
to a reader who looked at noon. A followed story that was merged into another is
followed through to the one it became. Copies of a text already in the story, and
anything the reader muted, are left out.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.db.models import Count

from newsdesk.articles.models import Article, ArticleHashtag
from newsdesk.reader.briefings import mutes as mute_rules
from newsdesk.reader.briefings import sentences
from newsdesk.reader.models import Interest
from newsdesk.stories.models import NearDuplicate, Story, StoryMember

MAX_SENTENCES = 3
MAX_COUNTED = 500  # new articles counted per story: "500+" beyond
MAX_ARTICLES = 12  # the newest coverage of a story that sentences are chosen from (and mutes checked on)


def followed(user_id: int) -> dict[int, tuple[Story, datetime, list[int]]]:
    """The stories the reader follows, by the id they are now (merges followed through):
    (story, when the reader last looked at it, the interest ids that name it)."""
    rows = list(
        Interest.objects.filter(user_id=user_id, kind=Interest.Kind.STORY, muted=False).values_list(
            "pk", "key", "seen_at"
        )
    )
    keys = {int(key) for _, key, _ in rows if key.isdigit() and len(key) < 19}
    stories = Story.objects.only("title", "merged_into_id", "publisher_count", "article_count").in_bulk(keys)
    final: dict[int, Story] = {}
    for pk, story in stories.items():
        seen: set[int] = set()
        while story.merged_into_id and story.pk not in seen:
            seen.add(story.pk)
            nxt = Story.objects.only("title", "merged_into_id", "publisher_count", "article_count").filter(
                pk=story.merged_into_id
            )
            story = nxt.first() or story
            if story.pk in seen:
                break
        final[pk] = story
    found: dict[int, tuple[Story, datetime, list[int]]] = {}
    for interest_id, key, seen_at in rows:
        story = final.get(int(key)) if key.isdigit() and len(key) < 19 else None
        if story is None:
            continue
        if story.pk in found:
            _, last, ids = found[story.pk]
            found[story.pk] = (story, max(last, seen_at), [*ids, interest_id])
        else:
            found[story.pk] = (story, seen_at, [interest_id])
    return found


def whats_new(user_id: int, *, not_before: datetime | None = None, mutes: mute_rules.Mutes | None = None) -> list[dict]:
    """Each followed story with coverage newer than the reader's last look (and than
    `not_before`), newest first: {"story", "title", "since", "new_articles",
    "publishers", "latest", "sentences": [cited...], "headlines": [...]} (headlines: the
    new articles when no sentence could be taken from them, unenriched ones)."""
    stories = followed(user_id)
    if not stories:
        return []
    since = {pk: max(seen, not_before) if not_before else seen for pk, (_, seen, _) in stories.items()}
    mutes = mute_rules.of_user(user_id) if mutes is None else mutes
    copies = NearDuplicate.objects.values("article_id")
    fetched: dict[int, list[tuple[datetime, Article]]] = {}
    counted: dict[int, tuple[int, int]] = {}
    for story_id in stories:
        # An indexed read per story (story, joined_at) for its newest new coverage,
        # whatever the story's size; two more, capped, only for a story with more.
        new = StoryMember.objects.filter(story_id=story_id, joined_at__gt=since[story_id]).exclude(
            article_id__in=copies
        )
        # Muted sources, sections and hashtags leave the counts too; muted words (in
        # the text, not a column) only the articles shown.
        if mutes.sources:
            new = new.exclude(article__source__slug__in=mutes.sources)
        if mutes.sections:
            new = new.exclude(article__enrichment__section__in=mutes.sections)
        if mutes.hashtags:
            new = new.exclude(article__article_hashtags__hashtag__slug__in=mutes.hashtags)
        rows = [
            (m.joined_at, m.article)
            for m in new.select_related("article__source", "article__enrichment")
            .defer("title_vector", "article__body_html", "article__body_text", "article__enrichment__embedding")
            .order_by("-joined_at")[:MAX_ARTICLES]
        ]
        if rows:
            fetched[story_id] = rows
        if len(rows) >= MAX_ARTICLES:
            capped = StoryMember.objects.filter(pk__in=new.order_by("-joined_at")[:MAX_COUNTED].values("pk"))
            counted[story_id] = (capped.count(), capped.aggregate(n=Count("article__source_id", distinct=True))["n"])
    hidden = _hidden(mutes, [a for rows in fetched.values() for _, a in rows])
    updates = []
    for story_id, rows in fetched.items():
        shown = [a for _, a in rows if a.pk not in hidden]
        if not shown:
            continue
        articles, publishers = counted.get(story_id, (len(rows), len({a.source_id for _, a in rows})))
        story = stories[story_id][0]
        cited = sentences.choose(shown, MAX_SENTENCES)
        updates.append(
            {
                "story": story.pk,
                "title": story.title,
                "since": since[story_id].isoformat(),
                "new_articles": articles,
                "more": articles >= MAX_COUNTED,
                "publishers": publishers,
                "latest": rows[0][0].isoformat(),
                "sentences": [c.as_dict() for c in cited],
                "headlines": []
                if cited
                else [
                    {"article": a.pk, "title": a.title, "source": a.source.name, "source_slug": a.source.slug}
                    for a in shown[:3]
                ],
            }
        )
    updates.sort(key=lambda u: u["latest"], reverse=True)
    return updates


def _hidden(mutes: mute_rules.Mutes, articles: list[Article]) -> set[int]:
    if not mutes or not articles:
        return set()
    tags: dict[int, set[str]] = defaultdict(set)
    if mutes.hashtags:
        rows = ArticleHashtag.objects.filter(article__in=[a.pk for a in articles]).values_list(
            "article_id", "hashtag__slug"
        )
        for article_id, slug in rows:
            tags[article_id].add(slug)
    hidden = set()
    for a in articles:
        enrichment = getattr(a, "enrichment", None)
        facts = mute_rules.Facts.of(
            a.pk,
            a.source.slug,
            enrichment.section if enrichment is not None else "",
            tags.get(a.pk, ()),
            f"{a.title}\n{a.description}",
        )
        if mutes.hides(facts):
            hidden.add(a.pk)
    return hidden


def mark_seen(user_id: int, story_ids: list[int], at: datetime) -> int:
    """The reader has looked at these stories' news as of `at` (the time the page was
    shown: what arrived since stays new). Never moves a look back in time."""
    interest_ids = [i for pk, (_, _, ids) in followed(user_id).items() if pk in story_ids for i in ids]
    return Interest.objects.filter(pk__in=interest_ids, seen_at__lt=at).update(seen_at=at)
