"""`newsdesk bench personal`: its generated site is one the reader's code reads, its SMTP
server counts what really arrives, and a small real run reports figures taken from real
HTTP requests and real emails."""

from __future__ import annotations

import json
import smtplib
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest

from bench import personal, personal_data
from tests.test_bench_web import processes_with_env

ROOT = Path(__file__).resolve().parent.parent
FIELDS = ["foryou_p99_ms", "unread_p99_ms", "fanout_articles_per_s", "briefing_emails_minutes"]


def test_registered_with_the_bench_command():
    from newsdesk.management.commands.bench import BENCHMARKS

    assert BENCHMARKS["personal"][0] == "bench.personal"


def test_the_issue_scale_shape():
    site = personal_data.shape(1_000_000, 100_000)
    assert site["days"] == 100 and site["sources"] == 500 and site["hashtags"] == 20_000
    assert site["fresh"] == 20_000  # 2% of the articles arrive for the fan-out
    small = personal_data.shape(2000, 50)
    assert small["days"] == 7 and small["fresh"] == 400 and small["sources"] == 40


def test_percentiles_and_summary_of_measured_requests():
    results = [(200, {}, b"", float(ms), None) for ms in range(1, 101)]
    figures = personal._summarise("x", results, 1.0, {"k": 3})
    assert figures["x_p50_ms"] == 50.5 and figures["x_p99_ms"] == 99.0 and figures["x_max_ms"] == 100.0
    assert figures["x_requests"] == 100 and figures["x_statuses"] == {"200": 100}
    assert figures["x_server_cpu_ms"] == 10.0 and figures["x_k"] == 3


def test_the_inbox_counts_what_an_smtp_client_delivers():
    inbox = personal.Inbox().start()
    try:
        with smtplib.SMTP("127.0.0.1", inbox.port, timeout=10) as client:
            for n in range(3):
                message = EmailMessage()
                message["From"], message["To"], message["Subject"] = "a@example.org", f"r{n}@example.org", "hi"
                message["Message-ID"] = f"<{n}@example.org>"
                if n:
                    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
                message.set_content("body")
                client.send_message(message)
        assert inbox.count() == 3 and inbox.recipients == 3
        assert inbox.ids == {b"<0@example.org>", b"<1@example.org>", b"<2@example.org>"}
        assert inbox.unsubscribe == 2
    finally:
        inbox.stop()


@pytest.mark.django_db(transaction=True)
def test_generated_site_is_read_by_the_readers_code(tmp_path):
    """The bulk SQL writes rows the ORM and the reader's own code read back: For You has
    entries, the counts count, read marks and follows are there in the numbers asked."""
    from django.contrib.auth import get_user_model

    from newsdesk.articles.models import Article, ArticleHashtag
    from newsdesk.reader import foryou, new_since
    from newsdesk.reader.models import Follow, Interest, ReadMark
    from newsdesk.stories.models import Story

    info = personal_data.generate(1500, 25, seed=2, corpus=tmp_path / "no-corpus")
    assert Article.objects.count() == 1500 and get_user_model().objects.count() == 25
    assert info["first_fresh_id"] == 1500 - info["fresh"] + 1
    assert ArticleHashtag.objects.filter(article_id=1).count() >= 1
    assert Story.objects.filter(article_count__gte=2).exists()
    newest = Article.objects.order_by("-published_at").first()
    assert newest.pk == 1500  # ids follow publication, as an ingest stores them
    reader = get_user_model().objects.get(username="reader3")
    assert ReadMark.objects.filter(user=reader).count() == personal_data.READS
    assert Follow.objects.filter(user=reader).count() == personal_data.FOLLOWED_SOURCES
    follows = Interest.objects.filter(user=reader, muted=False).count() + personal_data.FOLLOWED_SOURCES
    assert 15 <= follows <= 22
    page = foryou.for_you(reader)
    assert page.entries and page.follows >= 15
    counted = new_since.counts(reader)
    assert len(counted) >= 15 and sum(c.count for c in counted) > 0
    assert get_user_model().objects.get(username="reader0").check_password(personal_data.PASSWORD)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_small_run_measures_real_requests_and_emails(tmp_path):
    """`newsdesk bench personal` end to end at a small scale: the last line is the JSON,
    each figure comes from the requests the server answered and the emails the SMTP
    server received, and nothing it started is left running."""
    data = tmp_path / "data"
    done = subprocess.run(
        [sys.executable, "-m", "newsdesk", "bench", "personal", "--articles", "2000", "--readers", "60"]
        + ["--requests", "20", "--data-dir", str(data)],
        capture_output=True,
        text=True,
        timeout=840,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    for field in FIELDS:
        assert isinstance(result[field], (int, float)) and result[field] > 0, field
    assert result["database"] == "sqlite" and (result["articles"], result["readers"]) == (2000, 60)
    assert result["issue_scale"] is False
    # For You and Following: 20 pages, each the reader's own (their name, private), none cached.
    for name in ("foryou", "following"):
        assert result[f"{name}_requests"] == 20 and result[f"{name}_statuses"] == {"200": 20}
        assert result[f"{name}_private_no_store"] == 20 and result[f"{name}_named_reader"] == 20
        assert "HIT" not in result[f"{name}_x_cache"]
        assert result[f"{name}_p50_ms"] <= result[f"{name}_p99_ms"] <= result[f"{name}_max_ms"]
    assert result["foryou_mean_entries"] > 0
    assert result["unread_requests"] == 20 and result["unread_json_answers"] == 20
    assert result["unread_mean_counted_things"] >= 15
    # The fan-out matched every new article, through batches the workers finished.
    assert result["fanout_articles"] == personal_data.shape(2000, 60)["fresh"]
    assert result["fanout_batches_left"] == 0 and result["fanout_activity_rows"] > 0
    # The rate is the articles over the seconds, each reported rounded (seconds to 1 ms).
    seconds = result["fanout_seconds"]
    slowest, fastest = result["fanout_articles"] / (seconds + 0.0005), result["fanout_articles"] / (seconds - 0.0005)
    assert slowest - 0.05 <= result["fanout_articles_per_s"] <= fastest + 0.05
    # Every reader's briefing arrived once at the SMTP server, each with its unsubscribe headers.
    assert result["briefing_emails"] == result["briefing_emails_expected"] == 60
    assert result["briefing_distinct_message_ids"] == 60 and result["briefing_with_unsubscribe"] == 60
    assert result["briefing_delivery_states"] == {"sent": 60}
    assert result["database_mb"] > 0 and result["memory_peak_pss_mb"]["web"] > 0
    assert result["memory_peak_pss_mb"]["workers"] > 0
    assert "target foryou_p99_ms < 100" in done.stdout
    assert processes_with_env(f"NEWSDESK_DATA_DIR={data}".encode()) == []
