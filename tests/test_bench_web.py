"""`newsdesk bench web`: a quick real run (few articles, short wrk runs) and its parts."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench import web
from newsdesk.web import front

FIELDS = [
    "articles",
    "cached_rps",
    "cached_p50_ms",
    "cached_p99_ms",
    "uncached_rps",
    "uncached_p50_ms",
    "uncached_p99_ms",
    "home_rps",
    "home_p50_ms",
    "home_p99_ms",
    "nginx_rps",
    "nginx_p50_ms",
    "nginx_p99_ms",
    "ratio",
    "uncached_cpu_ms",
    "signed_in_rps",
    "signed_in_p99_ms",
    "signed_in_cpu_ms",
    "comment_p99_ms",
    "comment_rps",
]
INGEST_FIELDS = [
    "search_during_ingest_p99_ms",
    "search_during_ingest_rps",
    "search_at_rate_during_ingest_p99_ms",
    "search_at_rate_during_ingest_requests",
    "comment_during_ingest_p99_ms",
    "signed_in_during_ingest_p99_ms",
    "ingest_stored",
]

WRK_OUTPUT = """\
Running 15s test @ http://127.0.0.1:8000/articles/1/
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    15.21ms    3.02ms  61.00ms   80.00%
    Req/Sec     1.05k   100.00     1.30k    70.00%
  Latency Distribution
     50%  850.00us
     75%   16.00ms
     90%   18.50ms
     99%    1.20s
  31500 requests in 15.01s, 330.00MB read
  Socket errors: connect 0, read 1, write 0, timeout 2
  Non-2xx or 3xx responses: 4
Requests/sec:   2098.60
Transfer/sec:     21.99MB
"""


def test_parse_wrk_reads_rate_percentiles_and_errors():
    figures = web.parse_wrk(WRK_OUTPUT)
    assert figures["rps"] == 2098.6
    assert figures["p50_ms"] == 0.85
    assert figures["p90_ms"] == 18.5
    assert figures["p99_ms"] == 1200.0
    assert figures["requests"] == 31500
    assert figures["socket_errors"] == 3 and figures["timeouts"] == 2
    assert figures["non_2xx"] == 4


def test_parse_wrk_refuses_a_report_without_latency_distribution():
    with pytest.raises(ValueError):
        web.parse_wrk("Requests/sec:   10.0\n")


def test_percentiles_of_comment_posts():
    from bench.web_ingest import PacedResults

    results = PacedResults(latencies_ms=[float(n) for n in range(1, 101)], errors=2, statuses={302: 100, 429: 2})
    figures = results.figures(10.0)
    assert figures["p50_ms"] == 50.0 and figures["p99_ms"] == 99.0
    assert figures["requests"] == 102 and figures["errors"] == 2 and figures["rps"] == 10.0


def test_search_paths_are_words_of_the_headlines(tmp_path):
    import sqlite3

    from bench.web_ingest import search_queries

    db = tmp_path / "db.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE articles_article (id INTEGER PRIMARY KEY, title TEXT)")
        conn.executemany(
            "INSERT INTO articles_article (title) VALUES (?)",
            [("Markets rally after the budget",), ("Budget vote delayed again",)],
        )
    paths = search_queries(db, 20)
    assert len(paths) == 20 and all(p.startswith("/search/?q=") for p in paths)
    words = {w for p in paths for w in p.split("=", 1)[1].split("%20")}
    assert words <= {"markets", "rally", "budget", "vote", "delayed"}


def test_signed_in_script_sends_the_session_cookie(tmp_path):
    from bench.wrk import paths_script

    script = paths_script(tmp_path, "x", ["/a/", "/b/"], 2, {"sessionid": "abc"}).read_text()
    assert 'wrk.headers["Cookie"] = "sessionid=abc"' in script
    assert (tmp_path / "x-paths.txt").read_text() == "/a/\n/b/\n"


def test_bench_web_is_registered():
    from newsdesk.management.commands.bench import BENCHMARKS

    assert BENCHMARKS["web"][0] == "bench.web"


@pytest.mark.slow
@pytest.mark.skipif(not shutil.which("wrk"), reason="wrk is not installed")
@pytest.mark.skipif(front.nginx_binary() is None, reason="nginx is not installed")
def test_quick_run_measures_site_and_nginx(capsys):
    """A real run: generated articles, gunicorn as `newsdesk up` starts it, wrk, nginx."""
    result = web.run(
        articles=300,
        duration=2,
        warmup=0.5,
        connections=8,
        threads=2,
        web_workers=1,
        corpus=web.DEFAULT_CORPUS,
        seed=3,
        ingest=300 if web.DEFAULT_CORPUS.is_dir() else 0,
        ingest_workers=1,
        comment_rate=5,
        search_rate=10,
    )
    out = capsys.readouterr().out
    fields = FIELDS + (INGEST_FIELDS if web.DEFAULT_CORPUS.is_dir() else [])
    for field in fields:
        assert isinstance(result[field], (int, float)) and result[field] > 0, field
    assert result["comment_errors"] == 0 and result["signed_in_errors"] == 0
    if web.DEFAULT_CORPUS.is_dir():  # 10 searches a second for 2 s, each a 200
        assert result["search_at_rate_during_ingest_requests"] == 20
        assert result["search_at_rate_during_ingest_errors"] == 0 and result["search_rate"] == 10
    assert result["articles"] == 300
    assert result["ratio"] == pytest.approx(result["cached_rps"] / result["nginx_rps"], rel=0.01)
    # nginx really served the page: the same bytes, many more requests than the site.
    assert result["nginx_verified"] is True
    assert result["nginx_requests"] > 0 and result["page_bytes"] > 1000
    for name in ("cached", "uncached", "home", "nginx"):
        assert result[f"{name}_errors"] == 0, name
        assert result[f"{name}_p50_ms"] <= result[f"{name}_p99_ms"]
    assert "nginx:" in out and "target cached article p99" in out
    if front.nginx_binary():  # as under `newsdesk up`: nginx's microcache in front
        assert result["front"] == "nginx"
        assert result["cached_response_headers"]["x-cache"] == "HIT"
        assert "public" in result["cached_response_headers"]["cache-control"]
        assert result["cached_response_headers"]["set-cookie"] == "no"
    json.dumps(result)  # printable as the last line


@pytest.mark.slow
@pytest.mark.skipif(not shutil.which("wrk"), reason="wrk is not installed")
@pytest.mark.skipif(front.nginx_binary() is None, reason="nginx is not installed")
def test_children_are_gone_after_a_run(tmp_path):
    """Run the quick benchmark in a subprocess; afterwards no gunicorn or nginx of it is left."""
    code = (
        "import json, os, django;"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'newsdesk.settings'); django.setup();"
        "from bench import web;"
        f"print(json.dumps(web.run(articles=120, duration=1, warmup=0, connections=4, threads=1,"
        f" web_workers=1, data_dir={str(tmp_path / 'data')!r}, seed=5, ingest=0)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["nginx_rps"] > 0 and result["cached_rps"] > 0
    assert processes_with_env(f"NEWSDESK_DATA_DIR={tmp_path / 'data'}".encode()) == []


def processes_with_env(entry: bytes) -> list[str]:
    """The command lines of the processes whose environment holds `entry` (what a
    benchmark run left behind; tests/test_bench_personal.py uses it too)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and entry in (proc / "environ").read_bytes().split(b"\0"):
                found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            continue
    return found


@pytest.mark.slow
@pytest.mark.skipif(not shutil.which("wrk"), reason="wrk is not installed")
@pytest.mark.skipif(front.nginx_binary() is None, reason="nginx is not installed")
def test_sigterm_mid_run_stops_every_child(tmp_path):
    data = tmp_path / "data"
    code = (
        "import os, django;"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'newsdesk.settings'); django.setup();"
        "from bench import web;"
        f"web.run(articles=120, duration=30, warmup=0, connections=4, threads=1, web_workers=1,"
        f" data_dir={str(data)!r}, seed=5, ingest=0)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-u", "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        for line in proc.stdout:
            if line.startswith("web server:"):
                break
        else:
            pytest.fail("the benchmark ended before starting the web server")
        time.sleep(1.0)  # wrk is running against gunicorn now
        marker = f"NEWSDESK_DATA_DIR={data}".encode()
        assert any("gunicorn" in c for c in processes_with_env(marker))
        proc.terminate()
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert processes_with_env(marker) == []
