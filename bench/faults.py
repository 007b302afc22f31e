"""`newsdesk bench faults`: the standing fault campaign (issue 12).

A 2,000-page ingest from the simulated publisher (bench/publisher.py) runs under the real
`newsdesk up` (web + 2 workers, the first running the scheduler, nginx in front when installed) on a fresh
SQLite file and on a throw-away PostgreSQL database, while its children are killed with
SIGKILL at random moments (a seeded plan: workers about 60%, the scheduler and the
gunicorn master about 20% each; each kill 4-12 s after the previous victim is back, so
that every kill's recovery is measured, not a restart storm). A load thread reads an
article page and the home page at a steady rate all along. When the kills are done the pipeline is left
to finish (or `--timeout` runs out), everything is stopped and the database is checked.

Figures, per database and (top level) the worse of the two:

- `lost`: publisher pages with no article (neither an article URL nor an alias);
- `duplicated`: extra articles for one page (two rows whose URLs name the same page);
- `not_enriched` / `not_placed`: articles without an Enrichment row / a StoryMember row;
- `max_resume_s`: the longest time from a kill to the work resuming. A kill has
  resumed once, at one poll (every 0.5 s), all of these hold:
  * the killed role is back: a new worker or scheduler process under `newsdesk up`, or
    for the web a new gunicorn master and the site's /robots.txt (never cached by
    nginx) answering 200 again;
  * everything that was RUNNING in the task queue when the kill landed is finished,
    judged by its work (its entries no longer pending, its articles enriched or placed,
    its feed polled after the kill), so a task lost with its worker counts until its
    work is done again, whoever redoes it;
  * worker kills: a worker id never seen before the kill has claimed a task (the
    replacement works), unless nothing is waiting in the queue;
  * worker and scheduler kills: the pipeline's progress (entries done + enrichments +
    story members) has grown since the kill, unless nothing is pending.
  A kill that never resumes counts from the kill to the end of the run. The figure also
  covers `max_stall_s`: the longest time, after the first kill, during which work was
  pending and the progress count did not move (work stranded by a kill that the per-kill
  conditions cannot see, e.g. a scheduler killed between leasing and queueing);
- `web_failed_pct`: requests of the load thread started within `--web-window` seconds
  after a web kill that got no 200 (status or connection error), in percent;
- `integrity_ok`: SQLite `PRAGMA integrity_check`, `foreign_key_check` and the FTS5
  index's own `integrity-check`; PostgreSQL amcheck (`bt_index_check` with
  heapallindexed on every B-tree index, `verify_heapam` on every table) when the
  extension can be created; on both, counts that must agree: search rows (SQLite meta
  table / PostgreSQL search vectors) vs articles, every article's URL among its
  aliases, every done entry pointing at an article.

Targets: the four counts 0, `max_resume_s` under 60, `web_failed_pct` under 1, integrity.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench import BBC_ARTICLES
from bench.publisher import Publisher, load_articles

DEFAULT_CORPUS = BBC_ARTICLES
TARGET_RESUME_S = 60.0
TARGET_WEB_FAILED_PCT = 1.0
POLL_S = 0.5
COUNT_KEYS = ("lost", "duplicated", "not_enriched", "not_placed")
TASKS_TABLE = "django_tasks_database_dbtaskresult"


def add_arguments(parser) -> None:
    parser.add_argument("--articles", type=int, default=2000, help="pages the publisher serves")
    parser.add_argument("--kills", type=int, default=30, help="SIGKILLs per database")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument(
        "--timeout",
        type=float,
        default=2400.0,
        help="seconds per database from the subscription to giving up on completion",
    )
    parser.add_argument("--keep", action="store_true", help="keep the data directories (and PostgreSQL's)")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument(
        "--min-gap", type=float, default=4.0, help="least seconds from the previous victim being back to the next kill"
    )
    parser.add_argument("--max-gap", type=float, default=12.0, help="most seconds (see --min-gap)")
    parser.add_argument("--web-rate", type=float, default=25.0, help="load thread requests per second")
    parser.add_argument(
        "--web-window",
        type=float,
        default=20.0,
        help="seconds after a web kill whose requests count for web_failed_pct",
    )
    parser.add_argument(
        "--pg-dir",
        type=Path,
        default=None,
        help="run the temporary PostgreSQL server in DIR (default: a temporary directory)",
    )


# --- Accounting (plain DB-API: sqlite3 or psycopg connections) -----------------------


def _rows(db, sql: str, params: tuple | list = ()) -> list[tuple]:
    """Rows of one query on sqlite3 or psycopg (both have `execute` on the connection);
    psycopg takes %s placeholders, sqlite3 ?."""
    if not isinstance(db, sqlite3.Connection):
        sql = sql.replace("?", "%s")
    return list(db.execute(sql, params).fetchall())


def _scalar(db, sql: str, params: tuple | list = ()) -> int:
    return int(_rows(db, sql, params)[0][0] or 0)


def page_number(url: str, base: str) -> int | None:
    """The publisher's page number in `url` (its /articles/N, any query), or None."""
    match = re.fullmatch(re.escape(base) + r"/articles/(\d+)/?(?:[?#].*)?", url)
    return int(match.group(1)) if match else None


def account(db, base: str, count: int) -> dict:
    """Lost, duplicated, not enriched and not placed articles for the publisher's pages
    0..count-1, read from the database. Why by URL: the page URL (or a tracking variant
    of it) is what every stored article of that page carries, as its URL or an alias."""
    pages: dict[int, set[int]] = {}
    stray: set[int] = set()
    for article_id, url in _rows(
        db, "SELECT id, url FROM articles_article UNION SELECT article_id, url FROM articles_articleurl"
    ):
        n = page_number(url, base)
        if n is None or not 0 <= n < count:
            stray.add(article_id)
        else:
            pages.setdefault(n, set()).add(article_id)
    stray -= set().union(*pages.values()) if pages else set()
    ours = set().union(*pages.values()) if pages else set()
    enriched = {row[0] for row in _rows(db, "SELECT article_id FROM articles_enrichment")}
    placed = {row[0] for row in _rows(db, "SELECT article_id FROM stories_storymember")}
    from_feed = _scalar(db, "SELECT count(*) FROM articles_article WHERE origin = 'feed'")
    return {
        "articles": len(ours),
        "lost": sum(1 for n in range(count) if n not in pages),
        "duplicated": sum(len(ids) - 1 for ids in pages.values()),
        "not_enriched": len(ours - enriched),
        "not_placed": len(ours - placed),
        "stray": len(stray),
        "from_feed": from_feed,
        "failed_entries": _scalar(db, "SELECT count(*) FROM sources_entry WHERE state = 'failed'"),
        "stuck_tasks": _scalar(db, f"SELECT count(*) FROM {TASKS_TABLE} WHERE status = 'RUNNING'"),
        "failed_tasks": _scalar(db, f"SELECT count(*) FROM {TASKS_TABLE} WHERE status = 'FAILED'"),
    }


@dataclass
class Snapshot:
    """What one poll sees of the pipeline."""

    entries: int = 0
    pending: int = 0
    articles: int = 0
    enriched: int = 0
    placed: int = 0
    ready: int = 0
    running: list[tuple[str, str, object]] = field(default_factory=list)  # (id, task_path, args_kwargs)
    worker_ids: set[str] = field(default_factory=set)  # of the RUNNING rows

    @property
    def progress(self) -> int:
        return self.entries - self.pending + self.enriched + self.placed

    @property
    def busy(self) -> bool:
        """Work is left: pages not yet processed, articles not enriched or not placed."""
        return bool(self.pending or self.enriched < self.articles or self.placed < self.articles or self.ready)

    def complete(self, count: int) -> bool:
        return self.entries >= count and not self.busy


def snapshot(db) -> Snapshot:
    """One poll: counts and the queue's running tasks (a few cheap queries)."""
    snap = Snapshot(
        entries=_scalar(db, "SELECT count(*) FROM sources_entry"),
        pending=_scalar(db, "SELECT count(*) FROM sources_entry WHERE state = 'pending'"),
        articles=_scalar(db, "SELECT count(*) FROM articles_article"),
        enriched=_scalar(db, "SELECT count(*) FROM articles_enrichment"),
        placed=_scalar(db, "SELECT count(*) FROM stories_storymember"),
        ready=_scalar(db, f"SELECT count(*) FROM {TASKS_TABLE} WHERE status = 'READY'"),
    )
    for task_id, path, args, workers in _rows(
        db, f"SELECT id, task_path, args_kwargs, worker_ids FROM {TASKS_TABLE} WHERE status = 'RUNNING'"
    ):
        snap.running.append((str(task_id), path, _json(args)))
        snap.worker_ids.update(_json(workers) or [])
    return snap


def _json(value):
    return json.loads(value) if isinstance(value, (str, bytes)) else value


def _utc(value) -> datetime | None:
    """A datetime column as an aware UTC datetime (SQLite gives text, psycopg datetimes)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def work_done(db, task_path: str, args_kwargs: dict, since: datetime) -> bool:
    """Whether the work of one task is done, whoever did it: what "resumed" means for a
    task that was running when its worker was killed."""
    args = (args_kwargs or {}).get("args") or []
    name = task_path.rsplit(".", 1)[-1]
    if name == "fetch_feed_task":
        rows = _rows(db, "SELECT last_fetched_at FROM sources_feed WHERE id = ?", [args[0]])
        if not rows:  # the feed is gone: nothing left to do
            return True
        when = _utc(rows[0][0])
        return when is not None and when > since
    ids = [int(i) for i in (args[0] if args else [])]
    if not ids:
        return True
    marks = ",".join("?" * len(ids))
    if name == "process_entries_task":
        sql = f"SELECT count(*) FROM sources_entry WHERE id IN ({marks}) AND state = 'pending'"
    elif name == "enrich_articles_task":
        sql = (
            f"SELECT count(*) FROM articles_article a WHERE a.id IN ({marks}) AND NOT EXISTS "
            "(SELECT 1 FROM articles_enrichment e WHERE e.article_id = a.id)"
        )
    elif name == "place_in_stories_task":
        sql = (
            f"SELECT count(*) FROM articles_article a WHERE a.id IN ({marks}) AND EXISTS "
            "(SELECT 1 FROM articles_enrichment e WHERE e.article_id = a.id) AND NOT EXISTS "
            "(SELECT 1 FROM stories_storymember m WHERE m.article_id = a.id)"
        )
    else:
        return True  # a task this benchmark does not know: nothing to judge it by
    return _scalar(db, sql, ids) == 0


# --- Integrity -------------------------------------------------------------------------


def consistency(db) -> dict:
    """Counts that must agree in any committed state of the schema."""
    orphan_urls = _scalar(
        db,
        "SELECT count(*) FROM articles_article a WHERE NOT EXISTS "
        "(SELECT 1 FROM articles_articleurl u WHERE u.url = a.url AND u.article_id = a.id)",
    )
    done_without_article = _scalar(db, "SELECT count(*) FROM sources_entry WHERE state = 'done' AND article_id IS NULL")
    return {"articles_without_own_alias": orphan_urls, "done_entries_without_article": done_without_article}


def sqlite_integrity(path: Path) -> dict:
    """PRAGMA integrity_check and foreign_key_check, FTS5's integrity-check, count checks.
    Run once every process has stopped (the FTS check takes the write lock)."""
    db = sqlite3.connect(path, timeout=60)
    try:
        check = [row[0] for row in db.execute("PRAGMA integrity_check").fetchall()]
        foreign = db.execute("PRAGMA foreign_key_check").fetchall()
        try:
            db.execute("INSERT INTO search_article_fts(search_article_fts, rank) VALUES ('integrity-check', 1)")
            fts = "ok"
        except sqlite3.DatabaseError as error:
            fts = str(error)
        result = {
            "integrity_check": "ok" if check == ["ok"] else "; ".join(check[:5]),
            "foreign_key_violations": len(foreign),
            "fts_check": fts,
            "search_rows_missing": _scalar(
                db,
                "SELECT count(*) FROM articles_article a WHERE NOT EXISTS "
                "(SELECT 1 FROM search_article_meta m WHERE m.id = a.id)",
            ),
            **consistency(db),
        }
    finally:
        db.close()
    result["ok"] = (
        result["integrity_check"] == "ok"
        and result["fts_check"] == "ok"
        and not any(
            result[k]
            for k in (
                "foreign_key_violations",
                "search_rows_missing",
                "articles_without_own_alias",
                "done_entries_without_article",
            )
        )
    )
    return result


def postgres_integrity(url: str, admin_url: str | None) -> dict:
    """amcheck (as the superuser at `admin_url`, when given and allowed) and count checks."""
    import psycopg

    result: dict = {}
    if admin_url:
        try:
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute("CREATE EXTENSION IF NOT EXISTS amcheck")
                indexes = admin.execute(
                    "SELECT c.oid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                    "JOIN pg_am a ON a.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE a.amname = 'btree' AND n.nspname = 'public' AND c.relpersistence != 't'"
                ).fetchall()
                for (index,) in indexes:
                    admin.execute("SELECT bt_index_check(%s::regclass, true)", [index])
                tables = admin.execute(
                    "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n "
                    "ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'"
                ).fetchall()
                corrupt = sum(
                    admin.execute("SELECT count(*) FROM verify_heapam(%s::regclass)", [t]).fetchone()[0]
                    for (t,) in tables
                )
                result.update(
                    amcheck="ok" if not corrupt else f"{corrupt} heap problems",
                    btree_indexes_checked=len(indexes),
                    tables_checked=len(tables),
                )
        except (psycopg.errors.InsufficientPrivilege, psycopg.errors.UndefinedFile) as error:
            result["amcheck"] = f"not run: {str(error).strip()[:200]}"  # no right to it, or not installed
        except psycopg.Error as error:
            result["amcheck"] = f"failed: {str(error).strip()[:300]}"
    else:
        result["amcheck"] = "not run (no superuser connection)"
    with psycopg.connect(url, autocommit=True) as db:
        result["search_rows_missing"] = _scalar(db, "SELECT count(*) FROM articles_article WHERE search_vector IS NULL")
        result.update(consistency(db))
    result["ok"] = (result["amcheck"] in ("ok",) or result["amcheck"].startswith("not run")) and not any(
        result[k] for k in ("search_rows_missing", "articles_without_own_alias", "done_entries_without_article")
    )
    return result


# --- The kill plan and the processes of `newsdesk up` -----------------------------------


def kill_plan(kills: int, seed: int, min_gap: float, max_gap: float) -> list[tuple[float, str]]:
    """(seconds after the previous kill, role) for each kill, the first counted from the
    first stored article: roles shuffled from a fixed mix so that every role is hit at
    every seed; gaps uniform in [min_gap, max_gap]."""
    rng = random.Random(seed)
    web = max(1, round(kills * 0.2)) if kills >= 3 else 0
    scheduler = max(1, round(kills * 0.2)) if kills >= 3 else 0
    roles = ["web"] * web + ["scheduler"] * scheduler + ["worker"] * (kills - web - scheduler)
    rng.shuffle(roles)
    return [(round(rng.uniform(min_gap, max_gap), 2), role) for role in roles]


def children(pid: int) -> list[tuple[int, list[str]]]:
    """(pid, argv) of the live children of `pid`, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            state = stat.rsplit(")", 1)[1].split()[0]
            if ppid != pid or state == "Z":
                continue
            argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except (OSError, IndexError, ValueError):
            continue
        found.append((int(entry.name), [a for a in argv if a]))
    return found


def role_of(argv: list[str]) -> str | None:
    """ "worker", "scheduler", "web" (the gunicorn master), "front" (nginx) or None. Under
    `newsdesk up` the scheduler is a thread of worker 1 (`worker --scheduler`): that
    process is the scheduler's role, and killing it kills a worker too."""
    if any("gunicorn" in a for a in argv[:3]):
        return "web"
    if argv and (argv[0].startswith("nginx:") or Path(argv[0]).name == "nginx"):  # it rewrites its argv
        return "front"
    if "newsdesk" in argv and ("scheduler" in argv or "--scheduler" in argv):
        return "scheduler"  # also worker 1 running the scheduler as a thread: killing it kills both
    if "newsdesk" in argv and "worker" in argv:
        return "worker"
    return None


def roles(up_pid: int) -> dict[str, list[tuple[int, list[str]]]]:
    found: dict[str, list[tuple[int, list[str]]]] = {}
    for pid, argv in children(up_pid):
        if role := role_of(argv):
            found.setdefault(role, []).append((pid, argv))
    return found


def http_ok(address: str, path: str = "/robots.txt", timeout: float = 5.0) -> bool:
    host, port = address.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        return conn.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


# --- The load thread -----------------------------------------------------------------


class WebLoad(threading.Thread):
    """GETs at a steady rate, alternating the home page and an article page, one new
    connection each (a kill shows as refused or reset connections, not one stale
    keep-alive). Records (start time, ok) per request; missed slots are skipped, never
    bursted, so the count stays bounded by rate x duration."""

    def __init__(self, address: str, rate: float, article_ids: list[int]) -> None:
        super().__init__(daemon=True)
        self.address = address
        self.rate = rate
        self.article_ids = article_ids or [1]
        self.results: list[tuple[float, bool]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        start, n = time.monotonic(), 0
        while not self.stopping.is_set():
            due = start + n / self.rate
            if (wait := due - time.monotonic()) > 0:
                self.stopping.wait(wait)
                continue
            n = max(n + 1, int((time.monotonic() - start) * self.rate))
            path = "/" if n % 2 else f"/articles/{self.article_ids[n // 2 % len(self.article_ids)]}/"
            began = time.monotonic()
            self.results.append((began, http_ok(self.address, path, timeout=10)))

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=15)


def web_failures(results: list[tuple[float, bool]], kill_times: list[float], window: float) -> tuple[int, int]:
    """(failed, total) among requests started within `window` s after any of `kill_times`."""
    inside = [ok for began, ok in results if any(0 <= began - t <= window for t in kill_times)]
    return sum(1 for ok in inside if not ok), len(inside)


# --- One kill and its resumption --------------------------------------------------------


@dataclass
class Kill:
    number: int
    role: str
    pid: int
    at: float  # monotonic
    wall: datetime
    progress: int
    held: list[tuple[str, str, object]]
    known_workers: set[str]
    busy: bool
    expected_workers: int = 2
    back_s: float | None = None  # the role back (process replaced; a worker claiming work)
    resumed_s: float | None = None
    waiting: set[str] = field(default_factory=set)


def resume_conditions(kill: Kill, snap: Snapshot, found: dict, db, site: str) -> set[str]:
    """The conditions of the module docstring that do not hold yet for `kill`; `site` is
    the public HOST:PORT."""
    waiting = set()
    if kill.role == "worker":
        pids = {pid for pid, _ in found.get("worker", [])}
        if kill.pid in pids or len(pids) < kill.expected_workers:
            waiting.add("role")
        if snap.ready and not snap.worker_ids - kill.known_workers:
            waiting.add("claim")
    elif kill.role == "scheduler":
        pids = {pid for pid, _ in found.get("scheduler", [])}
        if not pids - {kill.pid}:
            waiting.add("role")
    else:  # through the public address: robots.txt is never in nginx's microcache
        masters = [pid for pid, _ in found.get("web", []) if pid != kill.pid]
        if not masters or not http_ok(site, "/robots.txt", timeout=2):
            waiting.add("role")
    if kill.role != "web":
        held_open = [t for t in kill.held if not work_done(db, t[1], t[2], kill.wall)]
        if held_open:
            waiting.add("held")
        if kill.busy and snap.busy and snap.progress <= kill.progress:
            waiting.add("progress")
    return waiting


# --- One database ----------------------------------------------------------------------


def _env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {
        **os.environ,
        "NEWSDESK_DATA_DIR": str(data_dir),
        "NEWSDESK_FETCH_ALLOW_HOSTS": "127.0.0.1",
        "NEWSDESK_FETCH_HOST_DELAY": "0",  # as bench ingest: the publisher is ours
        "NEWSDESK_DEFAULT_SOURCES": "0",
        "NEWSDESK_LOG_LEVEL": "WARNING",
    }
    env.pop("DATABASE_URL", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def _connect(data_dir: Path, database_url: str | None):
    if database_url:
        import psycopg

        return psycopg.connect(database_url, autocommit=True)
    return sqlite3.connect(f"file:{data_dir / 'newsdesk.sqlite3'}?mode=ro", uri=True, timeout=30)


def _start_up(env: dict, bind: str, log: Path) -> subprocess.Popen:
    """`newsdesk up` in a session of its own, so that the end of the run can stop its
    whole group and nothing else."""
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "newsdesk", "up", "--bind", bind, "--workers", "2", "--web-workers", "2"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def _stop_up(up: subprocess.Popen) -> None:
    if up.poll() is None:
        up.send_signal(signal.SIGTERM)
        try:
            up.wait(timeout=40)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(up.pid, signal.SIGKILL)  # whatever of its group is left (the session is ours)
    except ProcessLookupError:
        pass
    up.wait()


def _wait(what: str, check, timeout: float, up: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if up.poll() is not None:
            raise RuntimeError(
                f"newsdesk up exited with {up.returncode} while waiting for {what}:\n"
                + log.read_text(errors="replace")[-3000:]
            )
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not happen within {timeout:.0f} s")
        time.sleep(0.5)


def run_database(
    kind: str,
    *,
    corpus: Path,
    articles: int,
    kills: int,
    seed: int,
    timeout: float,
    keep: bool,
    min_gap: float,
    max_gap: float,
    web_rate: float,
    web_window: float,
    database_url: str | None = None,
    admin_url: str | None = None,
) -> dict:
    """The whole campaign on one database; returns its figures."""
    from newsdesk.sources.opml import OpmlFeed, build_opml
    from newsdesk.web.front import free_port, nginx_binary

    publisher = Publisher(load_articles(corpus), articles)
    # A worker killed mid-request resets its connection: expected here, not worth a traceback.
    publisher.httpd.handle_error = lambda request, client_address: None
    publisher.start()
    data_dir = Path(tempfile.mkdtemp(prefix=f"newsdesk-bench-faults-{kind}-"))
    env = _env(data_dir, database_url)
    log = data_dir / "up.log"
    bind = f"127.0.0.1:{free_port()}"
    newsdesk = [sys.executable, "-m", "newsdesk"]
    print(f"\n[{kind}] publisher {publisher.base}: {articles} pages; data in {data_dir}; site on {bind}", flush=True)
    subprocess.run([*newsdesk, "migrate", "--verbosity", "0"], env=env, check=True)
    opml = data_dir / "bench.opml"
    opml.write_bytes(
        build_opml(OpmlFeed(url, f"Bench feed {k}", publisher.base, None) for k, url in enumerate(publisher.feed_urls))
    )
    up = _start_up(env, bind, log)
    db = load = None
    try:
        _wait("the site answering", lambda: http_ok(bind, "/"), 180, up, log)
        if nginx_binary() and os.environ.get("NEWSDESK_FRONT", "auto") != "gunicorn":
            _wait("nginx in front", lambda: "front" in roles(up.pid), 120, up, log)
        front = "front" in roles(up.pid)
        subprocess.run([*newsdesk, "import-opml", str(opml)], env=env, check=True, stdout=subprocess.DEVNULL)
        started = time.monotonic()
        db = _connect(data_dir, database_url)
        _wait("the first stored article", lambda: snapshot(db).articles > 0, 300, up, log)
        print(
            f"[{kind}] first article after {time.monotonic() - started:.1f} s; "
            f"{'nginx + gunicorn' if front else 'gunicorn'}; {kills} kills follow",
            flush=True,
        )
        ids = [row[0] for row in _rows(db, "SELECT id FROM articles_article ORDER BY id LIMIT 20")]
        load = WebLoad(bind, web_rate, ids)
        load.start()
        outcome = _campaign(
            kind,
            db,
            up,
            log,
            kill_plan(kills, seed, min_gap, max_gap),
            seed=seed,
            count=articles,
            started=started,
            timeout=timeout,
            site=bind,
        )
        load.stop()
        web_kills = [k.at for k in outcome["kills"] if k.role == "web"]
        failed, total = web_failures(load.results, web_kills, web_window)
        all_failed = sum(1 for _, ok in load.results if not ok)
        figures = account(db, publisher.base, articles)
        db.close()
        db = None
    finally:
        if load is not None and load.is_alive():
            load.stop()
        if db is not None:
            db.close()
        _stop_up(up)
        publisher.stop()
    integrity = (
        postgres_integrity(database_url, admin_url) if database_url else sqlite_integrity(data_dir / "newsdesk.sqlite3")
    )
    if not keep:
        shutil.rmtree(data_dir, ignore_errors=True)
    made = outcome["kills"]
    resumes = [k.resumed_s for k in made]
    result = {
        **figures,
        "kills": len(made),
        "kills_by_role": {r: sum(1 for k in made if k.role == r) for r in ("worker", "scheduler", "web")},
        "kills_while_busy": sum(1 for k in made if k.busy),
        "unresumed": sum(1 for r in resumes if r is None),
        "resume_p50_s": _median([r for r in resumes if r is not None]),
        "max_kill_resume_s": outcome["max_kill_resume_s"],
        "max_back_s": max((k.back_s for k in made if k.back_s is not None), default=None),
        "max_stall_s": outcome["max_stall_s"],
        "max_resume_s": round(max(outcome["max_kill_resume_s"], outcome["max_stall_s"]), 1),
        "web_requests": total,
        "web_failed": failed,
        "web_failed_pct": round(100 * failed / total, 2) if total else 0.0,
        "web_failed_outside_kills": all_failed - failed,
        "complete": outcome["complete"],
        "seconds": outcome["seconds"],
        "drain_s": outcome["drain_s"],
        "integrity_ok": integrity["ok"],
        "integrity": integrity,
        "front": "nginx" if front else "gunicorn",
        # [seconds after the first article, role, tasks running, role back after, resumed after]
        "kill_log": [
            [round(k.at - outcome["first_article"], 1), k.role, len(k.held), k.back_s, k.resumed_s] for k in made
        ],
    }
    _print_summary(kind, result)
    return result


def _median(values: list[float]) -> float | None:
    return round(sorted(values)[len(values) // 2], 1) if values else None


def _campaign(
    kind: str,
    db,
    up: subprocess.Popen,
    log: Path,
    plan: list[tuple[float, str]],
    *,
    seed: int,
    count: int,
    started: float,
    timeout: float,
    site: str,
) -> dict:
    """Kill on schedule, follow every kill to its resumption, then wait for completion."""
    rng = random.Random(seed + 1)
    begin = time.monotonic()
    made: list[Kill] = []
    seen_workers: set[str] = set()
    last = snapshot(db)
    last_progress, last_move = last.progress, begin
    max_stall = 0.0
    last_report = 0.0
    complete = False
    while True:
        now = time.monotonic()
        if up.poll() is not None:
            raise RuntimeError(f"newsdesk up exited with {up.returncode}:\n" + log.read_text(errors="replace")[-3000:])
        snap = snapshot(db)
        found = roles(up.pid)
        for kill in made:
            if kill.resumed_s is None:
                kill.waiting = resume_conditions(kill, snap, found, db, site)
                if kill.back_s is None and not kill.waiting & {"role", "claim"}:
                    kill.back_s = round(time.monotonic() - kill.at, 1)
                if not kill.waiting:
                    kill.resumed_s = round(time.monotonic() - kill.at, 1)
                    print(
                        f"[{kind}]   kill {kill.number} ({kill.role}) resumed after {kill.resumed_s:.1f} s "
                        f"(role back after {kill.back_s} s)",
                        flush=True,
                    )
        seen_workers |= snap.worker_ids
        if snap.progress != last_progress or not snap.busy:
            last_progress, last_move = snap.progress, now
        elif made:
            max_stall = max(max_stall, now - max(last_move, made[0].at))
        if len(made) < len(plan) and _due(made, begin, now, plan[len(made)][0]):
            kill = _kill(len(made) + 1, plan[len(made)][1], found, snap, seen_workers, rng)
            if kill is not None:
                made.append(kill)
                print(
                    f"[{kind}] kill {kill.number}/{len(plan)} at {now - started:.1f} s: {kill.role} "
                    f"pid {kill.pid} ({len(kill.held)} task(s) running, "
                    f"{'busy' if kill.busy else 'idle'})",
                    flush=True,
                )
        if now - last_report >= 10:
            last_report = now
            print(
                f"[{kind}] t={now - started:.0f}s entries {snap.entries - snap.pending}/{count} done, "
                f"articles {snap.articles}, enriched {snap.enriched}, placed {snap.placed}, "
                f"queue ready {snap.ready} running {len(snap.running)}, kills {len(made)}/{len(plan)}",
                flush=True,
            )
        kills_done = len(made) == len(plan)
        if kills_done and snap.complete(count) and all(k.resumed_s is not None for k in made):
            complete = True
            break
        if now - started > timeout:
            print(
                f"[{kind}] timeout after {timeout:.0f} s; waiting on: "
                + ", ".join(f"kill {k.number} {sorted(k.waiting)}" for k in made if k.resumed_s is None),
                flush=True,
            )
            break
        time.sleep(POLL_S)
    end = time.monotonic()
    # A kill that never resumed counts from the kill to the end of the run.
    kill_resumes = [k.resumed_s if k.resumed_s is not None else end - k.at for k in made]
    return {
        "kills": made,
        "first_article": begin,
        "complete": complete,
        "seconds": round(end - started, 1),
        "drain_s": round(end - made[-1].at, 1) if made else 0.0,
        "max_kill_resume_s": round(max(kill_resumes, default=0.0), 1),
        "max_stall_s": round(max_stall, 1),
    }


def _due(made: list[Kill], begin: float, now: float, gap: float) -> bool:
    """The next kill comes `gap` seconds after the previous victim's role is back (the
    first one `gap` after the first article): kills faster than a worker reloads its
    models would only measure a restart storm, never the recovery of one kill."""
    if not made:
        return now - begin >= gap
    last = made[-1]
    return last.back_s is not None and now - (last.at + last.back_s) >= gap


def _kill(
    number: int, role: str, found: dict, snap: Snapshot, seen_workers: set[str], rng: random.Random
) -> Kill | None:
    """SIGKILL one process of `role` (None, to retry at the next poll, while none runs)."""
    candidates = sorted(pid for pid, _ in found.get(role, []))
    if not candidates:
        return None
    pid = rng.choice(candidates)
    kill = Kill(
        number=number,
        role=role,
        pid=pid,
        at=time.monotonic(),
        wall=datetime.now(UTC),
        progress=snap.progress,
        held=list(snap.running),
        known_workers=set(seen_workers),
        busy=snap.busy,
        expected_workers=max(1, len(found.get("worker", []))),
    )
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return None
    return kill


def _print_summary(kind: str, r: dict) -> None:
    print(
        f"[{kind}] lost {r['lost']}, duplicated {r['duplicated']}, not enriched {r['not_enriched']}, "
        f"not placed {r['not_placed']} (articles {r['articles']}, {r['from_feed']} from feed content, "
        f"{r['failed_entries']} failed entries, {r['stuck_tasks']} tasks left RUNNING)"
    )
    print(
        f"[{kind}] {r['kills']} kills {r['kills_by_role']}; resume p50 {r['resume_p50_s']} s, "
        f"max {r['max_kill_resume_s']} s, longest stall {r['max_stall_s']} s, {r['unresumed']} never resumed "
        f"(target under {TARGET_RESUME_S:.0f} s)"
    )
    print(
        f"[{kind}] web: {r['web_failed']}/{r['web_requests']} requests failed after web kills "
        f"({r['web_failed_pct']}%, target under {TARGET_WEB_FAILED_PCT:.0f}%), "
        f"{r['web_failed_outside_kills']} failed at other times"
    )
    print(
        f"[{kind}] integrity {'ok' if r['integrity_ok'] else 'FAILED'}: {json.dumps(r['integrity'])}; "
        f"complete {r['complete']} after {r['seconds']} s",
        flush=True,
    )


# --- Both databases ------------------------------------------------------------------


def worst(per_db: dict[str, dict]) -> dict:
    """The top-level figures: the worse of the databases run (the fewest kills)."""
    runs = list(per_db.values())
    if not runs:
        return {}
    top = {key: max(r[key] for r in runs) for key in (*COUNT_KEYS, "max_resume_s", "web_failed_pct")}
    top["kills"] = min(r["kills"] for r in runs)
    top["integrity_ok"] = all(r["integrity_ok"] for r in runs)
    top["complete"] = all(r["complete"] for r in runs)
    return top


def targets_met(top: dict, kills: int) -> bool:
    return (
        all(top[k] == 0 for k in COUNT_KEYS)
        and top["max_resume_s"] < TARGET_RESUME_S
        and top["web_failed_pct"] < TARGET_WEB_FAILED_PCT
        and top["integrity_ok"]
        and top["kills"] >= kills
    )


class _Postgres:
    """A scratch database: on the DATABASE_URL server when it names PostgreSQL (its role
    needs CREATEDB; amcheck only if it may create the extension), else on a durable
    throw-away server of our own (devtools/services.py's LocalPostgres)."""

    NAME = "newsdesk_bench_faults"

    def __init__(self, pg_dir: Path | None, keep: bool) -> None:
        self.pg_dir, self.keep = pg_dir, keep
        self.local = None
        self.scratch: Path | None = None
        self.admin_url = ""
        self.superuser_url: str | None = None

    def __enter__(self) -> _Postgres:
        from devtools.services import LocalPostgres

        url = os.environ.get("DATABASE_URL", "")
        if url.startswith(("postgres://", "postgresql://")):
            self.admin_url = url
        else:
            root = self.pg_dir or Path(tempfile.mkdtemp(prefix="newsdesk-bench-faults-pg-"))
            self.scratch = None if (self.pg_dir or self.keep) else root
            self.local = LocalPostgres(root, durable=True).start()
            self.admin_url = self.local.url()
            self.superuser_url = f"postgres://postgres@127.0.0.1:{self.local.port}/{self.NAME}"
        if self.superuser_url is None:  # the DATABASE_URL role: amcheck if it may
            self.superuser_url = self.url
            print(
                f"temporary PostgreSQL {self.local.bindir.parent.name} on 127.0.0.1:{self.local.port} in {root}",
                flush=True,
            )
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.NAME}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{self.NAME}"')
        return self

    @property
    def url(self) -> str:
        from urllib.parse import urlsplit, urlunsplit

        return urlunsplit(urlsplit(self.admin_url)._replace(path="/" + self.NAME))

    def __exit__(self, *exc) -> None:
        if not self.keep:
            import psycopg

            try:
                with psycopg.connect(self.admin_url, autocommit=True) as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{self.NAME}" WITH (FORCE)')
            except psycopg.Error:
                pass
        if self.local:
            self.local.stop()
        if self.scratch:
            shutil.rmtree(self.scratch, ignore_errors=True)


def run(
    *,
    articles: int = 2000,
    kills: int = 30,
    seed: int = 12,
    database: str = "both",
    timeout: float = 2400.0,
    keep: bool = False,
    corpus: Path = DEFAULT_CORPUS,
    min_gap: float = 4.0,
    max_gap: float = 12.0,
    web_rate: float = 25.0,
    web_window: float = 20.0,
    pg_dir: Path | None = None,
    **_options,
) -> dict:
    """Run the campaign on the chosen databases; the dict is the JSON last line."""
    if not corpus.is_dir():
        raise SystemExit(f"{corpus} does not exist (the corpora live in ../shared beside the repo)")
    common = dict(
        corpus=corpus,
        articles=articles,
        kills=kills,
        seed=seed,
        timeout=timeout,
        keep=keep,
        min_gap=min_gap,
        max_gap=max_gap,
        web_rate=web_rate,
        web_window=web_window,
    )
    began = time.monotonic()
    per_db: dict[str, dict] = {}
    if database in ("sqlite", "both"):
        per_db["sqlite"] = run_database("sqlite", **common)
    if database in ("postgres", "both"):
        with _Postgres(pg_dir, keep) as server:
            per_db["postgres"] = run_database(
                "postgres", database_url=server.url, admin_url=server.superuser_url, **common
            )
    top = worst(per_db)
    result = {
        **top,
        "targets_met": targets_met(top, kills),
        "articles": articles,
        "seed": seed,
        "bench_seconds": round(time.monotonic() - began),
        **per_db,
    }
    print(
        "\n"
        + "  ".join(
            f"{key}={result.get(key)}"
            for key in (*COUNT_KEYS, "max_resume_s", "web_failed_pct", "kills", "integrity_ok", "targets_met")
        )
    )
    return result
