"""Perspectives (issue 17, items 1-3 and their API): source profiles from the bundled open
data file, kept through staff edits; a story's coverage breakdown on its page, in story
lists and in the API; the blindspot rules, each firing and not firing at its threshold.

Real SQLite through the ORM and the Django test client; nothing of ours is mocked."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from html import unescape
from importlib import resources

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from newsdesk.articles.models import Article
from newsdesk.perspectives import blindspots, coverage, load, profiles
from newsdesk.perspectives.apps import load_after_migrate
from newsdesk.perspectives.blindspots import Baseline
from newsdesk.perspectives.breakdown import breakdown
from newsdesk.perspectives.models import SourceProfile
from newsdesk.perspectives.profiles import Profile
from newsdesk.pipeline.add import load_default_publishers
from newsdesk.sources.models import Source
from newsdesk.stories.models import Story, StoryMember
from tests import web_data

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture(autouse=True)
def _forget_profiles():
    """The remembered profiles outlive a test's rolled-back rows: start from the database."""
    profiles.forget()
    yield
    profiles.forget()


# --- building a story -------------------------------------------------------------------


def publisher(slug: str, country: str, kind: str, *, language: str = "en", owner: str = "", parent: str = "") -> Source:
    source = Source.objects.create(
        slug=slug, name=slug.replace("-", " ").title(), home_url=f"https://{slug}.example/", country=country
    )
    SourceProfile.objects.create(
        source=source, kind=kind, language=language, owner=owner, parent_company=parent, owner_source=""
    )
    return source


def story_from(sources: list[Source], title: str = "Harbour walls breached by the storm", *, articles_each: int = 1):
    now = timezone.now()
    items = []
    for n, source in enumerate(sources):
        for k in range(articles_each):
            items.append(
                web_data.article(
                    source, 100 * n + k, title=f"{title} ({source.slug} {k})", published=now - timedelta(minutes=n)
                )
            )
    story = web_data.story_of(items, title)
    return story, items


def parts(found, dimension: str) -> dict[str, tuple[int, list[str]]]:
    return {p.label: (p.count, [x.slug for x in p.publishers]) for p in found.dimension(dimension).parts}


def text_of(response) -> str:
    """The page's text as a reader reads it (the bars are hidden from screen readers)."""
    html = response.content.decode()
    html = re.sub(r"</(p|li|dt|dd|h\d|div|section)>", " ", html)
    return " ".join(unescape(re.sub(r"<[^>]+>", "", html)).split())


# --- 1. source profiles -----------------------------------------------------------------


def test_the_bundled_file_describes_every_default_publisher_with_a_source_for_each_fact():
    defaults = json.loads(resources.files("newsdesk.sources").joinpath("publishers.json").read_text("utf-8"))
    bundled = load.bundled()
    assert {p["slug"] for p in defaults} == set(bundled)
    raw = json.loads(resources.files("newsdesk.perspectives").joinpath("data/profiles.json").read_text("utf-8"))
    for entry in raw["profiles"]:
        for fact in ("country", "language", "kind", "owner", "parent_company", "founded"):
            if fact in entry:
                assert entry[fact]["value"] not in ("", None), (entry["slug"], fact)
                assert entry[fact]["source"].startswith("https://"), (entry["slug"], fact)
    # The kinds agree with the publishers list, which has no "independent" (it says blog or commercial).
    for item in defaults:
        kind = bundled[item["slug"]].get("kind")
        if kind and kind != "independent":
            assert kind == item["kind"], item["slug"]


def test_default_publishers_get_their_profiles_and_loading_again_changes_nothing():
    assert load_default_publishers() == 49
    assert SourceProfile.objects.count() == 49
    bbc = SourceProfile.objects.get(source__slug="bbc-news")
    assert (bbc.kind, bbc.owner, bbc.founded) == ("public", "BBC", 1922)
    assert bbc.owner_source.startswith("https://en.wikipedia.org/")
    assert bbc.loaded["owner"] == "BBC"
    before = list(SourceProfile.objects.order_by("pk").values())
    assert load.load() == 0
    load_after_migrate()  # what every `migrate` (so every `newsdesk up`) runs
    assert list(SourceProfile.objects.order_by("pk").values()) == before


def test_loading_keeps_what_staff_edited_and_updates_the_rest(client):
    load_default_publishers()
    staff = User.objects.create_superuser("editor", "editor@example.org", "pw-editor-1")
    client.force_login(staff)
    profile = SourceProfile.objects.get(source__slug="sky-news")
    form = {
        "source": profile.source_id,
        "country": "GB",
        "country_source": profile.country_source,
        "language": "en",
        "language_source": profile.language_source,
        "kind": "commercial",
        "kind_source": profile.kind_source,
        "owner": "Sky Group Limited",  # staff correct the owner...
        "owner_source": "https://www.skygroup.sky/",
        "parent_company": "",  # ...and clear the parent company
        "parent_company_source": "",
        "founded": "1989",
        "founded_source": profile.founded_source,
    }
    response = client.post(f"/admin/perspectives/sourceprofile/{profile.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    profile.refresh_from_db()
    assert (profile.owner, profile.parent_company, profile.edited_by) == ("Sky Group Limited", "", staff)

    # A newer data file says other things about Sky News: only the untouched facts follow it.
    newer = {
        "profiles": [
            {
                "slug": "sky-news",
                "owner": {"value": "Sky", "source": "https://en.wikipedia.org/wiki/Sky_News"},
                "parent_company": {"value": "Comcast Corporation", "source": "https://en.wikipedia.org/wiki/Comcast"},
                "founded": {"value": 1988, "source": "https://en.wikipedia.org/wiki/Sky_News"},
            }
        ]
    }
    assert load.load(load.parse(newer)) == 1
    profile.refresh_from_db()
    assert profile.owner == "Sky Group Limited" and profile.owner_source == "https://www.skygroup.sky/"
    assert profile.parent_company == ""  # cleared by staff: stays cleared
    assert profile.founded == 1988  # nobody touched it: the newer file wins
    assert load.load(load.parse(newer)) == 0  # and again: nothing to do
    # The bundled file again: still the staff's owner.
    load.load()
    profile.refresh_from_db()
    assert profile.owner == "Sky Group Limited"


def test_a_publisher_already_there_gets_its_profile_at_the_next_migrate():
    # bulk_create sends no signal: as a database from before this app would have it.
    Source.objects.bulk_create([Source(slug="tass", name="TASS", home_url="https://tass.com", country="RU")])
    assert not SourceProfile.objects.exists()
    load_after_migrate()
    profile = SourceProfile.objects.get(source__slug="tass")
    assert (profile.kind, profile.founded) == ("state", 1904)
    shown = profiles.profile_of(profile.source)
    assert (shown.kind_label, shown.country_name, shown.region_name) == ("State-affiliated", "Russia", "Europe")


def test_a_bad_data_file_is_refused_naming_the_entry_and_the_fact():
    cases = [
        ({"profiles": [{"slug": "x", "kind": {"value": "tabloid", "source": "https://a.example"}}]}, "x: unknown kind"),
        ({"profiles": [{"slug": "x", "founded": {"value": "1990", "source": "https://a.example"}}]}, "x: founded"),
        ({"profiles": [{"slug": "x", "owner": {"value": "Someone"}}]}, "x: owner has no source"),
        ({"profiles": [{"slug": "x", "owner": {"value": "A", "source": "ftp://a"}}]}, "x: the source of owner"),
        ({"profiles": [{"slug": "x", "owner": "Someone"}]}, "x: owner must be"),
        ({"profiles": [{"owner": {"value": "A", "source": "https://a.example"}}]}, "profile 0: no slug"),
        ([], 'a "profiles" list'),
    ]
    for data, message in cases:
        with pytest.raises(load.ProfileDataError, match=re.escape(message)):
            load.parse(data)


def test_the_source_page_shows_the_profile_with_its_links_and_staff_get_an_edit_link(client):
    load_default_publishers()
    response = client.get("/sources/bbc-news/")
    text = text_of(response)
    assert "About this publisher" in text
    assert "Country United Kingdom source" in text and "Kind Public broadcaster" in text
    assert "Owner BBC" in text and "Founded 1922" in text and "Parent company Not known" in text
    assert 'href="https://en.wikipedia.org/wiki/BBC_News"' in response.content.decode()
    assert "Edit the profile" not in text
    client.force_login(User.objects.create_user("staffer", "s@example.org", "pw-staff-1", is_staff=True))
    assert "Edit the profile" in text_of(client.get("/sources/bbc-news/"))
    client.logout()
    assert "Edit the profile" not in text_of(client.get("/sources/bbc-news/"))  # nothing of staff's stays behind


def test_staff_edit_profiles_in_the_admin_and_leave_no_trace_in_readers_pages(client):
    load_default_publishers()
    by_slug = {s.slug: s for s in Source.objects.all()}
    story, _ = story_from([by_slug["xinhua"], by_slug["cgtn"]], "Talks in Beijing")
    newcomer = Source.objects.create(slug="harbour-gazette", name="Harbour Gazette", home_url="https://hg.example/")
    staff = User.objects.create_superuser("desk-editor", "desk@example.org", "pw-desk-1")
    client.force_login(staff)
    listing = client.get("/admin/perspectives/sourceprofile/?q=xinhua")
    assert listing.status_code == 200 and "Xinhua" in listing.content.decode()
    change = client.get(f"/admin/perspectives/sourceprofile/{by_slug['xinhua'].profile.pk}/change/").content.decode()
    assert "Last loaded from the data file" in change and "founded: 1931" in change
    # A publisher without a profile: its page links staff to the admin's add form, filled in.
    assert (
        f"/admin/perspectives/sourceprofile/add/?source={newcomer.pk}"
        in client.get("/sources/harbour-gazette/").content.decode()
    )
    assert client.get(f"/admin/perspectives/sourceprofile/add/?source={newcomer.pk}").status_code == 200
    pages = ["/", "/stories/", story.get_absolute_url(), "/stories/blindspots/", "/sources/xinhua/"]
    for path in pages:
        assert client.get(path).status_code == 200
    client.logout()
    for path in pages:
        html = client.get(path).content.decode()
        assert "desk-editor" not in html and "/admin/" not in html and "Edit the profile" not in html, path


def test_a_publisher_nobody_described_shows_what_it_was_added_with(client):
    Source.objects.create(slug="harbour-gazette", name="Harbour Gazette", home_url="https://hg.example/", country="NZ")
    text = text_of(client.get("/sources/harbour-gazette/"))
    assert "Country New Zealand" in text and "Kind Commercial" in text
    assert "Nobody has described this publisher yet" in text


def test_every_byline_on_the_article_page_shows_its_profile_without_a_query(client):
    world = web_data.build_world()
    SourceProfile.objects.create(source=world.other.source, kind="public", country="GB")
    SourceProfile.objects.create(source=world.article.source, kind="state", country="RU")
    profiles.all_profiles()  # remembered, as in a process that has served a page
    with CaptureQueriesContext(connection) as queries:
        response = client.get(world.article.get_absolute_url())
    text = text_of(response)
    assert "Russia Today (state-affiliated, Russia)" in text  # the article's own byline
    assert "BBC News (public broadcaster, United Kingdom)" in text  # a related article's
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "perspectives_sourceprofile" not in sql


def test_a_profile_edit_is_seen_at_once_by_the_process_that_made_it(client):
    source = publisher("harbour-gazette", "NZ", "commercial")
    assert profiles.profile_of(source).kind == "commercial"
    profile = source.profile
    profile.kind = "independent"
    profile.save()
    assert profiles.profile_of(source).kind_label == "Independent non-profit or reader-funded"


# --- 2. coverage of a story -------------------------------------------------------------


def test_the_breakdown_counts_publishers_not_articles_in_every_dimension():
    sources = [
        publisher("london-public", "GB", "public", owner="Crown Corp"),
        publisher("london-daily", "GB", "commercial", owner="Paper Ltd", parent="Big Media"),
        publisher("paris-daily", "FR", "commercial", language="fr", owner="Journal SA", parent="Big Media"),
        publisher("beijing-wire", "CN", "state", language="zh"),
    ]
    story, _ = story_from(sources, articles_each=3)  # twelve articles, four publishers
    found = coverage.breakdown_of(story)
    assert found.count == 4
    assert parts(found, "region") == {
        "Europe": (3, ["london-daily", "london-public", "paris-daily"]),
        "Asia": (1, ["beijing-wire"]),
    }
    europe = found.region.parts[0]
    assert [(c.label, c.count) for c in europe.sub] == [("United Kingdom", 2), ("France", 1)]
    assert parts(found, "kind") == {
        "Commercial": (2, ["london-daily", "paris-daily"]),
        "Public broadcaster": (1, ["london-public"]),
        "State-affiliated": (1, ["beijing-wire"]),
    }
    assert list(parts(found, "language")) == ["English", "Chinese", "French"]
    assert parts(found, "owner") == {
        "Big Media": (2, ["london-daily", "paris-daily"]),
        "Crown Corp": (1, ["london-public"]),
        "Not known": (1, ["beijing-wire"]),  # last, whatever its size
    }
    for dimension in found.dimensions:
        assert sum(p.count for p in dimension.parts) == 4
        assert abs(sum(p.share for p in dimension.parts) - 1) < 1e-9
        # The bar's segments, in whole percent, fill it.
        assert sum(p.width for p in dimension.parts) == 100
    assert [p.width for p in found.kind.parts] == [50, 25, 25]
    assert [p.width for p in breakdown([profile(n, "GB", "public") for n in range(3)]).kind.parts] == [100]
    thirds = breakdown([profile(1, "GB", "public"), profile(2, "FR", "state"), profile(3, "US", "wire")])
    assert sorted(p.width for p in thirds.kind.parts) == [33, 33, 34]
    tiny = breakdown([profile(n, "GB", "public") for n in range(300)] + [profile(999, "FR", "state")])
    assert [p.width for p in tiny.kind.parts] == [99, 1]  # a part too small to see still shows
    assert found.kind_words() == "2 commercial, 1 public broadcaster, 1 state-affiliated"


def test_a_story_that_gains_a_publisher_is_counted_again_once_refreshed():
    from newsdesk.stories.refresh import refresh

    sources = [publisher("a-daily", "GB", "commercial"), publisher("b-daily", "US", "commercial")]
    story, _ = story_from(sources)
    assert coverage.breakdown_of(story).count == 2
    late = publisher("c-public", "DE", "public")
    item = web_data.article(late, 900, title="Late coverage")
    StoryMember.objects.create(article=item, story=story)
    refresh(story)  # what placing an article does: updated_at moves
    assert coverage.breakdown_of(Story.objects.get(pk=story.pk)).count == 3


def test_the_story_page_shows_the_breakdown_as_bars_and_words(client):
    sources = [
        publisher("london-public", "GB", "public"),
        publisher("london-daily", "GB", "commercial", owner="Paper Ltd"),
        publisher("beijing-wire", "CN", "state", language="zh"),
    ]
    story, _ = story_from(sources)
    response = client.get(story.get_absolute_url())
    html = response.content.decode()
    text = text_of(response)
    assert "Who covers it" in text
    assert html.count('<div class="cov-bar" aria-hidden="true">') == 4
    # In words, for everyone: each part, its count and share, and who is behind it.
    assert "Europe 2 publishers, (67%) United Kingdom: London Daily, London Public" in text
    assert "Asia 1 publisher, (33%) China: Beijing Wire" in text
    assert "State-affiliated 1 publisher, (33%) Beijing Wire" in text
    assert '<span class="cov-seg c0 w-67" title="Europe: 2"></span><span class="cov-seg c1 w-33"' in html
    assert 'href="/sources/beijing-wire/"' in html


def test_a_dimension_with_one_part_is_one_line_of_words(client):
    sources = [publisher("a-daily", "GB", "commercial"), publisher("b-daily", "GB", "commercial")]
    story, _ = story_from(sources)
    response = client.get(story.get_absolute_url())
    text = text_of(response)
    assert "Region and country Both publishers: Europe (United Kingdom)" in text
    assert "Language Both publishers: English" in text
    assert "Owner or parent company Both publishers: Not known" in text
    assert response.content.decode().count('<div class="cov-bar"') == 0


def test_home_and_the_story_list_show_the_compact_breakdown(client):
    sources = [publisher("london-public", "GB", "public"), publisher("paris-daily", "FR", "commercial")]
    sources.append(publisher("ny-daily", "US", "commercial"))
    story_from(sources)
    for path in ("/", "/stories/"):
        text = text_of(client.get(path))
        assert "Publishers: 2 commercial, 1 public broadcaster · 2 regions" in text, path


# --- 3. blindspots ----------------------------------------------------------------------


def profile(n: int, country: str, kind: str) -> Profile:
    return Profile(source_id=n, slug=f"p{n}", name=f"P{n}", country=country, language="en", kind=kind)


def site_of(*groups: tuple[int, str, str]) -> Baseline:
    """A site of `count` publishers per (country, kind)."""
    everyone, n = [], 1000
    for count, country, kind in groups:
        for _ in range(count):
            everyone.append(profile(n, country, kind))
            n += 1
    return Baseline.of(everyone)


SITE = site_of((10, "GB", "commercial"), (5, "GB", "public"), (10, "US", "commercial"), (5, "US", "public"))
SITE = Baseline(
    total=SITE.total + 10,
    regions=SITE.regions + blindspots.Counter({"asia": 6, "europe": 4}),
    kinds=SITE.kinds + blindspots.Counter({"state": 6, "wire": 4}),
)


def rules(publishers: list[Profile], site: Baseline = SITE) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for flag in blindspots.flags(breakdown(publishers), site):
        found.setdefault(flag.rule.key, []).extend(flag.groups)
    return found


def test_only_state_affiliated_fires_from_two_publishers_and_not_with_one_other():
    assert rules([profile(1, "CN", "state"), profile(2, "RU", "state")]) == {"state-only": ["state"]}
    assert rules([profile(1, "CN", "state")]) == {}  # one publisher is not a pattern
    assert rules([profile(1, "CN", "state"), profile(2, "RU", "state"), profile(3, "GB", "public")]) == {}
    flag = blindspots.flags(breakdown([profile(1, "CN", "state"), profile(2, "RU", "state")]), SITE)[0]
    assert flag.statement == "Both publishers are state-affiliated: P1 and P2."


def test_mostly_one_region_fires_at_eighty_percent_above_the_sites_share():
    kinds = ["commercial", "public", "wire", "state"]
    asian = [profile(n, c, kinds[n - 1]) for n, c in enumerate(["JP", "IN", "KR", "SG"], 1)]
    # 4 of 5 in Asia (80%); Asia is 6 of 40 of the site's publishers (15%): flagged.
    assert rules([*asian, profile(9, "GB", "public")]) == {"one-region": ["asia"]}
    flag = blindspots.flags(breakdown([*asian, profile(9, "GB", "public")]), SITE)[0]
    assert flag.statement == "4 of 5 publishers (80%) are in Asia, against 15% of all newsdesk's publishers."
    # 3 of 4 (75%): under the share.
    assert "one-region" not in rules([*asian[:3], profile(9, "GB", "public")])
    # 3 publishers: too few, even all in Asia.
    assert "one-region" not in rules(asian[:3])
    # All in North America, but North America is 15 of 40 (38%) of the site, and 100% is
    # at least 25 points above it: flagged; on a site that is nearly all American, not.
    american = [profile(n, "US", "commercial" if n % 2 else "public") for n in range(1, 6)]
    assert "one-region" in rules(american)
    assert "one-region" not in rules(american, site_of((30, "US", "commercial"), (2, "GB", "public")))


def test_mostly_one_kind_fires_for_commercial_coverage_only_when_the_site_is_not():
    commercial = [profile(n, c, "commercial") for n, c in enumerate(["GB", "US", "JP", "FR", "DE"], 1)]
    site = site_of((10, "GB", "public"), (10, "US", "state"), (5, "FR", "commercial"))
    assert rules(commercial, site)["one-kind"] == ["commercial"]
    flag = blindspots.flags(breakdown(commercial), site)[0]
    assert flag.statement == "All 5 publishers are commercial outlets, against 20% of all newsdesk's publishers."
    assert "one-kind" not in rules(commercial, site_of((20, "US", "commercial"), (2, "GB", "public")))
    # Only state-affiliated says it better: no second flag for the same thing.
    state = [profile(n, c, "state") for n, c in enumerate(["CN", "RU", "TR", "QA"], 1)]
    assert rules(state, site) == {"state-only": ["state"]}


def test_covered_widely_but_by_no_public_broadcaster_or_state_outlet():
    wide = [profile(n, c, "commercial") for n, c in enumerate(["GB", "US", "FR", "JP", "IN", "DE"], 1)]
    found = rules(wide)
    assert found["missing-kind"] == ["public", "state", "wire"]
    missing = [f for f in blindspots.flags(breakdown(wide), SITE) if f.rule is blindspots.MISSING_KIND]
    assert missing == [
        blindspots.Flag(
            blindspots.MISSING_KIND,
            ("public", "state", "wire"),
            "Covered by 6 publishers in 3 regions, none of them a public broadcaster (newsdesk has 10) or a "
            "state-affiliated outlet (newsdesk has 6) or a wire service (newsdesk has 4).",
        )
    ]
    # One public broadcaster among them: that kind is no longer missing.
    with_public = [*wide[:5], profile(7, "DE", "public")]
    assert rules(with_public)["missing-kind"] == ["state", "wire"]
    # Five publishers are not "widely".
    assert "missing-kind" not in rules(wide[:5])
    # Six in one region are not widely either.
    assert "missing-kind" not in rules([profile(n, "GB", "commercial") for n in range(1, 7)])
    # A kind the site has fewer than three of is not expected.
    assert (
        "wire" not in rules(wide, site_of((10, "GB", "public"), (2, "US", "wire"), (3, "CN", "state")))["missing-kind"]
    )


def test_covered_widely_but_missing_a_region_the_site_has_five_publishers_in():
    wide = [
        profile(n, c, "public" if n % 2 else "state") for n, c in enumerate(["GB", "FR", "DE", "US", "CA", "IE"], 1)
    ]
    assert rules(wide).get("missing-region") == ["asia"]  # the site has 6 in Asia
    assert "missing-region" not in rules([*wide[:5], profile(9, "JP", "wire")])
    thin = site_of((20, "GB", "public"), (10, "US", "public"), (4, "JP", "state"))
    assert "missing-region" not in rules(wide, thin)  # 4 in Asia: not enough to expect one


def test_the_blindspots_page_lists_each_flagged_story_under_its_rule_with_why(client):
    load_default_publishers()
    by_slug = {s.slug: s for s in Source.objects.all()}
    state, _ = story_from([by_slug["xinhua"], by_slug["cgtn"], by_slug["tass"]], "Delegations meet in Beijing")
    wide_slugs = ["the-guardian", "new-york-times", "fox-news", "le-monde", "times-of-india", "scmp"]
    wide, _ = story_from([by_slug[s] for s in wide_slugs], "Chip maker's shares fall")
    calm, _ = story_from([by_slug["bbc-news"], by_slug["npr"]], "Quiet day")
    response = client.get("/stories/blindspots/")
    assert response.status_code == 200
    html = response.content.decode()
    text = text_of(response)
    state_part = html.split('id="rule-state-only"')[1].split('<section class="blind-rule"')[0]
    assert "Delegations meet in Beijing" in state_part
    assert "All 3 publishers are state-affiliated: CGTN, TASS and Xinhua." in text
    missing = html.split('id="rule-missing-kind"')[1].split('<section class="blind-rule"')[0]
    assert "Chip maker" in missing and "none of them a public broadcaster" in unescape(missing)
    assert "Quiet day" not in html
    # Every rule is stated in words with its thresholds.
    assert "At least 2 publishers, and every one of them state-affiliated." in text
    assert "At least 4 publishers, at least 80% of them in one region" in text
    assert re.search(r"2 of 3 stories seen from \d+ \w+ to \d+ \w+ \d{4} are flagged", text)
    # The story's own page says so too, linking to the rule.
    story_page = client.get(state.get_absolute_url()).content.decode()
    assert 'href="/stories/blindspots/#rule-state-only"' in story_page
    assert "Blindspot" in story_page
    assert 'href="/stories/blindspots/#rule-missing-kind"' in client.get(wide.get_absolute_url()).content.decode()
    assert "Blindspot" not in client.get(calm.get_absolute_url()).content.decode()


def test_a_quiet_site_shows_the_blindspots_of_its_last_active_week(client):
    load_default_publishers()
    by_slug = {s.slug: s for s in Source.objects.all()}
    story, items = story_from([by_slug["xinhua"], by_slug["cgtn"]], "An old state-only story")
    old = timezone.now() - timedelta(days=40)
    Article.objects.filter(pk__in=[a.pk for a in items]).update(published_at=old)
    Story.objects.filter(pk=story.pk).update(first_seen=old, last_seen=old)
    assert "An old state-only story" in client.get("/stories/blindspots/").content.decode()


def test_the_blindspots_page_with_no_stories(client):
    response = client.get("/stories/blindspots/")
    assert response.status_code == 200
    assert "No story meets this rule now." in response.content.decode()


# --- 4. the API -------------------------------------------------------------------------


def test_the_story_endpoints_carry_the_breakdown_and_the_source_endpoints_the_profile(client):
    load_default_publishers()
    by_slug = {s.slug: s for s in Source.objects.all()}
    story, _ = story_from([by_slug["xinhua"], by_slug["cgtn"], by_slug["bbc-news"]], "Talks in Beijing")
    detail = client.get(f"/api/stories/{story.pk}").json()
    dims = {d["key"]: d for d in detail["coverage"]["dimensions"]}
    assert detail["coverage"]["publishers"] == 3
    assert list(dims) == ["region", "country", "kind", "language", "owner"]
    assert dims["region"]["parts"][0] == {
        "key": "asia",
        "label": "Asia",
        "count": 2,
        "share": 0.6667,
        "publishers": ["cgtn", "xinhua"],
    }
    assert [(p["key"], p["count"]) for p in dims["country"]["parts"]] == [("CN", 2), ("GB", 1)]
    assert [(p["key"], p["count"]) for p in dims["kind"]["parts"]] == [("state", 2), ("public", 1)]
    assert detail["coverage"]["blindspots"] == []
    listed = client.get("/api/stories").json()
    assert listed["items"][0]["coverage"] == detail["coverage"]

    source = client.get("/api/sources/bbc-news").json()
    assert source["profile"]["owner"] == "BBC" and source["profile"]["founded"] == 1922
    assert source["profile"]["kind_label"] == "Public broadcaster" and source["profile"]["region"] == "europe"
    assert source["profile"]["sources"]["owner"] == "https://en.wikipedia.org/wiki/BBC_News"
    page = client.get("/api/sources?country=CN").json()
    assert {item["slug"]: item["profile"]["kind"] for item in page["items"]} == {"cgtn": "state", "xinhua": "state"}
