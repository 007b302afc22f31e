"""The signed-in part of `newsdesk bench web`: uncached pages, search and comment posts,
alone and while an ingest runs into the same data directory.

Signed-in readers bypass every page cache (pagecache.py, the nginx microcache), so
their pages show what rendering costs; search is never cached; a comment post is a
write that must get SQLite's one write lock while task workers are storing articles.

- reader: `bench-reader` logs in through the real login form (CSRF token, Argon2
  check) and keeps the session cookie; wrk sends it on every request (a Lua script
  walks over article ids, or over search queries made of corpus words);
- commenters: many accounts (the comment rate limits count per account), their
  sessions written by the session store as a login does; each loads an article page
  first for its CSRF cookie and form token, as a browser would, then posts the comment
  form from a small bounded Python client (threads, http.client) at a fixed rate;
- ingest: the simulated publisher (publisher.py) on 127.0.0.1, `newsdesk import-opml`,
  and task workers and the scheduler started as `newsdesk up` starts them.

The database work that needs Django (accounts, sessions) runs in a child process whose
settings point at the bench data directory (`python -m bench.web sessions`).
"""

from __future__ import annotations

import http.client
import json
import math
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

from bench.publisher import Publisher, load_articles
from newsdesk.sources.opml import OpmlFeed, build_opml
from newsdesk.sqlite import base as sqlite_backend

READER = "bench-reader"
READER_PASSWORD = "bench-reader-password-7Qx"  # a throwaway account in a throwaway database
COMMENTER = "bench-commenter-{}"
SESSIONS_FILE = "bench-web-sessions.json"
_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
# Words too common to be a query anyone types (the rest of a headline is fair game).
_STOP = frozenset(
    """about after again against also among around because been before being between both
could during each from have having here into just more most much other over said same should since some
such than that their them then there these they this those through under until very were what when where
which while will with would your says year years""".split()
)

LOGIN_PATH = "/accounts/login/"
SEARCH_PATH = "/search/?q={}"
ARTICLE_PATH = "/articles/{}/"
COMMENT_PATH = "/comments/article/{}/"


# --- accounts and sessions (child process, bench data dir) ----------------------------------


def make_sessions(commenters: int) -> dict:
    """Create the reader and `commenters` accounts (once per data dir) and a fresh session
    for each commenter; returns what the client side needs, for SESSIONS_FILE."""
    from datetime import timedelta
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.utils import timezone

    from newsdesk.sources.models import Feed

    # The generated publishers' feeds are fictional (.example): the scheduler of the
    # ingest would only spend the workers' time failing to resolve them.
    Feed.objects.filter(url__contains=".example/").update(next_fetch_at=timezone.now() + timedelta(days=365))
    user_model = get_user_model()
    reader, created = user_model.objects.get_or_create(username=READER, defaults={"email": "reader@bench.invalid"})
    if created or not reader.check_password(READER_PASSWORD):
        reader.set_password(READER_PASSWORD)
        reader.save()
    names = [COMMENTER.format(n) for n in range(commenters)]
    existing = set(user_model.objects.filter(username__in=names).values_list("username", flat=True))
    user_model.objects.bulk_create(
        [
            user_model(username=name, email=f"{name}@bench.invalid", password="!")
            for name in names
            if name not in existing
        ]
    )
    backend = (
        settings.AUTHENTICATION_BACKENDS[0]
        if getattr(settings, "AUTHENTICATION_BACKENDS", None)
        else "django.contrib.auth.backends.ModelBackend"
    )
    keys = []
    for user in user_model.objects.filter(username__in=names).order_by("pk"):
        session = import_module(settings.SESSION_ENGINE).SessionStore()  # the site's own store
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = backend
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        keys.append(session.session_key)
    return {
        "reader": READER,
        "password": READER_PASSWORD,
        "commenters": keys,
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "csrf_cookie": settings.CSRF_COOKIE_NAME,
    }


def load_sessions(data_dir: Path, env: dict, commenters: int, children) -> dict:
    """Run `make_sessions` in a child process on the bench data dir and read its answer."""
    command = [sys.executable, "-m", "bench.web", "sessions", "--commenters", str(commenters)]
    proc = children.start(command, env=env)
    proc.wait()
    children.procs.remove(proc)
    if proc.returncode != 0:
        raise RuntimeError(f"creating the bench accounts failed (exit {proc.returncode})")
    return json.loads((data_dir / SESSIONS_FILE).read_text())


# --- HTTP with cookies -------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def cookies(self) -> dict[str, str]:
        found = {}
        for name, value in self.headers:
            if name.lower() == "set-cookie":
                pair = value.split(";", 1)[0]
                key, _, val = pair.partition("=")
                found[key.strip()] = val.strip()
        return found


def request(
    port: int,
    method: str,
    path: str,
    *,
    cookies: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> Reply:
    """One request to 127.0.0.1:port on a connection of its own."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    body = None
    if form is not None:
        body = urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return Reply(response.status, response.getheaders(), response.read())
    finally:
        conn.close()


def csrf_for(port: int, path: str, cookies: dict[str, str], csrf_cookie: str) -> tuple[str, str]:
    """(cookie value, form token) from a page with a POST form, as a browser gets them."""
    reply = request(port, "GET", path, cookies=cookies)
    match = _CSRF_INPUT.search(reply.body.decode("utf-8", "replace"))
    cookie = reply.cookies().get(csrf_cookie) or cookies.get(csrf_cookie, "")
    if reply.status != 200 or not match or not cookie:
        raise RuntimeError(f"{path} gave no CSRF form token or cookie (status {reply.status})")
    return cookie, match.group(1)


def log_in(port: int, sessions: dict) -> dict[str, str]:
    """The reader's cookies after logging in through the login form."""
    csrf_cookie, session_cookie = sessions["csrf_cookie"], sessions["session_cookie"]
    cookie, token = csrf_for(port, LOGIN_PATH, {}, csrf_cookie)
    reply = request(
        port,
        "POST",
        LOGIN_PATH,
        cookies={csrf_cookie: cookie},
        form={"csrfmiddlewaretoken": token, "username": sessions["reader"], "password": sessions["password"]},
    )
    session = reply.cookies().get(session_cookie)
    if reply.status != 302 or not session:
        raise RuntimeError(f"logging in as {sessions['reader']} answered {reply.status} without a session")
    return {session_cookie: session}


def check_signed_in(port: int, cookies: dict[str, str], path: str, username: str) -> None:
    """The page is rendered for the reader (their name in the header), not a cached copy."""
    reply = request(port, "GET", path, cookies=cookies)
    text = reply.body.decode("utf-8", "replace")
    if reply.status != 200 or username not in text:
        raise RuntimeError(f"{path} with the session cookie is not a signed-in page (status {reply.status})")


# --- what the signed-in reader asks for ------------------------------------------------------


def search_queries(db_path: Path, count: int, seed: int = 11) -> list[str]:
    """`count` search paths: one or two words of the articles' own headlines."""
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        titles = [row[0] for row in db.execute("SELECT title FROM articles_article ORDER BY id LIMIT 20000")]
    finally:
        db.close()
    words = sorted({w for t in titles for w in re.findall(r"[a-z]{4,}", t.lower()) if w not in _STOP})
    if not words:
        raise RuntimeError("no words in the headlines to search for")
    rng = random.Random(seed)
    paths = []
    for _ in range(count):
        query = " ".join(rng.sample(words, 2 if rng.random() < 0.3 and len(words) > 1 else 1))
        paths.append(SEARCH_PATH.format(quote(query)))
    return paths


# --- comment posts ------------------------------------------------------------------------------


@dataclass
class Commenter:
    cookies: dict[str, str]
    token: str


@dataclass
class PacedResults:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    late: int = 0  # requests sent after their slot (the server or client was behind)

    def figures(self, seconds: float) -> dict:
        ordered = sorted(self.latencies_ms)
        return {
            "requests": len(ordered) + self.errors,
            "rps": round(len(ordered) / seconds, 1) if seconds else 0.0,
            "p50_ms": round(_percentile(ordered, 50), 2),
            "p90_ms": round(_percentile(ordered, 90), 2),
            "p99_ms": round(_percentile(ordered, 99), 2),
            "max_ms": round(ordered[-1], 2) if ordered else 0.0,
            "mean_ms": round(statistics.fmean(ordered), 2) if ordered else 0.0,
            "errors": self.errors,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "late": self.late,
        }


def _percentile(ordered: list[float], percent: float) -> float:
    if not ordered:
        return 0.0
    rank = max(0, min(len(ordered) - 1, math.ceil(percent / 100 * len(ordered)) - 1))
    return ordered[rank]


def prepare_commenters(port: int, sessions: dict, article_ids: list[int], count: int, clients: int) -> list[Commenter]:
    """Load one article page per commenter (its CSRF cookie and form token), `clients`
    at a time: what a browser does before the reader types a comment."""
    keys = sessions["commenters"][:count]
    if len(keys) < count:
        raise RuntimeError(f"{count} commenters needed, {len(keys)} sessions made")
    made: list[Commenter | None] = [None] * len(keys)

    def work(offset: int) -> None:
        for n in range(offset, len(keys), clients):
            cookies = {sessions["session_cookie"]: keys[n]}
            cookie, token = csrf_for(
                port, ARTICLE_PATH.format(article_ids[n % len(article_ids)]), cookies, sessions["csrf_cookie"]
            )
            made[n] = Commenter({**cookies, sessions["csrf_cookie"]: cookie}, token)

    _run_threads(work, clients)
    return [c for c in made if c is not None]


def post_comments(
    port: int,
    commenters: list[Commenter],
    article_ids: list[int],
    *,
    rate: float,
    seconds: float,
    clients: int,
    seed: int = 5,
) -> PacedResults:
    """Post the comment form at `rate` per second for `seconds` from `clients` threads, each
    post by the next commenter (so no account meets its rate limit); the latency of a
    post is from sending it to its redirect."""
    total = min(len(commenters), max(1, int(rate * seconds)))
    rng = random.Random(seed)
    targets = [(commenters[k], article_ids[rng.randrange(len(article_ids))]) for k in range(total)]

    def post(target: tuple[Commenter, int]) -> int:
        commenter, article_id = target
        form = {
            "csrfmiddlewaretoken": commenter.token,
            "body": f"Bench comment {rng.randrange(10**9)} on this report: worth reading.",
        }
        return request(port, "POST", COMMENT_PATH.format(article_id), cookies=commenter.cookies, form=form).status

    return _paced(targets, post, rate=rate, clients=clients, success=302, from_plan=False)


def get_at_rate(
    port: int, paths: list[str], cookies: dict[str, str], *, rate: float, seconds: float, clients: int
) -> PacedResults:
    """GET `paths` in turn at `rate` per second from `clients` threads: an open loop, as
    readers arrive whatever the server's pace. A request's latency counts from its planned
    time, so a server (or client) that falls behind is charged for the wait."""
    total = max(1, int(rate * seconds))
    targets = [paths[k % len(paths)] for k in range(total)]
    return _paced(
        targets,
        lambda path: request(port, "GET", path, cookies=cookies).status,
        rate=rate,
        clients=clients,
        success=200,
        from_plan=True,
    )


def _paced(targets: list, send, *, rate: float, clients: int, success: int, from_plan: bool) -> PacedResults:
    """`send(target)` (an HTTP status) for each target at its slot, `rate` per second, from
    `clients` threads; a latency counts from the slot (`from_plan`) or from the sending."""
    results = PacedResults()
    lock = threading.Lock()
    start = time.perf_counter() + 0.2

    def work(offset: int) -> None:
        for k in range(offset, len(targets), clients):
            slot = start + k / rate
            delay = slot - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            sent = time.perf_counter()
            try:
                status = send(targets[k])
            except (OSError, http.client.HTTPException):
                status = 0
            elapsed = 1000 * (time.perf_counter() - (slot if from_plan else sent))
            with lock:
                results.statuses[status] = results.statuses.get(status, 0) + 1
                results.late += delay < -0.05
                if status == success:
                    results.latencies_ms.append(elapsed)
                else:
                    results.errors += 1

    _run_threads(work, clients)
    return results


def _run_threads(work, count: int) -> None:
    errors: list[BaseException] = []

    def guarded(offset: int) -> None:
        try:
            work(offset)
        except BaseException as error:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(n,), daemon=True) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


# --- the ingest ---------------------------------------------------------------------------------


class Ingest:
    """A simulated publisher of `count` pages and the worker processes of `newsdesk up`
    (task workers and the scheduler, each in its own process group via `children`)
    ingesting its feeds into the data dir."""

    def __init__(self, data_dir: Path, env: dict, children, corpus: Path, count: int, workers: int) -> None:
        self.db_path = data_dir / "newsdesk.sqlite3"
        self.env = {**env, "NEWSDESK_FETCH_ALLOW_HOSTS": "127.0.0.1", "NEWSDESK_FETCH_HOST_DELAY": "0"}
        self.children = children
        self.count = count
        self.workers = workers
        self.data_dir = data_dir
        self.publisher = Publisher(load_articles(corpus), count)
        self.procs: list[subprocess.Popen] = []
        self.started_at = 0.0
        self.baseline = 0
        self.lock_waits_ms: list[float] = []
        self._probing = threading.Event()

    def start(self) -> None:
        """Start the publisher and the workers, subscribe to the feeds, return at once."""
        self.publisher.start()
        self.baseline = self.stored()
        newsdesk = [sys.executable, "-m", "newsdesk"]
        for _ in range(self.workers):
            self.procs.append(self.children.start([*newsdesk, "worker", "--verbosity", "0"], env=self.env))
        self.procs.append(self.children.start([*newsdesk, "scheduler"], env=self.env))
        opml = self.data_dir / "bench-web-ingest.opml"
        opml.write_bytes(
            build_opml(
                OpmlFeed(url, f"Bench feed {k}", self.publisher.base, None)
                for k, url in enumerate(self.publisher.feed_urls)
            )
        )
        done = subprocess.run(
            [*newsdesk, "import-opml", str(opml)], env=self.env, stdout=subprocess.DEVNULL, timeout=300, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"import-opml failed (exit {done.returncode})")
        self.started_at = time.perf_counter()

    def probe_write_lock(self, every: float = 0.1) -> None:
        """Until `stop`, take SQLite's write lock (an empty BEGIN IMMEDIATE) every `every`
        seconds from a thread, as the site's backend starts a transaction, and record how
        long each wait was: how long a web write such as a comment post waits for the
        workers' transactions."""

        def probe() -> None:
            db = sqlite3.connect(self.db_path, timeout=60, isolation_level=None)
            try:
                while not self._probing.wait(every):
                    began = time.perf_counter()
                    sqlite_backend.begin(db)
                    db.execute("COMMIT")
                    self.lock_waits_ms.append(1000 * (time.perf_counter() - began))
            finally:
                db.close()

        threading.Thread(target=probe, name="write-lock-probe", daemon=True).start()

    def stored(self) -> int:
        db = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=30)
        try:
            return db.execute("SELECT count(*) FROM articles_article").fetchone()[0]
        finally:
            db.close()

    def wait_flowing(self, articles: int = 50, timeout: float = 240.0) -> float:
        """Wait until `articles` new articles are stored (workers loaded their models and
        are storing); seconds waited."""
        began = time.perf_counter()
        while time.perf_counter() - began < timeout:
            if self.stored() - self.baseline >= articles:
                return time.perf_counter() - began
            if any(p.poll() is not None for p in self.procs):
                raise RuntimeError("a worker or the scheduler exited during the ingest")
            time.sleep(0.5)
        raise RuntimeError(f"the ingest stored fewer than {articles} articles in {timeout:.0f} s")

    def stop(self) -> dict:
        """Stop the workers and the publisher; what was stored meanwhile."""
        self._probing.set()
        stored = self.stored() - self.baseline
        seconds = time.perf_counter() - self.started_at if self.started_at else 0.0
        waits = sorted(self.lock_waits_ms)
        for proc in reversed(self.procs):
            self.children.stop(proc)
        self.publisher.stop()
        return {
            "ingest_target": self.count,
            "ingest_stored": stored,
            "ingest_seconds": round(seconds, 1),
            "ingest_articles_per_s": round(stored / seconds, 1) if seconds else 0.0,
            "ingest_workers": self.workers,
            "write_lock_probes": len(waits),
            "write_lock_wait_p50_ms": round(_percentile(waits, 50), 1),
            "write_lock_wait_p99_ms": round(_percentile(waits, 99), 1),
            "write_lock_wait_max_ms": round(waits[-1], 1) if waits else 0.0,
        }
