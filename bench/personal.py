"""`newsdesk bench personal`: the personal layer at scale (issue 16).

On a generated site (bench/personal_data.py: 1,000,000 articles and 100,000 readers with
about 20 follows and 200 opened articles each by default; `--articles`/`--readers` scale
it down, `--data-dir` keeps it for the next run), on SQLite or, with `--database
postgresql`, on a throw-away PostgreSQL server as `newsdesk bench scale` starts it:

1. For You: GET /reading/for-you/ as signed-in readers (each request a different
   reader's session cookie, so no page cache can serve it; the response must be theirs:
   `private, no-store`, their name in the page, the nginx front's X-Cache BYPASS), from
   `--connections` clients in a closed loop against the web server `newsdesk up` runs
   (nginx in front of gunicorn when nginx is installed, `--web-workers` processes);
2. unread counts: GET /api/reading/unread/counts with each reader's API token (every
   followed thing's unread or new count, as a reader app polls it), and the Following
   page (/reading/following/, the same counts in a page) for comparison;
3. fan-out: the newest 2% of articles (at least 1,000) arrive for alerts: what the
   scheduler's pass does (newsdesk/reader/briefings/schedule.py: plan batches, queue one
   fan-out task each) against `--workers` real `newsdesk worker` processes, timed from
   the first plan to the last batch done;
4. briefing emails: every reader's briefing falls due at once; the mail planner task is
   queued as the scheduler queues it and the workers plan, render and send every email
   through Django's SMTP backend to an SMTP server on 127.0.0.1 (aiosmtpd in this
   process, counting what arrives), timed from queueing the planner to the last email
   received.

The last line is JSON: `foryou_p99_ms`, `unread_p99_ms`, `fanout_articles_per_s`,
`briefing_emails_minutes`, `database`, with the scale (`articles`, `readers`), memory
(PSS of the web server, the workers, the database server) and the database's size.

    newsdesk bench personal [--database sqlite|postgresql] [--articles N] [--readers N] [--data-dir DIR]
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import suppress
from pathlib import Path

from bench import BBC_ARTICLES
from bench.footprint import process_tree, pss_kb
from bench.web import Children, _group_stats, _sigterm_as_interrupt, _wait_http, _wait_settled, site_env, start_embedder

TARGETS = {  # issue 16, at 1,000,000 articles and 100,000 readers
    "foryou_p99_ms": ("<", 100.0),
    "unread_p99_ms": ("<", 20.0),
    "fanout_articles_per_s": (">=", 1000.0),
    "briefing_emails_minutes": ("<", 10.0),
}
ISSUE_SCALE = (1_000_000, 100_000)
PHASES = ("foryou", "unread", "fanout", "mail")
DATABASE_NAME = "newsdesk_bench_personal"
WARM = 20  # readers whose requests warm the server and are not counted


def add_arguments(parser) -> None:
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--articles", type=int, default=ISSUE_SCALE[0])
    parser.add_argument("--readers", type=int, default=ISSUE_SCALE[1])
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="generate into DIR and keep it; a site generated there before is reused "
        "(PostgreSQL: the server's cluster is kept in DIR/postgres)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    parser.add_argument(
        "--requests",
        type=int,
        default=500,
        help="For You pages and unread counts measured, each for a different reader",
    )
    parser.add_argument("--connections", type=int, default=2, help="clients requesting at once (closed loop)")
    parser.add_argument(
        "--web-workers",
        type=int,
        default=int(os.environ.get("NEWSDESK_WEB_WORKERS", "2")),
        help="gunicorn worker processes, as `newsdesk up --web-workers`",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("NEWSDESK_WORKERS", "2")),
        help="task worker processes, as `newsdesk up --workers`",
    )
    parser.add_argument("--phases", default=",".join(PHASES), help=f"which parts to run, of {','.join(PHASES)}")
    parser.add_argument(
        "--corpus", type=Path, default=BBC_ARTICLES, help="BBC articles for text (a word list when absent)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--mail-timeout", type=float, default=3600.0, help="seconds the email phase may take before it is cut short"
    )


# --- HTTP clients ---------------------------------------------------------------------------


class Client:
    """One keep-alive connection to the site, as a browser tab keeps one."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn: http.client.HTTPConnection | None = None

    def get(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes, float]:
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            began = time.perf_counter()
            try:
                self.conn.request("GET", path, headers=headers)
                response = self.conn.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException):
                self.close()
                if attempt:
                    raise
                continue
            elapsed = (time.perf_counter() - began) * 1000
            if response.getheader("connection", "").lower() == "close":
                self.close()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, body, elapsed
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def _percentile(values: list[float], q: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def closed_loop(port: int, requests: list[tuple[str, dict[str, str], object]], connections: int) -> list[tuple]:
    """Each request (path, headers, what to check) once, `connections` at a time; the
    results in order: (status, headers, body, ms, check)."""
    results: list[tuple | None] = [None] * len(requests)
    lock = threading.Lock()
    position = iter(range(len(requests)))
    failures: list[BaseException] = []

    def work() -> None:
        client = Client(port)
        try:
            while True:
                with lock:
                    index = next(position, None)
                if index is None:
                    return
                path, headers, check = requests[index]
                status, got, body, ms = client.get(path, headers)
                results[index] = (status, got, body, ms, check)
        except BaseException as error:  # noqa: BLE001 - re-raised in the caller's thread
            failures.append(error)
        finally:
            client.close()

    threads = [threading.Thread(target=work, daemon=True) for _ in range(max(1, connections))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return [r for r in results if r is not None]


def _summarise(name: str, results: list[tuple], cpu_s: float, extra: dict) -> dict:
    times = [r[3] for r in results]
    statuses: dict[str, int] = {}
    for r in results:
        statuses[str(r[0])] = statuses.get(str(r[0]), 0) + 1
    figures = {
        f"{name}_p50_ms": round(_percentile(times, 50), 1),
        f"{name}_p90_ms": round(_percentile(times, 90), 1),
        f"{name}_p99_ms": round(_percentile(times, 99), 1),
        f"{name}_max_ms": round(max(times), 1),
        f"{name}_requests": len(results),
        f"{name}_statuses": statuses,
        f"{name}_server_cpu_ms": round(1000 * cpu_s / max(1, len(results)), 1),
        f"{name}_load_1min": round(os.getloadavg()[0], 2),  # the machine's, other jobs included
        **{f"{name}_{k}": v for k, v in extra.items()},
    }
    print(
        f"{name:>9}: p50 {figures[f'{name}_p50_ms']:7.1f} ms  p90 {figures[f'{name}_p90_ms']:7.1f} ms"
        f"  p99 {figures[f'{name}_p99_ms']:7.1f} ms  max {figures[f'{name}_max_ms']:7.1f} ms"
        f"  {len(results)} requests {statuses}, {figures[f'{name}_server_cpu_ms']:.1f} ms server CPU each"
        + "".join(f", {k} {v}" for k, v in extra.items()),
        flush=True,
    )
    return figures


# --- memory ---------------------------------------------------------------------------------


class Memory(threading.Thread):
    """Peak PSS (MB) of named process trees, sampled every second."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.roots: dict[str, list[int]] = {}
        self.peaks: dict[str, float] = {}
        self.halt = threading.Event()

    def watch(self, name: str, pids: list[int]) -> None:
        self.roots[name] = pids

    def forget(self, name: str) -> None:
        self.roots.pop(name, None)

    def sample(self) -> None:
        for name, roots in list(self.roots.items()):
            total = sum(pss_kb(pid) for root in roots for pid in process_tree(root)) / 1024
            self.peaks[name] = round(max(self.peaks.get(name, 0.0), total), 1)

    def run(self) -> None:
        while not self.halt.wait(1.0):
            self.sample()


# --- the SMTP server ------------------------------------------------------------------------


class Inbox:
    """aiosmtpd on 127.0.0.1, keeping for each message when it arrived, its Message-ID
    and whether it carries the one-click unsubscribe headers."""

    _ID = re.compile(rb"^Message-ID:\s*(\S+)", re.I | re.M)

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        from newsdesk.web.front import free_port

        self.arrivals: list[float] = []
        self.ids: set[bytes] = set()
        self.unsubscribe = 0
        self.recipients = 0
        self.bytes = 0
        self.lock = threading.Lock()
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port())
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        content = envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode()
        found = self._ID.search(content[:8192])
        with self.lock:
            self.arrivals.append(time.time())
            self.recipients += len(envelope.rcpt_tos)
            self.bytes += len(content)
            if found:
                self.ids.add(found.group(1))
            if b"List-Unsubscribe-Post:" in content[:8192]:
                self.unsubscribe += 1
        return "250 Message accepted for delivery"

    @property
    def port(self) -> int:
        return self.controller.port

    def start(self) -> Inbox:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def count(self) -> int:
        with self.lock:
            return len(self.arrivals)


# --- the benchmark --------------------------------------------------------------------------


def _step(children: Children, env: dict, work: Path, step: str, *args: str) -> dict:
    """A bench.personal_data step in a child process on the bench database; its JSON."""
    out = work / f"{step}.json"
    proc = children.start([sys.executable, "-m", "bench.personal_data", step, *args, "--out", str(out)], env=env)
    proc.wait()
    children.procs.remove(proc)
    if proc.returncode != 0:
        raise RuntimeError(f"bench.personal_data {step} failed (exit {proc.returncode})")
    return json.loads(out.read_text())


def run(
    *,
    database: str = "sqlite",
    articles: int = ISSUE_SCALE[0],
    readers: int = ISSUE_SCALE[1],
    data_dir: Path | None = None,
    keep: bool = False,
    requests: int = 500,
    connections: int = 2,
    web_workers: int = 2,
    workers: int = 2,
    phases: str = ",".join(PHASES),
    corpus: Path = BBC_ARTICLES,
    seed: int = 1,
    mail_timeout: float = 3600.0,
    **_ignored,
) -> dict:
    from django.core.management.base import CommandError

    chosen = [p.strip() for p in phases.split(",") if p.strip()]
    if unknown := set(chosen) - set(PHASES):
        raise CommandError(f"unknown phases {sorted(unknown)}: choose from {', '.join(PHASES)}")
    if readers < WARM + 2 or articles < 1000:
        raise CommandError(f"at least 1,000 articles and {WARM + 2} readers")
    started = time.perf_counter()
    load_before = os.getloadavg()
    temporary = data_dir is None
    data_dir = Path(data_dir or tempfile.mkdtemp(prefix="newsdesk-bench-personal-")).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="newsdesk-bench-personal-run-"))
    work.chmod(0o755)
    env = {
        **site_env(data_dir),
        "NEWSDESK_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "NEWSDESK_EMBEDDER": str(work / "embedder.sock"),  # started below, as `newsdesk up` starts it
    }
    children = Children()
    memory = Memory()
    memory.start()
    result: dict = {"database": database, "articles": articles, "readers": readers}
    server = None
    try:
        with _sigterm_as_interrupt():
            if database == "postgresql":
                from bench.scale import _Server

                server = _Server(data_dir / "postgres" if not temporary else None).__enter__()
                if not server.exists(DATABASE_NAME):
                    (data_dir / "bench-personal.json").unlink(missing_ok=True)
                    server.create(DATABASE_NAME)
                env["DATABASE_URL"] = server.url(DATABASE_NAME)
                if server.local is not None and server.local.process is not None:
                    memory.watch("postgres", [server.local.process.pid])
            options = {
                "articles": articles,
                "readers": readers,
                "seed": seed,
                "corpus": corpus,
                "requests": requests,
                "connections": connections,
                "web_workers": web_workers,
                "workers": workers,
                "mail_timeout": mail_timeout,
            }
            _start_embedder(env, children, memory)
            result.update(_benchmark(env, data_dir, work, children, memory, chosen, options))
    finally:
        children.stop_all()
        memory.halt.set()
        if server is not None:
            server.__exit__(None, None, None)
        shutil.rmtree(work, ignore_errors=True)
        from newsdesk.web import front

        front.remove_runtime(data_dir / "nginx")
        if temporary and not keep:
            shutil.rmtree(data_dir, ignore_errors=True)
        else:
            print(f"data directory kept: {data_dir}")
    result["memory_peak_pss_mb"] = memory.peaks
    result["load_before"] = [round(x, 2) for x in load_before]
    result["load_after"] = [round(x, 2) for x in os.getloadavg()]
    result["cpus"] = os.cpu_count()
    result["bench_seconds"] = round(time.perf_counter() - started)
    _report_targets(result)
    return result


def _start_embedder(env: dict, children: Children, memory: Memory) -> None:
    """The embedder of `newsdesk up` (the workers' warm-up asks it for nothing but waits
    for it); its memory is part of the deployment's."""
    memory.watch("embedder", [start_embedder(env, children).pid])


def _benchmark(
    env: dict, data_dir: Path, work: Path, children: Children, memory: Memory, phases: list, options: dict
) -> dict:
    result: dict = {}
    began = time.perf_counter()
    info = _step(
        children,
        env,
        work,
        "prepare",
        "--articles",
        str(options["articles"]),
        "--readers",
        str(options["readers"]),
        "--seed",
        str(options["seed"]),
        "--corpus",
        str(options["corpus"]),
    )
    result["prepare_seconds"] = round(time.perf_counter() - began)
    result["generate_seconds"] = info["generate_s"]
    result["site"] = {
        k: info[k]
        for k in (
            "days",
            "sources",
            "hashtags",
            "fresh",
            "follows_rows",
            "interests_rows",
            "read_marks_rows",
            "history_rows",
        )
        if k in info
    }
    if "foryou" in phases or "unread" in phases:
        result.update(_http_phases(env, data_dir, work, children, memory, phases, options))
    if "fanout" in phases or "mail" in phases:
        result.update(_worker_phases(env, work, children, memory, phases, options))
    sizes = _step(children, env, work, "sizes")
    result["database_mb"] = sizes["database_mb"]
    result["largest_tables_mb"] = sizes["tables_mb"]
    print(f"database: {sizes['database_mb']:,} MB; largest tables with their indexes (MB): {sizes['tables_mb']}")
    return result


def _http_phases(
    env: dict, data_dir: Path, work: Path, children: Children, memory: Memory, phases: list, options: dict
) -> dict:
    from bench import web_ingest
    from newsdesk.web import front

    count = options["requests"] + WARM
    access = _step(children, env, work, "sessions", "--count", str(count), "--seed", str(options["seed"] + 4))
    readers = access["readers"]
    if len(readers) < count:
        print(f"only {len(readers)} readers to request as: {len(readers) - WARM} measured requests of each kind")
    port = front.free_port()
    web = front.plan(f"127.0.0.1:{port}", options["web_workers"], data_dir)
    log = work / "gunicorn.log"
    with log.open("wb") as handle:
        gunicorn = children.start(
            web.gunicorn, env={**env, **web.env}, cwd=Path.cwd(), stdout=subprocess.DEVNULL, stderr=handle
        )
    _wait_http(web.upstream_port, "/", gunicorn, "gunicorn", log)
    groups = [gunicorn.pid]
    if web.nginx:
        nginx = children.start(web.nginx, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_http(port, "/", nginx, "nginx front", web.nginx_dir / "error.log" if web.nginx_dir else None)
        groups.append(nginx.pid)
    memory.watch("web", groups)
    _wait_settled(groups + memory.roots.get("embedder", []), timeout=180)
    print(f"web server: {web.note}")
    # The real login form (CSRF, Argon2) works for reader0, whose page is then their own.
    login = access["login"]
    try:
        cookies = web_ingest.log_in(
            port,
            {
                "reader": login["username"],
                "password": login["password"],
                "csrf_cookie": access["csrf_cookie"],
                "session_cookie": access["session_cookie"],
            },
        )
        web_ingest.check_signed_in(port, cookies, "/reading/for-you/", login["username"])
    except RuntimeError as error:
        raise RuntimeError(f"{error}; the server's log ends:\n{log.read_text(errors='replace')[-3000:]}") from error
    result: dict = {
        "web_server": web.note,
        "connections": options["connections"],
        "web_workers": options["web_workers"],
    }
    cookie = access["session_cookie"]

    def page_requests(path: str, group: list[dict]) -> list:
        return [(path, {"Cookie": f"{cookie}={r['session']}"}, r["username"]) for r in group]

    def api_requests(path: str, group: list[dict]) -> list:
        return [
            (path, {"Authorization": f"Bearer {r['token']}", "Accept": "application/json"}, r["username"])
            for r in group
        ]

    warm, measured = readers[:WARM], readers[WARM:]
    runs = []
    if "foryou" in phases:
        runs.append(("foryou", page_requests, "/reading/for-you/"))
    if "unread" in phases:
        runs += [
            ("unread", api_requests, "/api/reading/unread/counts"),
            ("following", page_requests, "/reading/following/"),
        ]
    for name, make, path in runs:
        closed_loop(port, make(path, warm), options["connections"])
        cpu_before, _ = _group_stats(groups)
        results = closed_loop(port, make(path, measured), options["connections"])
        cpu, _ = _group_stats(groups)
        result.update(_summarise(name, results, cpu - cpu_before, _check(name, results)))
        bad = [r for r in results if r[0] != 200]
        if bad:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(
                f"{len(bad)} of {len(results)} {path} requests failed ({bad[0][0]}); the server's log ends:\n{tail}"
            )
    memory.sample()
    for group in groups[::-1]:
        for proc in list(children.procs):
            if proc.pid == group:
                children.stop(proc)
    memory.forget("web")
    return result


def _check(name: str, results: list[tuple]) -> dict:
    """What shows the answers were the readers' own, uncached: private, their name, and
    for pages nginx's BYPASS; with the entries or counts each held."""
    if name == "unread":
        totals, items, own = [], [], 0
        for status, _, body, _, _ in results:
            if status == 200:
                data = json.loads(body)
                totals.append(data["total"])
                items.append(len(data["items"]))
                own += 1
        return {
            "json_answers": own,
            "mean_counted_things": round(statistics.mean(items), 1) if items else 0,
            "mean_total": round(statistics.mean(totals), 1) if totals else 0,
        }
    private = named = 0
    caches: dict[str, int] = {}
    entries = []
    for _status, headers, body, _, username in results:
        control = headers.get("cache-control", "")
        private += "private" in control and "no-store" in control
        named += f">{username}<".encode() in body or username.encode() in body
        state = headers.get("x-cache", "none")
        caches[state] = caches.get(state, 0) + 1
        if name == "foryou":
            entries.append(body.count(b'class="item foryou-entry'))
        else:
            entries.append(body.count(b'class="following-count'))
    extra = {"private_no_store": private, "named_reader": named, "x_cache": caches}
    extra["mean_entries" if name == "foryou" else "mean_counts"] = round(statistics.mean(entries), 1) if entries else 0
    if name == "foryou":
        extra["empty_pages"] = sum(1 for e in entries if e == 0)
    return extra


def _database_states(env: dict) -> dict[str, int]:
    """Emails by state, read straight from the database (no Django in this process's
    settings for it)."""
    sql = "SELECT state, COUNT(*) FROM briefings_delivery GROUP BY state"
    url = env.get("DATABASE_URL")
    if url:
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            return dict(conn.execute(sql).fetchall())
    db = sqlite3.connect(f"file:{Path(env['NEWSDESK_DATA_DIR']) / 'newsdesk.sqlite3'}?mode=ro", uri=True, timeout=30)
    try:
        return dict(db.execute(sql).fetchall())
    finally:
        db.close()


def _worker_phases(env: dict, work: Path, children: Children, memory: Memory, phases: list, options: dict) -> dict:
    result: dict = {"workers": options["workers"]}
    inbox = Inbox().start()
    worker_env = {
        **env,
        # `newsdesk up` lowers the workers' priority (nice, SCHED_IDLE) to yield to its web
        # processes; here no web process runs beside them, and on a shared machine the
        # priority would only measure how politely they yield to other people's jobs.
        "NEWSDESK_WORKER_NICE": "0",
        "NEWSDESK_WORKER_IDLE": "0",
        "NEWSDESK_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "NEWSDESK_EMAIL_HOST": "127.0.0.1",
        "NEWSDESK_EMAIL_PORT": str(inbox.port),
    }
    procs = []
    try:
        for n in range(options["workers"]):
            with (work / f"worker-{n + 1}.log").open("wb") as log:
                procs.append(
                    children.start(
                        [sys.executable, "-m", "newsdesk", "worker", "--verbosity", "0"],
                        env=worker_env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
        pids = [p.pid for p in procs]
        memory.watch("workers", pids)
        _wait_settled(pids + memory.roots.get("embedder", []), timeout=180)
        print(f"{options['workers']} task workers (newsdesk worker) running; SMTP server on 127.0.0.1:{inbox.port}")
        if "fanout" in phases:
            # The scheduler's planner in a process of its own; not-yet-placed articles
            # (generated as singletons) need no wait for a placement that has happened.
            cpu_before, _ = _group_stats(pids)
            figures = _step(children, {**worker_env, "NEWSDESK_ALERTS_WAIT": "0"}, work, "fanout")
            cpu, _ = _group_stats(pids)
            figures["fanout_worker_cpu_ms_per_article"] = round(
                1000 * (cpu - cpu_before) / figures["fanout_articles"], 2
            )
            result.update(figures)
            _alive(procs, work)
            print(
                f"   fanout: {figures['fanout_articles']:,} articles matched against follows in"
                f" {figures['fanout_seconds']} s: {figures['fanout_articles_per_s']} articles/s with"
                f" {options['workers']} workers; {figures['fanout_batches']} batches,"
                f" {figures['fanout_activity_rows']:,} activity rows"
                f" ({figures['fanout_worker_cpu_ms_per_article']} ms of worker CPU per article), reaching"
                f" {figures['fanout_readers_alerted']:,} readers ({figures['fanout_reader_article_pairs']:,}"
                " reader-article pairs)",
                flush=True,
            )
        if "mail" in phases:
            cpu_before, _ = _group_stats(pids)
            figures = _mail(worker_env, work, children, inbox, procs, options)
            cpu, _ = _group_stats(pids)
            figures["briefing_worker_cpu_ms_per_email"] = round(
                1000 * (cpu - cpu_before) / max(1, figures["briefing_emails"]), 1
            )
            print(f"     mail: {figures['briefing_worker_cpu_ms_per_email']} ms of worker CPU per email")
            result.update(figures)
        memory.sample()
    finally:
        for proc in procs:
            children.stop(proc)
        memory.forget("workers")
        inbox.stop()
    return result


def _alive(procs: list, work: Path) -> None:
    for n, proc in enumerate(procs):
        if proc.poll() is not None:
            tail = (work / f"worker-{n + 1}.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"worker {n + 1} exited with {proc.returncode}:\n{tail}")


def _mail(env: dict, work: Path, children: Children, inbox: Inbox, procs: list, options: dict) -> dict:
    start = _step(children, env, work, "mail-start")
    began, expected = start["began"], start["expected"]
    print(f"     mail: {expected:,} briefings due; planner queued", flush=True)
    deadline = began + options["mail_timeout"]
    last_count, last_change, states = 0, time.time(), {}
    while time.time() < deadline:
        time.sleep(2.0)
        _alive(procs, work)
        count = inbox.count()
        if count != last_count:
            if count // 10_000 != last_count // 10_000:
                print(f"     mail: {count:,} received after {time.time() - began:.0f} s", flush=True)
            last_count, last_change = count, time.time()
        states = _database_states(env)
        planned = sum(states.values())
        if planned and not states.get("pending") and count >= states.get("sent", 0):
            break
        if time.time() - last_change > 300:
            print("     mail: nothing arrived for 5 minutes: stopped waiting")
            break
    received = inbox.count()
    seconds = (max(inbox.arrivals) - began) if inbox.arrivals else None
    report = _step(children, env, work, "mail-report")
    states = report["states"]
    per_s = received / seconds if seconds else 0.0
    figures = {
        "briefing_emails": received,
        "briefing_emails_expected": expected,
        "briefing_emails_minutes": round(seconds / 60, 2) if seconds else None,
        "briefing_emails_per_s": round(per_s, 1),
        "briefing_100k_minutes_at_this_rate": round(100_000 / per_s / 60, 1) if per_s else None,
        "briefing_distinct_message_ids": len(inbox.ids),
        "briefing_with_unsubscribe": inbox.unsubscribe,
        "briefing_mean_kb": round(inbox.bytes / max(1, received) / 1024, 1),
        "briefing_delivery_states": states,
        "briefing_errors": report["errors"],
    }
    print(
        f"     mail: {received:,} of {expected:,} emails received in"
        f" {figures['briefing_emails_minutes']} min ({per_s:.1f}/s with {options['workers']} workers;"
        f" {figures['briefing_100k_minutes_at_this_rate']} min for 100,000 at this rate);"
        f" {len(inbox.ids):,} distinct Message-IDs, {inbox.unsubscribe:,} with one-click unsubscribe,"
        f" {figures['briefing_mean_kb']} kB each; deliveries {states}",
        flush=True,
    )
    return figures


def _report_targets(result: dict) -> None:
    at_scale = (result.get("articles"), result.get("readers")) == ISSUE_SCALE
    met = {}
    for key, (sense, limit) in TARGETS.items():
        value = result.get(key)
        if value is None:
            print(f"target {key} {sense} {limit:g}: not measured")
            continue
        met[key] = value < limit if sense == "<" else value >= limit
        print(
            f"target {key} {sense} {limit:g}: {value}, {'met' if met[key] else 'MISSED'}"
            + ("" if at_scale else " (at this smaller scale)")
        )
    result["targets"] = {k: f"{s} {v:g}" for k, (s, v) in TARGETS.items()}
    result["targets_met"] = met
    result["issue_scale"] = at_scale
    with suppress(KeyError):
        result["scale_note"] = f"{result['articles']:,} articles, {result['readers']:,} readers"
