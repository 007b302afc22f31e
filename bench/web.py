"""`newsdesk bench web`: article and home pages under wrk, side by side with nginx.

In a fresh data directory (its own SQLite database, migrated, cache table and static
files as `newsdesk up` makes them) this generates N articles (100,000 by default) with
varied text (sentences of the BBC corpus in ../shared when present, else made from a
word list), a few hundred publishers, and for most articles the AI rows the article
page shows: enrichment (summary, key points, section, embedding), hashtags, some stories
and comments. The FTS5 triggers index every article as it is inserted.

Then it starts the web server exactly as `newsdesk up` does (newsdesk/web/front.py:
nginx with its microcache in front of gunicorn when nginx is installed, else gunicorn
alone; same commands, config and environment, with the shared embedder holding the one
copy of the model; no worker or scheduler until the ingest) and runs wrk
from 127.0.0.1 (32 connections, 2 threads, --latency) against:

1. cached: one article URL again and again (whatever page caching the site does);
2. uncached: a Lua script walking over many different article ids, none requested twice;
3. home: the home page;
4. nginx: the very HTML of (1), fetched once from the site, served by nginx as a static
   file from a temporary config (the anchor: what a static file server does here).

Each run is preceded by a short warm-up run whose figures are dropped. Everything runs
on this machine, wrk included, so the figures depend on what else uses the CPU: the load
average before and after is part of the result, and so is the server's CPU time per
request (gunicorn and its nginx front together; less sensitive to other jobs than
requests/s).

    newsdesk bench web [--articles 100000] [--duration 15] [--keep]

Every child process (the data generator, gunicorn, nginx, wrk) runs in its own process
group and is stopped at the end, on error and on Ctrl-C/SIGTERM.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import random
import re
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path

from bench import BBC_ARTICLES
from bench.wrk import paths_script
from newsdesk.web import front

DEFAULT_CORPUS = BBC_ARTICLES
TARGET_CACHED_P99_MS = 50.0
TARGET_RATIO = 0.1
# Issue 12: pages no cache serves, and what readers do while an ingest writes.
TARGETS = {
    "uncached_cpu_ms": 10.0,
    "uncached_p99_ms": 300.0,
    "search_during_ingest_p99_ms": 300.0,
    "comment_during_ingest_p99_ms": 200.0,
}
INFO_FILE = "bench-web.json"
# Response headers worth showing: they tell whether and how the page was cached.
CACHE_HEADERS = (
    "cache-control",
    "expires",
    "age",
    "etag",
    "last-modified",
    "vary",
    "x-cache",
    "x-page-cache",
    "content-length",
    "content-encoding",
)


def add_arguments(parser) -> None:
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per wrk run")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up before each run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument(
        "--web-workers",
        type=int,
        default=int(os.environ.get("NEWSDESK_WEB_WORKERS", "2")),
        help="gunicorn worker processes, as `newsdesk up --web-workers`",
    )
    parser.add_argument(
        "--corpus",
        type=Path,
        default=DEFAULT_CORPUS,
        help="BBC articles for realistic text (a word list is used when missing)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="use (and keep) this data directory; articles generated there are reused",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    parser.add_argument(
        "--ingest",
        type=int,
        default=10_000,
        help="articles the simulated publisher offers while the signed-in runs are measured "
        "(0: no ingest, no runs during it)",
    )
    parser.add_argument(
        "--ingest-workers",
        type=int,
        default=int(os.environ.get("NEWSDESK_WORKERS", "2")),
        help="task worker processes during the ingest, as `newsdesk up --workers`",
    )
    parser.add_argument(
        "--ingest-connections",
        type=int,
        default=None,
        help="wrk connections for the runs during the ingest (default: --connections)",
    )
    parser.add_argument("--comment-rate", type=float, default=10.0, help="comment posts per second")
    parser.add_argument("--comment-clients", type=int, default=4, help="threads posting comments")
    parser.add_argument(
        "--search-rate",
        type=float,
        default=40.0,
        help="searches per second of the open-loop search run during the ingest (issue 12's probe saw 40)",
    )


# --- the server, as `newsdesk up` runs it --------------------------------------------

# The web processes are those of `newsdesk up`: newsdesk.web.front.plan builds them for both.


# --- processes -------------------------------------------------------------------------


class Children:
    """Child processes, each in its own process group; `stop_all` ends every group.

    They stay in the benchmark's session, as `newsdesk up`'s children stay in its: Linux
    shares the CPU between sessions (autogroups) first and by nice only within one, so in
    sessions of their own the shared embedder, niced as a process only, weighed as much as
    the whole web."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []

    def start(self, command: list[str], **kwargs) -> subprocess.Popen:
        proc = subprocess.Popen(command, process_group=0, **kwargs)
        self.procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 20.0) -> None:
        if proc.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        # Whatever is left in the group (a gunicorn worker outliving its master, say).
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        with suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        if proc in self.procs:
            self.procs.remove(proc)

    def stop_all(self) -> None:
        for proc in reversed(list(self.procs)):
            self.stop(proc)


@contextmanager
def _sigterm_as_interrupt():
    """SIGTERM unwinds like Ctrl-C, so the `finally` blocks stop the children."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _group_stats(pgid: int | list[int]) -> tuple[float, float]:
    """(CPU seconds, resident MB) summed over the live processes of process groups."""
    pgids = {pgid} if isinstance(pgid, int) else set(pgid)
    tick = os.sysconf("SC_CLK_TCK")
    page = os.sysconf("SC_PAGE_SIZE")
    cpu = rss = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
        if int(fields[2]) not in pgids:  # pgrp
            continue
        cpu += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        rss += int(fields[21]) * page / 2**20
    return cpu, rss


def _get(port: int, path: str, timeout: float = 30.0) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        conn.close()


def _wait_http(
    port: int, path: str, proc: subprocess.Popen, what: str, log: Path | None, timeout: float = 90.0
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
            raise RuntimeError(f"{what} exited with {proc.returncode} before answering\n{tail}")
        with suppress(OSError, http.client.HTTPException):
            _get(port, path, timeout=10)
            return
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not answer on port {port} within {timeout:.0f} s")


# --- wrk ---------------------------------------------------------------------------------

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _duration_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if not match:
        raise ValueError(f"unreadable wrk duration {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output: str) -> dict:
    """Requests/s, latency percentiles (ms), request count and errors from wrk's report."""
    result: dict = {}
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    if not rps:
        raise ValueError(f"no Requests/sec in wrk output:\n{output}")
    result["rps"] = float(rps.group(1))
    for percent, value in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", output, re.M):
        result[f"p{percent}_ms"] = round(_duration_ms(value), 3)
    if "p99_ms" not in result:
        raise ValueError(f"no latency distribution in wrk output (is --latency on?):\n{output}")
    total = re.search(r"^\s+(\d+) requests in ([\d.]+\w+)", output, re.M)
    result["requests"] = int(total.group(1)) if total else 0
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    result["socket_errors"] = sum(map(int, sockets.groups())) if sockets else 0
    result["timeouts"] = int(sockets.group(4)) if sockets else 0
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    result["non_2xx"] = int(non2xx.group(1)) if non2xx else 0
    return result


def _wrk(url: str, *, seconds: float, connections: int, threads: int, script: Path | None = None) -> dict:
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
        "--timeout",
        "10s",
    ]
    if script:
        command += ["-s", str(script)]
    command.append(url)
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        output, _ = proc.communicate(timeout=seconds + 60)
    finally:
        if proc.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    if proc.returncode != 0:
        raise RuntimeError(f"wrk exited with {proc.returncode}:\n{output}")
    return parse_wrk(output)


# --- nginx -------------------------------------------------------------------------------

NGINX_CONF = """\
# newsdesk bench web: one article page as a static file.
worker_processes auto;
daemon off;
pid %(dir)s/nginx.pid;
error_log %(dir)s/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    default_type text/html;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    client_body_temp_path %(dir)s/tmp/body;
    proxy_temp_path %(dir)s/tmp/proxy;
    fastcgi_temp_path %(dir)s/tmp/fastcgi;
    uwsgi_temp_path %(dir)s/tmp/uwsgi;
    scgi_temp_path %(dir)s/tmp/scgi;
    server {
        listen 127.0.0.1:%(port)d;
        root %(dir)s/html;
        index index.html;
    }
}
"""


# --- the benchmark -----------------------------------------------------------------------


def _prepare(data_dir: Path, env: dict, *, articles: int, corpus: Path, seed: int, children: Children) -> dict:
    """Migrate, create the cache table, collect static files and generate the articles (in
    a child process whose settings point at data_dir); a generated database is reused."""
    info_file = data_dir / INFO_FILE
    if info_file.exists() and json.loads(info_file.read_text()).get("articles") != articles:
        raise RuntimeError(f"{data_dir} holds another number of generated articles than {articles}")
    command = [
        sys.executable,
        "-m",
        "bench.web",
        "prepare",
        "--articles",
        str(articles),
        "--corpus",
        str(corpus),
        "--seed",
        str(seed),
    ]
    proc = children.start(command, env=env)
    proc.wait()
    children.procs.remove(proc)
    if proc.returncode != 0:
        raise RuntimeError(f"preparing the data directory failed (exit {proc.returncode})")
    return json.loads(info_file.read_text())


def _wait_quiet(groups: int | list[int], *, every: float, most_cpu: float, times: int, timeout: float) -> float:
    """Wait until the process groups used at most `most_cpu` seconds of CPU in each of
    `times` intervals of `every` seconds in a row; seconds waited."""
    began = time.perf_counter()
    quiet = 0
    previous, _ = _group_stats(groups)
    while time.perf_counter() - began < timeout and quiet < times:
        time.sleep(every)
        current, _ = _group_stats(groups)
        quiet = quiet + 1 if current - previous <= most_cpu else 0
        previous = current
    return time.perf_counter() - began


def _wait_settled(groups: list[int], timeout: float = 180.0) -> float:
    """Wait until the web processes use (almost) no CPU while idle: each loads the
    embedding model in a background thread as it starts (newsdesk/wsgi.py), seconds of
    CPU that would otherwise be counted as the first run's server CPU per request."""
    return _wait_quiet(groups, every=0.5, most_cpu=1.5 / os.sysconf("SC_CLK_TCK"), times=3, timeout=timeout)


def _wait_drained(groups: int | list[int], timeout: float = 30.0) -> float:
    """Wait until the server has answered what the warm-up left in its queue. wrk stops
    at its time with requests in flight, which nginx and gunicorn still answer: up to
    one per connection, a full queue of 32 searches (about 0.3 s of both CPUs). A run
    started at once met that queue on top of its own, and its first requests waited
    twice as long as any later one: their latency and the server CPU they cost were
    the warm-up's, not the run's. Quiet: 0.1 s with at most one clock tick of CPU."""
    return _wait_quiet(groups, every=0.1, most_cpu=1.5 / os.sysconf("SC_CLK_TCK"), times=1, timeout=timeout)


def _machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    tick = os.sysconf("SC_CLK_TCK")
    idle = ticks[3] + ticks[4]  # idle + iowait
    return (sum(ticks) - idle) / tick, sum(ticks) / tick


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _measure(
    name: str,
    url: str,
    *,
    pgid: int | list[int],
    options: dict,
    script: Path | None = None,
    warm_script: Path | None = None,
) -> dict:
    """One wrk run (after a warm-up), with the server's CPU time per request and the share
    of the machine's CPU that went to neither the server nor wrk (other jobs)."""
    wrk_options = {"connections": options["connections"], "threads": options["threads"]}
    if options["warmup"] > 0:
        _wrk(url, seconds=options["warmup"], script=warm_script or script, **wrk_options)
        _wait_drained(pgid)
    server_before, _ = _group_stats(pgid)
    busy_before, total_before = _machine_cpu()
    wrk_before = _children_cpu()
    figures = _wrk(url, seconds=options["duration"], script=script, **wrk_options)
    wrk_cpu = _children_cpu() - wrk_before
    busy, total = (a - b for a, b in zip(_machine_cpu(), (busy_before, total_before), strict=True))
    server_after, rss = _group_stats(pgid)
    server_cpu = server_after - server_before
    figures["cpu_ms_per_request"] = round(1000 * server_cpu / max(1, figures["requests"]), 3)
    figures["rss_mb"] = round(rss, 1)
    figures["other_cpu_pct"] = round(100 * max(0.0, busy - server_cpu - wrk_cpu) / max(total, 1e-9), 1)
    figures["wrk_cpu_pct"] = round(100 * wrk_cpu / max(total, 1e-9), 1)
    errors = figures["non_2xx"] + figures["socket_errors"]
    print(
        f"{name:>9}: {figures['rps']:9.1f} req/s   p50 {figures['p50_ms']:8.2f} ms   "
        f"p99 {figures['p99_ms']:8.2f} ms   {figures['requests']} requests, "
        f"{figures['cpu_ms_per_request']:.2f} ms server CPU each; "
        f"other jobs took {figures['other_cpu_pct']:.0f}% of the CPUs, wrk {figures['wrk_cpu_pct']:.0f}%"
        + (f"   {errors} errors (non-2xx {figures['non_2xx']}, socket {figures['socket_errors']})" if errors else "")
    )
    return figures


def site_env(data_dir: Path) -> dict[str, str]:
    """The environment of a benchmark's site: its own data dir and SQLite file (any
    DATABASE_URL of the caller's dropped), production settings, no default publishers."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "newsdesk.settings",
        "NEWSDESK_DATA_DIR": str(data_dir),
        "NEWSDESK_DEBUG": "0",
        "NEWSDESK_DEFAULT_SOURCES": "0",
        "NEWSDESK_LOG_LEVEL": "WARNING",
    }
    env.pop("DATABASE_URL", None)
    return env


def run(
    *,
    articles: int = 100_000,
    duration: float = 15.0,
    warmup: float = 3.0,
    connections: int = 32,
    threads: int = 2,
    web_workers: int = 2,
    corpus: Path = DEFAULT_CORPUS,
    seed: int = 1,
    data_dir: Path | None = None,
    keep: bool = False,
    ingest: int = 10_000,
    ingest_workers: int = 2,
    ingest_connections: int | None = None,
    comment_rate: float = 10.0,
    comment_clients: int = 4,
    search_rate: float = 40.0,
    **_ignored,
) -> dict:
    from django.core.management.base import CommandError

    from newsdesk.ai.embeddings import remote_embed
    from newsdesk.management.commands.up import embedder_socket_path

    nginx = front.nginx_binary()
    if not shutil.which("wrk"):
        raise CommandError("wrk is not installed (apt-get install wrk)")
    if not nginx:
        raise CommandError("nginx is not installed (apt-get install nginx-light)")
    options = {
        "duration": duration,
        "warmup": warmup,
        "connections": connections,
        "threads": threads,
        "ingest": ingest,
        "ingest_workers": ingest_workers,
        "ingest_connections": ingest_connections or connections,
        "comment_rate": comment_rate,
        "comment_clients": comment_clients,
        "search_rate": search_rate,
        "corpus": corpus,
    }
    load_before = os.getloadavg()
    temporary = data_dir is None
    data_dir = Path(data_dir or tempfile.mkdtemp(prefix="newsdesk-bench-web-")).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    # Scripts, logs and nginx's tree: readable by nginx's unprivileged workers.
    work = Path(tempfile.mkdtemp(prefix="newsdesk-bench-web-run-"))
    work.chmod(0o755)
    env = site_env(data_dir)  # always the fresh SQLite file in data_dir
    children = Children()
    result: dict = {}
    try:
        with _sigterm_as_interrupt():
            started = time.perf_counter()
            info = _prepare(data_dir, env, articles=articles, corpus=corpus, seed=seed, children=children)
            generate_s = time.perf_counter() - started
            env = {**env, "NEWSDESK_EMBEDDER": embedder_socket_path(data_dir)}
            start_embedder(env, children)
            remote_embed(env["NEWSDESK_EMBEDDER"], ["warm up"], wait=300)  # loaded before anything is measured
            result = _benchmark(info, data_dir, work, env, children, nginx, web_workers, options)
            result["generate_s"] = round(info.get("generate_s", generate_s), 1)
            db_bytes = sum(p.stat().st_size for p in data_dir.glob("newsdesk.sqlite3*"))
            result["db_mb"] = round(db_bytes / 2**20, 1)
    finally:
        children.stop_all()
        shutil.rmtree(work, ignore_errors=True)
        front.remove_runtime(data_dir / "nginx")
        if temporary and not keep:
            shutil.rmtree(data_dir, ignore_errors=True)
        else:
            print(f"data directory kept: {data_dir}")
    load_after = os.getloadavg()
    result["load_before"] = [round(x, 2) for x in load_before]
    result["load_after"] = [round(x, 2) for x in load_after]
    result["cpus"] = os.cpu_count()
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min) on {os.cpu_count()} CPUs")
    return result


def start_embedder(env: dict, children: Children) -> subprocess.Popen:
    """The one embedding process of `newsdesk up`, on the socket env["NEWSDESK_EMBEDDER"]
    names, bound here and inherited as `up` does: the web processes and the workers
    then ask it instead of each loading the model."""
    from django.conf import settings

    from newsdesk.ai import embedder

    listener = embedder.listening_socket(env["NEWSDESK_EMBEDDER"])
    try:
        command = embedder.command(listener.fileno(), settings.NEWSDESK_EMBEDDER_NICE)
        return children.start(command, env=env, pass_fds=(listener.fileno(),), stdout=subprocess.DEVNULL)
    finally:
        listener.close()  # the embedder has its copy


def _benchmark(
    info: dict, data_dir: Path, work: Path, env: dict, children: Children, nginx: str, web_workers: int, options: dict
) -> dict:
    db = sqlite3.connect(f"file:{data_dir / 'newsdesk.sqlite3'}?mode=ro", uri=True)
    try:
        article_count = db.execute("SELECT count(*) FROM articles_article").fetchone()[0]
        ids = [row[0] for row in db.execute("SELECT id FROM articles_article")]
    finally:
        db.close()
    cached_id = info["cached_id"]
    random.Random(7).shuffle(ids)
    ids = [i for i in ids if i != cached_id]
    # The warm-up walks over ids of its own, so that the measured run meets none it cached.
    warm = min(2000, len(ids) // 5)
    warm_ids, rotate_ids = ids[:warm] or ids, ids[warm:]
    if not rotate_ids:
        raise RuntimeError("too few articles to rotate over")
    # The signed-in runs walk over ids of their own: a page's shared parts rendered for
    # one run are never what another run measures.
    signed_ids = rotate_ids[len(rotate_ids) // 3 :] if len(rotate_ids) >= 3 else rotate_ids
    rotate_ids = rotate_ids[: len(rotate_ids) // 3] or rotate_ids
    print(
        f"{article_count} articles; cached page /articles/{cached_id}/; "
        f"uncached pages rotate over {len(rotate_ids)} ids"
    )

    port = front.free_port()
    web = front.plan(f"127.0.0.1:{port}", web_workers, data_dir)
    command = web.gunicorn
    server_log = work / "gunicorn.log"
    with server_log.open("wb") as log:
        # The access logs go to stdout as under `newsdesk up`; here nobody reads them.
        server = children.start(command, env={**env, **web.env}, cwd=Path.cwd(), stdout=subprocess.DEVNULL, stderr=log)
    _wait_http(web.upstream_port, "/", server, "gunicorn", server_log)
    groups = [server.pid]
    front_proc = None
    if web.nginx:
        front_log = work / "front.log"
        with front_log.open("wb") as log:
            front_proc = children.start(web.nginx, env=env, stdout=subprocess.DEVNULL, stderr=log)
        _wait_http(port, "/", front_proc, "nginx front", web.nginx_dir / "error.log")
        groups.append(front_proc.pid)
    print(f"web server: {web.note}; {' '.join(command[1:])}")
    settled = _wait_settled(groups)
    print(f"web processes settled (model warm-up done) after {settled:.0f} s")

    def fetch(path: str) -> tuple[dict, bytes]:
        status, headers, body = _get(port, path)
        if status != 200:
            tail = server_log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{path} answered {status}; the server's log ends with:\n{tail}")
        return headers, body

    cached_path = f"/articles/{cached_id}/"
    _, page = fetch(cached_path)
    headers, _ = fetch(cached_path)
    cache_headers = {k: v for k, v in headers.items() if k in CACHE_HEADERS}
    cache_headers["set-cookie"] = "yes" if "set-cookie" in headers else "no"
    print(f"article page: {len(page)} bytes; response headers {json.dumps(cache_headers)}")
    _, home_page = fetch("/")
    for sample in rotate_ids[:3]:
        fetch(f"/articles/{sample}/")

    base = f"http://127.0.0.1:{port}"
    load_at_runs = os.getloadavg()
    cached = _measure("cached", base + cached_path, pgid=groups, options=options)
    headers, _ = fetch(cached_path)
    after = {k: v for k, v in headers.items() if k in CACHE_HEADERS}
    if after != {k: v for k, v in cache_headers.items() if k != "set-cookie"}:
        print(f"article page after the run: response headers {json.dumps(after)}")
    uncached = _measure(
        "uncached",
        base + "/",
        pgid=groups,
        options=options,
        script=paths_script(work, "rotate", [f"/articles/{i}/" for i in rotate_ids], options["threads"]),
        warm_script=paths_script(work, "warm", [f"/articles/{i}/" for i in warm_ids], options["threads"]),
    )
    if uncached["requests"] > len(rotate_ids):
        print(f"note: {uncached['requests']} uncached requests over {len(rotate_ids)} ids: some pages came twice")
    home = _measure("home", base + "/", pgid=groups, options=options)
    signed_in = _signed_in_runs(port, groups, options, work, data_dir, env, children, signed_ids, warm_ids)
    if front_proc is not None:
        children.stop(front_proc)
    children.stop(server)

    # nginx: the same bytes, as a static file at the same path.
    nginx_dir = work / "nginx"
    (nginx_dir / "html" / cached_path.strip("/")).mkdir(parents=True)
    (nginx_dir / "tmp").mkdir()
    (nginx_dir / "html" / cached_path.strip("/") / "index.html").write_bytes(page)
    nginx_port = front.free_port()
    conf = nginx_dir / "nginx.conf"
    conf.write_text(NGINX_CONF % {"dir": nginx_dir, "port": nginx_port})
    nginx_command = [nginx, "-c", str(conf), "-p", str(nginx_dir), "-e", str(nginx_dir / "error.log")]
    nginx_proc = children.start(nginx_command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    _wait_http(nginx_port, cached_path, nginx_proc, "nginx", nginx_dir / "error.log")
    status, _, served = _get(nginx_port, cached_path)
    nginx_verified = status == 200 and served == page
    if not nginx_verified:
        raise RuntimeError(f"nginx served {status}, {len(served)} bytes instead of the {len(page)}-byte page")
    static = _measure("nginx", f"http://127.0.0.1:{nginx_port}{cached_path}", pgid=nginx_proc.pid, options=options)
    children.stop(nginx_proc)

    ratio = cached["rps"] / static["rps"] if static["rps"] else 0.0
    p99_ok = cached["p99_ms"] < TARGET_CACHED_P99_MS
    ratio_ok = ratio >= TARGET_RATIO
    print(
        f"target cached article p99 < {TARGET_CACHED_P99_MS:.0f} ms: {cached['p99_ms']:.2f} ms, "
        f"{'met' if p99_ok else 'MISSED'}"
    )
    print(
        f"target cached article >= {TARGET_RATIO} x nginx: {ratio:.3f} x ({cached['rps']:.0f} vs "
        f"{static['rps']:.0f} req/s), {'met' if ratio_ok else 'MISSED'}"
    )

    result: dict = {"articles": article_count}
    for name, figures in (("cached", cached), ("uncached", uncached), ("home", home), ("nginx", static)):
        result[f"{name}_rps"] = round(figures["rps"], 1)
        result[f"{name}_p50_ms"] = figures["p50_ms"]
        result[f"{name}_p90_ms"] = figures.get("p90_ms")
        result[f"{name}_p99_ms"] = figures["p99_ms"]
        result[f"{name}_requests"] = figures["requests"]
        result[f"{name}_errors"] = figures["non_2xx"] + figures["socket_errors"]
        result[f"{name}_cpu_ms_per_request"] = figures["cpu_ms_per_request"]
        result[f"{name}_other_cpu_pct"] = figures["other_cpu_pct"]
    result["uncached_cpu_ms"] = uncached["cpu_ms_per_request"]
    result.update(signed_in)
    result.update(
        {
            "ratio": _figure(ratio),
            "uncached_ratio": _figure(uncached["rps"] / static["rps"] if static["rps"] else 0.0),
            "home_ratio": _figure(home["rps"] / static["rps"] if static["rps"] else 0.0),
            "target_cached_p99_ms": TARGET_CACHED_P99_MS,
            "target_ratio": TARGET_RATIO,
            "cached_p99_target_met": p99_ok,
            "ratio_target_met": ratio_ok,
            "nginx_verified": nginx_verified,
            "cached_id": cached_id,
            "uncached_ids": len(rotate_ids),
            "page_bytes": len(page),
            "home_bytes": len(home_page),
            "cached_response_headers": cache_headers,
            "cached_response_headers_after_run": after,
            "web_rss_mb": max(cached["rss_mb"], uncached["rss_mb"], home["rss_mb"]),
            "load_before_runs": [round(x, 2) for x in load_at_runs],
            "web_workers": web_workers,
            "server": ("nginx microcache -> " if web.nginx else "") + " ".join(command[3:]),
            "front": "nginx" if web.nginx else "gunicorn",
            "connections": options["connections"],
            "threads": options["threads"],
            "duration_s": options["duration"],
        }
    )
    _report_targets(result)
    return result


def _report_targets(result: dict) -> None:
    """Print each issue-12 target with its figure; `targets_met` lists which were met."""
    met = {}
    for field, limit in TARGETS.items():
        value = result.get(field)
        if value is None:
            print(f"target {field} < {limit:g}: not measured")
            continue
        met[field] = value < limit
        print(f"target {field} < {limit:g}: {value:.2f}, {'met' if met[field] else 'MISSED'}")
    result["targets"] = dict(TARGETS)
    result["targets_met"] = met


def _signed_in_runs(
    port: int,
    groups: list[int],
    options: dict,
    work: Path,
    data_dir: Path,
    env: dict,
    children: Children,
    rotate_ids: list[int],
    warm_ids: list[int],
) -> dict:
    """The signed-in reader's article pages (no cache helps them) on the idle site, then
    article pages, search and comment posts while an ingest runs into the same database.
    The idle run walks the first half of `rotate_ids`, the run during the ingest the
    second half."""
    from bench import web_ingest as signed

    base = f"http://127.0.0.1:{port}"
    posts = max(1, int(options["comment_rate"] * options["duration"]))
    sessions = signed.load_sessions(data_dir, env, 2 * posts + 20, children)
    cookies = signed.log_in(port, sessions)
    signed.check_signed_in(port, cookies, f"/articles/{rotate_ids[0]}/", sessions["reader"])
    article_paths = [f"/articles/{i}/" for i in rotate_ids[: len(rotate_ids) // 2] or rotate_ids]
    late_paths = [f"/articles/{i}/" for i in rotate_ids[len(rotate_ids) // 2 :]]
    warm_paths = [f"/articles/{i}/" for i in warm_ids]
    queries = signed.search_queries(data_dir / "newsdesk.sqlite3", 4000)
    scripts = {
        "article": paths_script(work, "signed-article", article_paths, options["threads"], cookies),
        "article-warm": paths_script(work, "signed-article-warm", warm_paths, options["threads"], cookies),
        "article-late": paths_script(work, "signed-article-late", late_paths, options["threads"], cookies),
        "search": paths_script(work, "search", queries[:2000], options["threads"], cookies),
        "search-warm": paths_script(work, "search-warm", queries[2000:], options["threads"], cookies),
    }
    result: dict = {
        "signed_in_user": sessions["reader"],
        "search_queries": len(queries),
        "ingest_connections": options["ingest_connections"],
    }
    idle = _measure(
        "signed-in",
        base + "/",
        pgid=groups,
        options=options,
        script=scripts["article"],
        warm_script=scripts["article-warm"],
    )
    _keep_figures(result, "signed_in", idle)
    # The same comment load without the ingest: what the write lock adds is the difference.
    result.update(_comment_run(port, groups, options, sessions, rotate_ids, posts, signed, "comment"))
    sessions = {**sessions, "commenters": sessions["commenters"][posts:]}
    if options["ingest"] <= 0 or not Path(options["corpus"]).is_dir():
        print("no ingest: the runs during an ingest are skipped")
        return result

    ingest = signed.Ingest(
        data_dir, env, children, Path(options["corpus"]), options["ingest"], options["ingest_workers"]
    )
    try:
        ingest.start()
        waited = ingest.wait_flowing()
        ingest.probe_write_lock()
        print(
            f"ingest: {options['ingest']} pages offered by {ingest.publisher.base}, "
            f"{options['ingest_workers']} workers + scheduler; storing after {waited:.0f} s"
        )
        for name, script, warm in (("article", "article-late", "article-warm"), ("search", "search", "search-warm")):
            before = ingest.stored()
            figures = _measure(
                f"{name} +ingest",
                base + "/",
                pgid=groups,
                options={**options, "connections": options["ingest_connections"]},
                script=scripts[script],
                warm_script=scripts[warm],
            )
            figures["ingest_stored_during"] = ingest.stored() - before
            _keep_figures(result, f"{'signed_in' if name == 'article' else name}_during_ingest", figures)
        before = ingest.stored()
        result.update(_search_rate_run(port, groups, options, cookies, queries[:2000], signed))
        result["search_at_rate_during_ingest_stored_during"] = ingest.stored() - before
        before = ingest.stored()
        result.update(_comment_run(port, groups, options, sessions, rotate_ids, posts, signed, "comment_during_ingest"))
        result["comment_during_ingest_stored_during"] = ingest.stored() - before
    finally:
        result.update(ingest.stop())
    print(
        f"ingest: {result['ingest_stored']} articles stored in {result['ingest_seconds']:.0f} s "
        f"({result['ingest_articles_per_s']:.1f}/s) while measured; waits for the write lock "
        f"p50 {result['write_lock_wait_p50_ms']:.0f} ms, p99 {result['write_lock_wait_p99_ms']:.0f} ms, "
        f"max {result['write_lock_wait_max_ms']:.0f} ms over {result['write_lock_probes']} probes"
    )
    return result


def _comment_run(
    port: int, groups: list[int], options: dict, sessions: dict, article_ids: list[int], posts: int, signed, name: str
) -> dict:
    """Comment posts at a fixed rate from a bounded client, with the server's CPU per post."""
    commenters = signed.prepare_commenters(port, sessions, article_ids, posts, options["comment_clients"])
    figures = _paced_figures(
        groups,
        lambda: signed.post_comments(
            port,
            commenters,
            article_ids,
            rate=options["comment_rate"],
            seconds=options["duration"],
            clients=options["comment_clients"],
        ),
    )
    label = "comment +ingest" if name.endswith("ingest") else "comment"
    print(
        f"{label:>9}: {figures['rps']:9.1f} posts/s p50 {figures['p50_ms']:8.2f} ms   "
        f"p99 {figures['p99_ms']:8.2f} ms   {figures['requests']} posts by {options['comment_clients']} "
        f"clients, {figures['cpu_ms_per_request']:.2f} ms server CPU each"
        + (f"   {figures['errors']} errors {figures['statuses']}" if figures["errors"] else "")
    )
    return {f"{name}_{key}": value for key, value in figures.items()}


def _search_rate_run(
    port: int, groups: list[int], options: dict, cookies: dict[str, str], paths: list[str], signed
) -> dict:
    """Searches at a fixed rate (an open loop, `--search-rate`), with the server's CPU
    each: what readers searching at that pace get, where wrk's 32 connections measure
    the most the site can answer (their latency is 32 / throughput)."""
    rate = options["search_rate"]
    clients = max(8, int(rate // 2))
    figures = _paced_figures(
        groups,
        lambda: signed.get_at_rate(port, paths[::-1], cookies, rate=rate, seconds=options["duration"], clients=clients),
    )
    print(
        f"search at {rate:g}/s +ingest: {figures['rps']:9.1f} req/s p50 {figures['p50_ms']:8.2f} ms   "
        f"p99 {figures['p99_ms']:8.2f} ms   max {figures['max_ms']:.0f} ms   {figures['requests']} searches, "
        f"{figures['late']} sent late, {figures['cpu_ms_per_request']:.2f} ms server CPU each"
        + (f"   {figures['errors']} errors {figures['statuses']}" if figures["errors"] else "")
    )
    return {"search_rate": rate, **{f"search_at_rate_during_ingest_{key}": value for key, value in figures.items()}}


def _paced_figures(groups: list[int], run) -> dict:
    """The figures of a paced client's `run()` (web_ingest.PacedResults), with the
    server's CPU per request over it, from a drained server (see _wait_drained)."""
    _wait_drained(groups)
    server_before, _ = _group_stats(groups)
    started = time.perf_counter()
    outcome = run()
    seconds = time.perf_counter() - started
    server_after, _ = _group_stats(groups)
    figures = outcome.figures(seconds)
    figures["cpu_ms_per_request"] = round(1000 * (server_after - server_before) / max(1, figures["requests"]), 3)
    return figures


def _keep_figures(result: dict, name: str, figures: dict) -> None:
    """A wrk run's figures under `name_...` in the result, as for the other runs."""
    for key in (
        "rps",
        "p50_ms",
        "p90_ms",
        "p99_ms",
        "requests",
        "cpu_ms_per_request",
        "other_cpu_pct",
        "ingest_stored_during",
    ):
        if key in figures:
            result[f"{name}_{key}"] = round(figures[key], 1) if key == "rps" else figures[key]
    result[f"{name}_errors"] = figures["non_2xx"] + figures["socket_errors"]
    result[f"{name}_cpu_ms"] = figures["cpu_ms_per_request"]


def _figure(value: float) -> float:
    """Four significant digits: ratios far below 1 keep their precision."""
    return float(f"{value:.4g}")


# --- data generation (runs in a child process whose settings point at the data dir) ---

BBC_SECTIONS = {
    "business": "business",
    "entertainment": "entertainment",
    "politics": "politics",
    "sport": "sports",
    "tech": "technology",
}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'‘“(£$0-9])")
_NAME = re.compile(r"\b([A-Z][a-z]{2,}(?: [A-Z][a-z]{2,})?)\b")
FIRST = [
    "James",
    "Maria",
    "Ahmed",
    "Sofia",
    "Chen",
    "Olga",
    "David",
    "Amara",
    "Lucas",
    "Priya",
    "Tom",
    "Elena",
    "Kwame",
    "Hana",
    "Mateo",
    "Fatima",
    "Jonas",
    "Aiko",
    "Sam",
    "Ines",
]
LAST = [
    "Smith",
    "Garcia",
    "Khan",
    "Rossi",
    "Wang",
    "Ivanova",
    "Brown",
    "Okafor",
    "Silva",
    "Patel",
    "Novak",
    "Kim",
    "Muller",
    "Haddad",
    "Jensen",
    "Tanaka",
    "Lopez",
    "Nguyen",
    "Evans",
    "Costa",
]
PAPER = ["Daily", "Evening", "Morning", "Weekly", "Global", "National", "City", "Valley", "Coast", "Metro"]
NOUN = [
    "Herald",
    "Tribune",
    "Post",
    "Chronicle",
    "Courier",
    "Gazette",
    "Observer",
    "Times",
    "Journal",
    "Record",
    "Star",
    "Sentinel",
    "Dispatch",
    "Monitor",
    "Review",
]
COUNTRIES = ["GB", "US", "IE", "AU", "CA", "NZ", "IN", "ZA", "DE", "FR", "ES", "IT", "NL", "SE", "JP", "BR"]


class Texts:
    """Headlines, sentences and name-like phrases per section, from the corpus or a word list."""

    def __init__(self, corpus: Path, rng: random.Random) -> None:
        self.headlines: dict[str, list[str]] = {}
        self.sentences: dict[str, list[str]] = {}
        self.names: dict[str, list[str]] = {}
        if corpus.is_dir() and any(corpus.glob("*/*.txt")):
            self.origin = f"sentences of {corpus}"
            self._from_corpus(corpus)
        else:
            self.origin = "a word list (wordfreq)"
            self._from_words(rng)
        self.sections = sorted(self.sentences)

    def _from_corpus(self, corpus: Path) -> None:
        for path in sorted(corpus.glob("*/*.txt")):
            section = BBC_SECTIONS.get(path.parent.name, path.parent.name)
            lines = [line.strip() for line in path.read_bytes().decode("utf-8", "replace").splitlines()]
            lines = [line for line in lines if line]
            if len(lines) < 2:
                continue
            self.headlines.setdefault(section, []).append(lines[0])
            bucket = self.sentences.setdefault(section, [])
            for paragraph in lines[1:]:
                bucket.extend(s for s in _SENTENCE_END.split(paragraph) if len(s.split()) >= 4)
        for section, sentences in self.sentences.items():
            counts: dict[str, int] = {}
            for sentence in sentences:
                for name in _NAME.findall(sentence[1:]):  # not the capital of the first word
                    counts[name] = counts.get(name, 0) + 1
            ranked = sorted(counts, key=lambda n: (-counts[n], n))
            self.names[section] = [n for n in ranked if counts[n] >= 2][:600] or ranked[:600]

    def _from_words(self, rng: random.Random) -> None:
        from wordfreq import top_n_list

        words = [w for w in top_n_list("en", 6000) if w.isalpha()]
        weights = [1 / (rank + 10) for rank in range(len(words))]
        for section in ("world", "politics", "business", "technology", "science", "health", "sports"):

            def sentence(low: int, high: int) -> str:
                text = " ".join(rng.choices(words, weights, k=rng.randint(low, high)))
                return text[0].upper() + text[1:]

            self.sentences[section] = [sentence(8, 28) + "." for _ in range(4000)]
            self.headlines[section] = [sentence(5, 11) for _ in range(400)]
            self.names[section] = [
                " ".join(w.capitalize() for w in rng.sample(words[200:3000], rng.choice((1, 2)))) for _ in range(400)
            ]


def _slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80] or "x"


def generate(count: int, corpus: Path, seed: int = 1) -> dict:
    """Write `count` articles and their AI rows into the configured (fresh) database."""
    import numpy as np
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from newsdesk.articles.models import (
        Article,
        ArticleHashtag,
        ArticleURL,
        Enrichment,
        Hashtag,
        HashtagAlias,
    )
    from newsdesk.comments.models import Comment
    from newsdesk.sources.models import Feed, Source

    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    texts = Texts(corpus, rng)
    now = datetime.now(UTC)
    started = time.perf_counter()
    print(f"generating {count} articles from {texts.origin}", flush=True)
    try:
        from newsdesk.pipeline.enrich import method_versions

        methods = method_versions()
    except Exception:  # noqa: BLE001 - cosmetic only
        methods = {}

    # Publishers and one feed each.
    sources = []
    for n in range(min(400, max(5, count // 250))):
        name = f"The {rng.choice(PAPER)} {rng.choice(NOUN)} {n}"
        sources.append(
            Source(
                name=name,
                slug=_slugify(name),
                home_url=f"https://{_slugify(name)}.example/",
                country=rng.choice(COUNTRIES),
                language="en",
                kind=rng.choice(Source.Kind.values),
            )
        )
    Source.objects.bulk_create(sources)
    sources = list(Source.objects.all())
    Feed.objects.bulk_create(
        [
            Feed(
                source=s,
                url=f"{s.home_url}rss.xml",
                kind=Feed.Kind.RSS,
                title=f"{s.name}: latest",
                last_success_at=now,
                last_fetched_at=now,
                fetch_count=rng.randint(1, 500),
            )
            for s in sources
        ]
    )
    feed_of = {f.source_id: f.pk for f in Feed.objects.all()}

    # Hashtags: name-like phrases of each section, with a kind.
    kinds = [Hashtag.Kind.PERSON, Hashtag.Kind.PLACE, Hashtag.Kind.ORGANIZATION, Hashtag.Kind.TOPIC]
    tag_rows, seen = [], set()
    for section in texts.sections:
        for name in texts.names[section]:
            slug = _slugify(name)
            if slug not in seen:
                seen.add(slug)
                tag_rows.append(Hashtag(slug=slug, name=name, kind=rng.choices(kinds, (3, 2, 3, 2))[0]))
    Hashtag.objects.bulk_create(tag_rows, batch_size=1000)
    tag_id = dict(Hashtag.objects.values_list("slug", "pk"))
    HashtagAlias.objects.bulk_create(
        [HashtagAlias(key=slug.replace("-", " "), hashtag_id=pk) for slug, pk in tag_id.items()], batch_size=1000
    )
    tags_of_section = {s: [tag_id[_slugify(n)] for n in texts.names[s]] for s in texts.sections}
    tag_weights = {s: [1 / (rank + 3) for rank in range(len(v))] for s, v in tags_of_section.items()}
    tag_counts: dict[int, int] = {}

    # Embeddings near one of a few hundred topic centres, so neighbours mean something.
    dim = 384
    centres = nrng.standard_normal((max(8, len(texts.sections) * 40), dim)).astype(np.float32)

    User = get_user_model()
    User.objects.bulk_create(
        [User(username=f"reader{n}", email=f"reader{n}@example.com", password="!unusable") for n in range(40)]
    )
    user_ids = list(User.objects.values_list("pk", flat=True))

    # Days old, most news recent; oldest first, so that ids follow publication as an
    # ingest stores them (search relies on that for common words: fts5.py).
    ages = np.sort(nrng.exponential(scale=20.0, size=count))[::-1].copy()
    ages[-1] = 0.0  # the last article is the newest: the one the cached run asks for
    enriched_share, comment_share = 0.8, 0.02
    batch_size = 2000
    pending_stories: list[list[int]] = []
    cached_id = None
    for start in range(0, count, batch_size):
        size = min(batch_size, count - start)
        rows, plans = [], []
        for n in range(start, start + size):
            section = rng.choice(texts.sections)
            pool = texts.sentences[section]
            sentences = rng.sample(pool, min(len(pool), rng.randint(12, 40)))
            paragraphs, k = [], 0
            while k < len(sentences):
                take = rng.randint(1, 4)
                paragraphs.append(sentences[k : k + take])
                k += take
            title = (
                rng.choice(texts.headlines[section])
                if rng.random() < 0.6
                else min(rng.sample(pool, 3), key=len).rstrip(".")
            )
            html_parts = []
            for i, paragraph in enumerate(paragraphs):
                if i and i % 6 == 0:
                    html_parts.append(f"<h2>{escape(rng.choice(texts.headlines[section]))}</h2>")
                html_parts.append(f"<p>{escape(' '.join(paragraph))}</p>")
            body_text = "\n\n".join(" ".join(p) for p in paragraphs)
            words = len(body_text.split())
            source = sources[rng.randrange(len(sources))]
            published = now - timedelta(days=float(ages[n]))
            rows.append(
                Article(
                    source_id=source.pk,
                    feed_id=feed_of.get(source.pk),
                    url=f"{source.home_url}{published:%Y/%m}/{_slugify(title)[:60]}-{n}",
                    title=title,
                    byline=f"{rng.choice(FIRST)} {rng.choice(LAST)}" if rng.random() < 0.6 else "",
                    description=sentences[0],
                    body_text=body_text,
                    body_html="\n".join(html_parts),
                    language="en",
                    lead_image=f"{source.home_url}images/{n}.jpg" if rng.random() < 0.5 else "",
                    word_count=words,
                    reading_time=max(1, math.ceil(words / 230)),
                    origin=Article.Origin.PAGE if rng.random() < 0.9 else Article.Origin.FEED,
                    content_hash=f"{n:040x}",
                    published_at=published,
                    created_at=published,
                    updated_at=published,
                )
            )
            plans.append(
                (section, sentences, n == 0 or rng.random() < enriched_share, n == 0 or rng.random() < comment_share)
            )
        with transaction.atomic():
            created = Article.objects.bulk_create(rows)
            ArticleURL.objects.bulk_create([ArticleURL(url=a.url, article_id=a.pk) for a in created])
            enrichments, links, comments = [], [], []
            noise = nrng.standard_normal((size, dim), dtype=np.float32) * 0.8
            for j, (article, plan) in enumerate(zip(created, plans, strict=True)):
                section, sentences, enriched, commented = plan
                if start + j == count - 1:
                    cached_id = article.pk
                if enriched:
                    picks = sorted(rng.sample(range(len(sentences)), min(len(sentences), 6)))
                    summary_idx = [0, *picks[1:3]]
                    centre = centres[texts.sections.index(section) * 40 + rng.randrange(40)]
                    vector = centre + noise[j]
                    vector /= np.linalg.norm(vector)
                    enrichments.append(
                        Enrichment(
                            article_id=article.pk,
                            summary=" ".join(sentences[i] for i in summary_idx),
                            summary_sentences=summary_idx,
                            key_points=[{"text": sentences[i], "sentences": [i]} for i in picks[: rng.randint(3, 5)]],
                            section=section,
                            section_confidence=round(rng.uniform(0.3, 0.95), 4),
                            embedding=vector.astype(np.float16).tobytes(),
                            model="all-MiniLM-L6-v2",
                            methods=methods,
                            enriched_at=article.published_at,
                            published_at=article.published_at,
                        )
                    )
                    chosen = list(
                        dict.fromkeys(rng.choices(tags_of_section[section], tag_weights[section], k=rng.randint(3, 8)))
                    )
                    for position, hashtag_id in enumerate(chosen):
                        tag_counts[hashtag_id] = tag_counts.get(hashtag_id, 0) + 1
                        links.append(
                            ArticleHashtag(
                                article_id=article.pk,
                                hashtag_id=hashtag_id,
                                score=round(1.0 / (position + 1), 3),
                                mentions=rng.randint(1, 6),
                                position=position,
                                published_at=article.published_at,
                            )
                        )
                    if rng.random() < 0.3:
                        pending_stories.append([article.pk])
                if commented:
                    for _ in range(rng.randint(2, 6)):
                        comments.append(
                            Comment(
                                article_id=article.pk,
                                author_id=rng.choice(user_ids),
                                body=" ".join(rng.sample(texts.sentences[section], 2)),
                                status=Comment.Status.PUBLISHED,
                                created_at=article.published_at + timedelta(minutes=rng.randint(5, 600)),
                            )
                        )
            Enrichment.objects.bulk_create(enrichments)
            ArticleHashtag.objects.bulk_create(links)
            Comment.objects.bulk_create(comments)
        done = start + size
        if done == count or (done // batch_size) % 10 == 0:
            print(f"  {done:>7} articles, {time.perf_counter() - started:.0f} s", flush=True)

    # Replies to some comments, so threads have depth.
    parents = list(Comment.objects.values_list("pk", "article_id")[: max(1, Comment.objects.count() // 3)])
    Comment.objects.bulk_create(
        [
            Comment(
                article_id=article_id,
                parent_id=pk,
                author_id=rng.choice(user_ids),
                body="I agree with this.",
                status=Comment.Status.PUBLISHED,
                created_at=now,
            )
            for pk, article_id in parents
        ]
    )

    for hashtag_id, used in tag_counts.items():
        Hashtag.objects.filter(pk=hashtag_id).update(article_count=used)

    notes = [_make_stories(pending_stories, rng), _build_vector_index()]
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    elapsed = time.perf_counter() - started
    print(
        f"generated {count} articles in {elapsed:.0f} s ({count / elapsed:.0f}/s); " + "; ".join(n for n in notes if n),
        flush=True,
    )
    return {"articles": count, "cached_id": cached_id, "generate_s": round(elapsed, 1), "text": texts.origin}


def _make_stories(singletons: list[list[int]], rng: random.Random) -> str:
    """Group some enriched articles into stories of 2-6 (if the stories app has them)."""
    try:
        from django.db import transaction

        from newsdesk.articles.models import Article
        from newsdesk.stories.models import Story, StoryMember
    except ImportError as error:
        return f"no stories ({error})"
    ids = [group[0] for group in singletons]
    groups, k = [], 0
    while k + 1 < len(ids):
        take = rng.randint(2, 6)
        groups.append(ids[k : k + take])
        k += take
    try:
        with transaction.atomic():
            info = {a.pk: a for a in Article.objects.filter(pk__in=ids).select_related("source")}
            stories = Story.objects.bulk_create(
                [
                    Story(
                        title=info[g[0]].title,
                        representative_id=g[0],
                        first_seen=min(info[i].published_at for i in g),
                        last_seen=max(info[i].published_at for i in g),
                        article_count=len(g),
                        publisher_count=len({info[i].source_id for i in g}),
                        country_count=len({info[i].source.country for i in g}),
                    )
                    for g in groups
                ]
            )
            StoryMember.objects.bulk_create(
                [
                    StoryMember(article_id=i, story_id=s.pk, similarity=0.8)
                    for s, g in zip(stories, groups, strict=True)
                    for i in g
                ]
            )
    except Exception as error:  # noqa: BLE001 - the stories app is still changing; pages render without
        return f"no stories ({type(error).__name__}: {error})"
    return f"{len(groups)} stories"


def _build_vector_index() -> str:
    try:
        from newsdesk.stories import index
    except ImportError as error:
        return f"no vector index ({error})"
    try:
        return f"vector index of {index.rebuild()} articles"
    except Exception as error:  # noqa: BLE001
        return f"no vector index ({type(error).__name__}: {error})"


def _prepare_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.web")
    parser.add_argument("step", choices=["prepare", "sessions"])
    parser.add_argument("--articles", type=int, default=0)
    parser.add_argument("--commenters", type=int, default=200)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsdesk.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    if args.step == "sessions":
        from bench.web_ingest import SESSIONS_FILE, make_sessions

        (Path(settings.DATA_DIR) / SESSIONS_FILE).write_text(json.dumps(make_sessions(args.commenters)))
        return
    # As `newsdesk up` prepares a data directory.
    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    info_file = Path(settings.DATA_DIR) / INFO_FILE
    if info_file.exists():
        print(f"reusing the articles generated in {settings.DATA_DIR}")
        return
    info = generate(args.articles, args.corpus, args.seed)
    info_file.write_text(json.dumps(info))


if __name__ == "__main__":
    _prepare_main(sys.argv[1:])
