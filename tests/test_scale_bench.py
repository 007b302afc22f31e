"""`newsdesk bench scale` in miniature: the real command, a PostgreSQL server (its own
temporary one, or scratch databases on the DATABASE_URL server in the PostgreSQL leg of
.ci/run), ingest with 1 and 2 workers, a few thousand generated articles, search and
article-page latencies, and the JSON summary as the last line."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from devtools.services import postgres_bindir

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        postgres_bindir() is None and not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="PostgreSQL's server binaries are not installed (bin/_system_packages installs them)",
    ),
]


def test_tiny_scale_benchmark(tmp_path):
    env = {**os.environ, "NEWSDESK_DATA_DIR": str(tmp_path / "data")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "newsdesk",
            "bench",
            "scale",
            "--articles",
            "1500",
            "--ingest-articles",
            "16",
            "--corpus",
            str(tmp_path / "absent"),
            "--repeats",
            "2",
            "--page-requests",
            "10",
            "--query-timeout",
            "20",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    figures = json.loads(lines[-1])
    for key in (
        "ingest_1_worker",
        "ingest_2_workers",
        "scaling",
        "search_p50_ms",
        "search_p99_ms",
        "article_p50_ms",
        "article_p99_ms",
        "database_size_mb",
    ):
        assert isinstance(figures[key], (int, float)) and figures[key] > 0, (key, figures)
    assert figures["ingest_complete"] is True
    assert figures["articles"] == 1500
    assert figures["search_queries"]["very rare word"]["hits"] >= 1
    assert figures["search_queries"]["no match"]["hits"] == 0
    assert figures["article_requests"] == 10
    assert "search through newsdesk.search.backends.search" in result.stdout
    # Nothing is left behind: no scratch database on a DATABASE_URL server.
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        import psycopg

        with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as admin:
            left = admin.execute("SELECT datname FROM pg_database WHERE datname LIKE 'newsdesk_bench_%'").fetchall()
        assert left == []
