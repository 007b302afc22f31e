"""`newsdesk bench footprint`: the memory of `newsdesk up` and its enrichment throughput (issue 15).

For each profile (the default set, then `--small`), on an empty data directory and
SQLite: `newsdesk up` starts (nginx in front when installed, as a user gets it); once it
has settled its idle memory is sampled; then it ingests and enriches `--articles` pages
from the simulated publisher (bench/publisher.py), and answers `--questions`
ask-the-article questions over HTTP, each about a different article (their sentences
embedded afresh), from two client threads, once the task queue is empty. All along, every `--every` seconds, the
proportional set size (PSS, from /proc/<pid>/smaps_rollup, so pages shared between
processes count once in the sum) of the whole process tree of `newsdesk up` is summed,
per kind of process (supervisor, web, worker, scheduler, embedder, front).

Figures per profile: idle and peak PSS in MB, in total and per kind (each kind at the
moment of the total's peak, and its own maximum), enrichment throughput (pages
enriched per second from the subscription until all are enriched: fetch, extraction,
storage and enrichment end to end, as a reader waits for them), and ask latency. The
last line: `default_idle_mb`, `default_peak_mb`, `small_idle_mb`, `small_peak_mb`,
`enrich_articles_per_s` (the default set's) and `small_enrich_articles_per_s`, with each
profile's details.
"""

from __future__ import annotations

import http.client
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

from bench import BBC_ARTICLES
from bench.ask import QUESTIONS
from bench.faults import _env, _stop_up, _wait, http_ok
from bench.publisher import Publisher, load_articles

# The profiles as `newsdesk up` arguments.
PROFILES = {
    "default": [],
    "small": ["--small"],
    # The default set with the scheduler as a process of its own (before it was a thread of worker 1).
    "default-scheduler-process": ["--scheduler-process"],
}
TARGETS_MB = {"default": 1200, "small": 700, "default-scheduler-process": 1200}
KINDS = ("supervisor", "web", "worker", "scheduler", "embedder", "front", "other")


def add_arguments(parser) -> None:
    parser.add_argument("--articles", type=int, default=500, help="pages the publisher serves")
    parser.add_argument("--questions", type=int, default=50, help="ask-the-article questions over HTTP")
    parser.add_argument(
        "--profiles", default="default,small", help="comma-separated: default, small, default-scheduler-process"
    )
    parser.add_argument("--corpus", type=Path, default=BBC_ARTICLES)
    parser.add_argument("--every", type=float, default=0.5, help="seconds between memory samples")
    parser.add_argument("--settle", type=float, default=20.0, help="seconds of stable memory that count as idle")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds for the ingest of one profile")
    parser.add_argument("--keep", action="store_true", help="keep the data directories")


# --- Memory ------------------------------------------------------------------------------


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants, from /proc (zombies left out)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            tail = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if tail[0] != "Z":
            parents.setdefault(int(tail[1]), []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(parents.get(pid, []))
    return found


def pss_kb(pid: int) -> int:
    """The process's proportional set size in kB (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def kind_of(pid: int, root: int) -> str:
    """Which part of `newsdesk up` a process is, from its command line."""
    if pid == root:
        return "supervisor"
    try:
        argv = [a for a in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0") if a]
    except OSError:
        return "other"
    text = " ".join(argv[:6])
    if "gunicorn" in text:
        return "web"
    if argv and (argv[0].startswith("nginx") or Path(argv[0]).name == "nginx"):
        return "front"
    for kind in ("embedder", "worker", "scheduler"):  # `newsdesk worker`, `-m newsdesk.ai.embedder`
        if any(a == kind or a.endswith(f".{kind}") for a in argv[1:4]):
            return kind
    return "other"


def sample(root: int) -> dict[str, float]:
    """PSS in MB per kind of process under `root`, and `total`, with `processes`."""
    mb: dict[str, float] = dict.fromkeys(KINDS, 0.0)
    pids = process_tree(root)
    for pid in pids:
        mb[kind_of(pid, root)] += pss_kb(pid) / 1024
    mb["total"] = sum(mb[k] for k in KINDS)
    mb["processes"] = len(pids)
    return mb


class Sampler(threading.Thread):
    """Samples the tree every `every` seconds; keeps the peak total (with its split per
    kind) and each kind's own maximum."""

    def __init__(self, root: int, every: float) -> None:
        super().__init__(name="pss-sampler", daemon=True)
        self.root, self.every = root, every
        self.peak: dict[str, float] = {"total": 0.0}
        self.kind_max: dict[str, float] = dict.fromkeys(KINDS, 0.0)
        self.samples = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.every):
            now = sample(self.root)
            self.samples += 1
            if now["total"] > self.peak["total"]:
                self.peak = now
            for kind in KINDS:
                self.kind_max[kind] = max(self.kind_max[kind], now[kind])

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def settled(root: int, seconds: float, every: float, timeout: float = 240.0) -> dict[str, float]:
    """Wait until the tree's total PSS has moved by less than 2% for `seconds` (every
    process started and warmed up), and return the last sample: the idle figure."""
    window: list[dict[str, float]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        window.append(sample(root))
        window = window[-max(2, int(seconds / every)) :]
        totals = [s["total"] for s in window]
        full = len(window) >= max(2, int(seconds / every))
        if full and max(totals) - min(totals) < 0.02 * max(totals):
            return window[-1]
        time.sleep(every)
    return window[-1]


def _rounded(figures: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 1) for k, v in figures.items() if v or k == "total"}


# --- One profile -------------------------------------------------------------------------


def _count(db_path: Path, sql: str) -> int:
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        return int(db.execute(sql).fetchone()[0] or 0)
    finally:
        db.close()


def ask_over_http(bind: str, article_ids: list[int], count: int, clients: int = 2) -> dict:
    """`count` questions, each about another article, from `clients` threads; latency in ms."""
    questions = [q for _, q, _ in QUESTIONS]
    host, port = bind.rsplit(":", 1)
    latencies: list[float] = []
    failures: list[str] = []
    answered = [0]
    lock = threading.Lock()

    def work(offset: int) -> None:
        for n in range(offset, count, clients):
            path = f"/articles/{article_ids[n % len(article_ids)]}/ask?question={quote(questions[n % len(questions)])}"
            conn = http.client.HTTPConnection(host, int(port), timeout=120)
            began = time.perf_counter()
            try:
                conn.request("GET", path, headers={"HX-Request": "true"})
                response = conn.getresponse()
                body = response.read().decode("utf-8", "replace")
                elapsed = 1000 * (time.perf_counter() - began)
                with lock:
                    if response.status == 200:
                        latencies.append(elapsed)
                        answered[0] += "does not say" not in body
                    else:
                        failures.append(f"{response.status} {path}")
            except (OSError, http.client.HTTPException) as error:
                with lock:
                    failures.append(f"{error!r} {path}")
            finally:
                conn.close()

    threads = [threading.Thread(target=work, args=(k,)) for k in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ordered = sorted(latencies)
    return {
        "asked": count,
        "ok": len(ordered),
        "answered": answered[0],
        "failed": len(failures),
        "failures": failures[:5],
        "p50_ms": round(ordered[len(ordered) // 2], 1) if ordered else None,
        "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))], 1) if ordered else None,
        "max_ms": round(ordered[-1], 1) if ordered else None,
        "mean_ms": round(statistics.fmean(ordered), 1) if ordered else None,
    }


def run_profile(
    name: str, *, corpus: Path, articles: int, questions: int, every: float, settle: float, timeout: float, keep: bool
) -> dict:
    from newsdesk.sources.opml import OpmlFeed, build_opml
    from newsdesk.web.front import free_port

    publisher = Publisher(load_articles(corpus), articles)
    publisher.start()
    data_dir = Path(tempfile.mkdtemp(prefix=f"newsdesk-bench-footprint-{name}-"))
    env = {**_env(data_dir, None), "NEWSDESK_ASK_PER_MINUTE": "100000"}
    log = data_dir / "up.log"
    bind = f"127.0.0.1:{free_port()}"
    db_path = data_dir / "newsdesk.sqlite3"
    newsdesk = [sys.executable, "-m", "newsdesk"]
    command = [*newsdesk, "up", "--bind", bind, *PROFILES[name]]
    print(f"\n[{name}] {' '.join(command[2:])}; data in {data_dir}", flush=True)
    opml = data_dir / "bench.opml"
    opml.write_bytes(
        build_opml(OpmlFeed(url, f"Bench feed {k}", publisher.base, None) for k, url in enumerate(publisher.feed_urls))
    )
    with open(log, "ab") as out:
        up = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    sampler = Sampler(up.pid, every)
    try:
        began = time.monotonic()
        _wait("the site answering", lambda: http_ok(bind, "/"), 240, up, log)
        answering_s = time.monotonic() - began
        idle = settled(up.pid, settle, every)
        print(
            f"[{name}] answering after {answering_s:.1f} s; idle {idle['total']:.0f} MB: {_rounded(idle)}", flush=True
        )
        sampler.start()
        subscribed = time.monotonic()
        subprocess.run([*newsdesk, "import-opml", str(opml)], env=env, check=True, stdout=subprocess.DEVNULL)
        enriched_sql = "SELECT count(*) FROM articles_enrichment"
        _wait(
            f"{articles} pages enriched",
            lambda: db_path.exists() and _count(db_path, enriched_sql) >= articles,
            timeout,
            up,
            log,
        )
        enrich_s = time.monotonic() - subscribed
        stored = _count(db_path, "SELECT count(*) FROM articles_article")
        print(f"[{name}] {articles} pages stored and enriched in {enrich_s:.1f} s", flush=True)
        # The questions come once the queue is empty (placement, pictures done): their
        # latency is the site's at rest, not a share of the workers' CPU.
        busy_sql = "SELECT count(*) FROM django_tasks_database_dbtaskresult WHERE status IN ('READY', 'RUNNING')"
        _wait("the task queue to drain", lambda: _count(db_path, busy_sql) == 0, timeout, up, log)
        drain_s = time.monotonic() - subscribed - enrich_s
        db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
        try:
            ids = [
                row[0] for row in db.execute("SELECT id FROM articles_article ORDER BY id DESC LIMIT ?", (questions,))
            ]
        finally:
            db.close()
        ask = ask_over_http(bind, ids, questions)
        print(f"[{name}] ask-the-article: {ask}", flush=True)
        time.sleep(2 * every)
        sampler.stop()
    finally:
        if sampler.is_alive():
            sampler.stop()
        _stop_up(up)
        publisher.stop()
    if not keep:
        shutil.rmtree(data_dir, ignore_errors=True)
    result = {
        "command": " ".join(["newsdesk", *command[3:]]),
        "answering_s": round(answering_s, 1),
        "idle_mb": round(idle["total"], 1),
        "peak_mb": round(sampler.peak["total"], 1),
        "target_peak_mb": TARGETS_MB.get(name),
        "idle_by_kind_mb": _rounded({k: idle[k] for k in KINDS}),
        "peak_by_kind_mb": _rounded({k: sampler.peak.get(k, 0.0) for k in KINDS}),
        "max_by_kind_mb": _rounded(sampler.kind_max),
        "processes": int(sampler.peak.get("processes", 0)),
        "samples": sampler.samples,
        "articles": articles,
        "stored": stored,
        "enrich_s": round(enrich_s, 1),
        "enrich_articles_per_s": round(articles / enrich_s, 2),
        "drain_s": round(drain_s, 1),
        "ask": ask,
    }
    print(
        f"[{name}] idle {result['idle_mb']} MB, peak {result['peak_mb']} MB (target {result['target_peak_mb']}), "
        f"peak by kind {result['peak_by_kind_mb']}; {result['enrich_articles_per_s']} articles/s; "
        f"ask p50 {ask['p50_ms']} ms, p90 {ask['p90_ms']} ms",
        flush=True,
    )
    return result


def run(
    *,
    articles: int,
    questions: int,
    profiles: str,
    corpus: Path,
    every: float,
    settle: float,
    timeout: float,
    keep: bool,
) -> dict:
    names = [p.strip() for p in profiles.split(",") if p.strip()]
    unknown = [n for n in names if n not in PROFILES]
    if unknown:
        raise ValueError(f"unknown profile(s) {unknown}: choose from {sorted(PROFILES)}")
    print(f"{os.cpu_count()} CPUs; {articles} pages, {questions} questions per profile", flush=True)
    results = {
        name: run_profile(
            name,
            corpus=corpus,
            articles=articles,
            questions=questions,
            every=every,
            settle=settle,
            timeout=timeout,
            keep=keep,
        )
        for name in names
    }
    top: dict = {}
    for name, figures in results.items():
        prefix = "" if name == "default" else f"{name}_"
        top[f"{name}_idle_mb"] = figures["idle_mb"]
        top[f"{name}_peak_mb"] = figures["peak_mb"]
        top[f"{prefix}enrich_articles_per_s"] = figures["enrich_articles_per_s"]
        top[f"{name}_ask_p50_ms"] = figures["ask"]["p50_ms"]
    return {**top, "profiles": results}
