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

from django.db import connections

from newsdesk.articles import rows as article_rows
from newsdesk.articles.models import Article, ArticleHashtag, Enrichment, Hashtag
from newsdesk.reader.briefings import mutes as mute_rules
from newsdesk.reader.briefings import sentences
from newsdesk.reader.models import Interest
from newsdesk.sources.models import Source
from newsdesk.stories.models import NearDuplicate, Story, StoryMember

MAX_SENTENCES = 3
MAX_COUNTED = 500  # new articles counted per story: "500+" beyond
MAX_ARTICLES = 12  # the newest coverage of a story that sentences are chosen from (and mutes checked on)


Followed = dict[int, tuple[Story, datetime, list[int]]]
_STORY_FIELDS = ("title", "merged_into_id", "publisher_count", "article_count")


def followed(user_id: int) -> Followed:
    """The stories the reader follows, by the id they are now (merges followed through):
    (story, when the reader last looked at it, the interest ids that name it)."""
    return followed_by([user_id])[user_id]


def followed_by(user_ids: list[int]) -> dict[int, Followed]:
    """`followed` for many readers (a batch of emails), in two queries and one more per
    level of merges."""
    rows = list(
        Interest.objects.filter(user_id__in=user_ids, kind=Interest.Kind.STORY, muted=False)
        .order_by("pk")
        .values_list("user_id", "pk", "key", "seen_at")
    )
    rows = [row for row in rows if row[2].isdigit() and len(row[2]) < 19]
    stories = Story.objects.only(*_STORY_FIELDS).in_bulk({int(key) for _, _, key, _ in rows})
    final = {pk: story for pk, story in stories.items()}
    for _ in range(10):  # a story merged into one merged into another...
        onward = {pk: story.merged_into_id for pk, story in final.items() if story.merged_into_id}
        if not onward:
            break
        targets = Story.objects.only(*_STORY_FIELDS).in_bulk(set(onward.values()))
        moved = False
        for pk, into in onward.items():
            if into in targets and targets[into].pk != final[pk].pk and targets[into].pk != pk:
                final[pk] = targets[into]
                moved = True
        if not moved:
            break
    found: dict[int, Followed] = {pk: {} for pk in user_ids}
    for user_id, interest_id, key, seen_at in rows:
        story = final.get(int(key))
        if story is None:
            continue
        mine = found[user_id]
        if story.pk in mine:
            _, last, ids = mine[story.pk]
            mine[story.pk] = (story, max(last, seen_at), [*ids, interest_id])
        else:
            mine[story.pk] = (story, seen_at, [interest_id])
    return found


def whats_new(
    user_id: int,
    *,
    not_before: datetime | None = None,
    mutes: mute_rules.Mutes | None = None,
    stories: Followed | None = None,
) -> list[dict]:
    """Each followed story with coverage newer than the reader's last look (and than
    `not_before`), newest first: {"story", "title", "since", "new_articles",
    "publishers", "latest", "sentences": [cited...], "headlines": [...]} (headlines: the
    new articles when no sentence could be taken from them, unenriched ones)."""
    stories = followed(user_id) if stories is None else stories
    if not stories:
        return []
    since = {pk: max(seen, not_before) if not_before else seen for pk, (_, seen, _) in stories.items()}
    mutes = mute_rules.of_user(user_id) if mutes is None else mutes
    newest = _newest_members(since, mutes)
    articles_by_id = article_rows.with_publisher(
        sorted({a for rows in newest.values() for _, a in rows}), bodies=False, embedding=False
    )
    sentences.load_bodies(articles_by_id.values())
    fetched = {
        story_id: found
        for story_id, rows in newest.items()
        if (found := [(joined, articles_by_id[a]) for joined, a in rows if a in articles_by_id])
    }
    full = [story_id for story_id, rows in newest.items() if len(rows) >= MAX_ARTICLES]
    counted = _count_members(full, since, mutes) if full else {}
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


def _new_members_sql(mutes: mute_rules.Mutes) -> tuple[str, list]:
    """The conditions on `m`, a story member (and their parameters after the story and the
    time), of a story's new
    coverage: joined after the reader's look, not a copy of a text already seen, nothing
    from a muted source, section or hashtag (muted words, in the text, are checked on
    the articles shown). Raw SQL, one statement for all of a reader's stories: building
    these queries with the ORM cost a third of an email's CPU time."""
    connection = connections[StoryMember.objects.db]
    q = connection.ops.quote_name
    copy, article = q(NearDuplicate._meta.db_table), q(Article._meta.db_table)
    where = [
        "m.story_id = %s",
        "m.joined_at > %s",
        f"NOT EXISTS (SELECT 1 FROM {copy} d WHERE d.article_id = m.article_id)",
    ]
    params: list = []
    if mutes.sources:
        source = q(Source._meta.db_table)
        marks = ", ".join(["%s"] * len(mutes.sources))
        where.append(
            f"NOT EXISTS (SELECT 1 FROM {article} a INNER JOIN {source} s ON s.id = a.source_id"
            f" WHERE a.id = m.article_id AND s.slug IN ({marks}))"
        )
        params += sorted(mutes.sources)
    if mutes.sections:
        enrichment = q(Enrichment._meta.db_table)
        marks = ", ".join(["%s"] * len(mutes.sections))
        where.append(
            f"NOT EXISTS (SELECT 1 FROM {enrichment} e WHERE e.article_id = m.article_id AND e.section IN ({marks}))"
        )
        params += sorted(mutes.sections)
    if mutes.hashtags:
        link, tag = q(ArticleHashtag._meta.db_table), q(Hashtag._meta.db_table)
        marks = ", ".join(["%s"] * len(mutes.hashtags))
        where.append(
            f"NOT EXISTS (SELECT 1 FROM {link} h INNER JOIN {tag} t ON t.id = h.hashtag_id"
            f" WHERE h.article_id = m.article_id AND t.slug IN ({marks}))"
        )
        params += sorted(mutes.hashtags)
    return " AND ".join(where), params


def _newest_members(since: dict[int, datetime], mutes: mute_rules.Mutes) -> dict[int, list[tuple[datetime, int]]]:
    """Story id -> its newest new coverage, (joined at, article id), newest first, at
    most MAX_ARTICLES: an indexed read per story (story, joined_at), in one statement."""
    connection = connections[StoryMember.objects.db]
    member = connection.ops.quote_name(StoryMember._meta.db_table)
    where, extra = _new_members_sql(mutes)
    selects, params = [], []
    for number, (story_id, after) in enumerate(since.items()):
        selects.append(
            f"SELECT {number} AS n, j, a FROM (SELECT m.joined_at AS j, m.article_id AS a FROM {member} m WHERE {where}"
            f" ORDER BY m.joined_at DESC LIMIT {MAX_ARTICLES}) AS p{number}"
        )
        params += [story_id, connection.ops.adapt_datetimefield_value(after), *extra]
    field = StoryMember._meta.get_field("joined_at")
    converters = connection.ops.get_db_converters(field.get_col(StoryMember._meta.db_table))
    stories = list(since)
    found: dict[int, list[tuple[datetime, int]]] = {}
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(selects), params)
        for number, joined, article_id in cursor.fetchall():
            for convert in converters:
                joined = convert(joined, field, connection)
            found.setdefault(stories[number], []).append((joined, article_id))
    for rows in found.values():
        rows.sort(key=lambda row: row[0], reverse=True)
    return found


def _count_members(
    story_ids: list[int], since: dict[int, datetime], mutes: mute_rules.Mutes
) -> dict[int, tuple[int, int]]:
    """Story id -> (new articles, their publishers), counted up to MAX_COUNTED."""
    connection = connections[StoryMember.objects.db]
    member, article = (connection.ops.quote_name(m._meta.db_table) for m in (StoryMember, Article))
    where, extra = _new_members_sql(mutes)
    found = {}
    with connection.cursor() as cursor:
        for story_id in story_ids:
            cursor.execute(
                f"SELECT COUNT(*), COUNT(DISTINCT x.source_id) FROM (SELECT a.source_id FROM {member} m"
                f" INNER JOIN {article} a ON a.id = m.article_id WHERE {where}"
                f" ORDER BY m.joined_at DESC LIMIT {MAX_COUNTED}) AS x",
                [story_id, connection.ops.adapt_datetimefield_value(since[story_id]), *extra],
            )
            articles, publishers = cursor.fetchone()
            found[story_id] = (int(articles), int(publishers))
    return found


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
