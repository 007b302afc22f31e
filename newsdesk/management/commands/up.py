"""`newsdesk up`: the whole site in one process group.

Migrates, then supervises the web server, the task workers and the scheduler as child
processes: a child that dies is restarted, Ctrl-C or SIGTERM stops them all.

The web server is nginx in front of gunicorn when nginx is installed (a microcache of
anonymous pages, see newsdesk/web/front.py), else gunicorn alone; `--front` or
NEWSDESK_FRONT chooses. nginx starts once gunicorn answers, so the public address never
answers 502 while the site is starting.

The supervisor binds the web servers' listening sockets itself and hands them to each
gunicorn and nginx it starts, so a web server that dies (even by SIGKILL of its master)
is a short pause for readers: connections wait in the socket's backlog while the
replacement starts, instead of being refused or finding the port held by orphans.

The embedding model is loaded once per machine, by an embedding process
(newsdesk/ai/embedder.py) that web and task workers call over a unix socket in the
data directory; the supervisor holds that socket too, so requests wait in its backlog
while a dead embedder is restarted. `--embedder local` instead lets each process load
its own copy (how it was before: about 3 GB for the default set instead of 1).
`--small` is the profile for a machine with 1 GB of memory: one web process (with
threads) and one task worker, which also runs the scheduler, beside the embedder.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from functools import partial
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, OutputWrapper

from newsdesk.ai.embedder import listening_socket
from newsdesk.web.front import (
    Front,
    inherit_socket,
    listen_socket,
    nginx_inherit_env,
    plan,
    remove_runtime,
    wait_for_http,
)
from newsdesk.web.gunicorn_conf import die_with_parent


class Command(BaseCommand):
    help = "Migrate, then run the web server, task workers and scheduler until interrupted."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("NEWSDESK_BIND", "127.0.0.1:8000"))
        parser.add_argument("--web-workers", type=int, default=int(os.environ.get("NEWSDESK_WEB_WORKERS", "2")))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("NEWSDESK_WORKERS", "2")), help="task worker processes"
        )
        parser.add_argument(
            "--small",
            action="store_true",
            default=os.environ.get("NEWSDESK_SMALL", "") not in ("", "0"),
            help="small machine (1 GB): one web process with threads and one task worker (NEWSDESK_SMALL=1)",
        )
        parser.add_argument(
            "--embedder",
            choices=["shared", "local"],
            default=os.environ.get("NEWSDESK_UP_EMBEDDER", "shared"),
            help="shared: one embedding process holds the model for all (default); local: one copy per process",
        )
        parser.add_argument(
            "--scheduler-in-worker",
            action="store_true",
            help="run the scheduler as a thread of the first task worker, not a process (implied by --small)",
        )
        parser.add_argument("--no-web", action="store_true")
        parser.add_argument("--prepare-only", action="store_true", help=argparse.SUPPRESS)
        parser.add_argument("--no-scheduler", action="store_true", help="when another machine runs the one scheduler")
        parser.add_argument(
            "--front",
            choices=["auto", "nginx", "gunicorn"],
            default=os.environ.get("NEWSDESK_FRONT", "auto"),
            help="nginx microcache in front of gunicorn (auto: when nginx is installed)",
        )

    def handle(
        self,
        *args,
        bind,
        web_workers,
        workers,
        no_web,
        no_scheduler,
        front="auto",
        small=False,
        embedder="shared",
        scheduler_in_worker=False,
        **options,
    ):
        if options.get("prepare_only"):
            prepare(self.stdout)
            return
        if small:
            web_workers, workers = 1, 1
        self.stdout.write("preparing: migrations, cache table, static files")
        prepare_in_child()

        newsdesk = [sys.executable, "-m", "newsdesk"]
        commands: dict[str, list[str]] = {}
        envs: dict[str, dict[str, str]] = {}
        waits: dict[str, str] = {}
        pass_fds: dict[str, tuple[int, ...]] = {}
        sockets: list[socket.socket] = []
        web: Front | None = None
        shared: dict[str, str] = {}  # environment of every child
        embedder_path: str | None = None
        if embedder == "shared" and (workers or not no_web):
            embedder_path = embedder_socket_path(settings.DATA_DIR)
            listener = listening_socket(embedder_path)
            listener.set_inheritable(True)
            sockets.append(listener)
            commands["embedder"] = [
                sys.executable,
                "-m",
                "newsdesk.ai.embedder",
                "--fd",
                str(listener.fileno()),
                "--nice",
                str(settings.NEWSDESK_EMBEDDER_NICE),
            ]
            pass_fds["embedder"] = (listener.fileno(),)
            shared["NEWSDESK_EMBEDDER"] = embedder_path
            self.stdout.write(f"embedder: one copy of the model, shared on {embedder_path}")
        if not no_web:
            web = plan(bind, web_workers, settings.DATA_DIR, front=front)
            commands["web"] = web.gunicorn
            envs["web"] = web.env
            if inner := listen_socket(web.gunicorn_bind):
                sockets.append(inner)
                commands["web"] = inherit_socket(web.gunicorn, inner.fileno())
                pass_fds["web"] = (inner.fileno(),)
            self.stdout.write(f"web: {web.note}")
        for n in range(workers):
            commands[f"worker-{n + 1}"] = [*newsdesk, "worker", "--verbosity", "0"]
        if not no_scheduler and (small or scheduler_in_worker) and workers:
            commands["worker-1"].append("--scheduler")  # one process less on a small machine
        elif not no_scheduler:
            commands["scheduler"] = [*newsdesk, "scheduler"]
        if web is not None and web.nginx:
            commands["front"] = web.nginx  # last: started once gunicorn answers
            waits["front"] = web.gunicorn_bind
            outer = listen_socket(web.bind)
            if outer is None:  # fd://N: only gunicorn takes a socket that way (plan refuses unix:)
                raise CommandError(f"nginx front: bind to HOST:PORT, not {web.bind}")
            sockets.append(outer)
            envs["front"] = nginx_inherit_env(outer.fileno())
            pass_fds["front"] = (outer.fileno(),)

        for name in commands:
            if name not in ("front", "embedder"):  # nginx embeds nothing
                envs[name] = {**shared, **envs.get(name, {})}
        supervisor = Supervisor(
            commands,
            self.stdout,
            envs=envs,
            waits=waits,
            pass_fds=pass_fds,
            groups={"web": signal.SIGKILL, "front": signal.SIGQUIT},
        )
        signal.signal(signal.SIGTERM, lambda *_: supervisor.stop())
        signal.signal(signal.SIGINT, lambda *_: supervisor.stop())
        if not no_web:
            threading.Thread(target=self._announce, args=(bind, supervisor), name="announce", daemon=True).start()
        try:
            supervisor.run()
        finally:
            for sock in sockets:
                sock.close()
            if embedder_path is not None:
                Path(embedder_path).unlink(missing_ok=True)
        if web is not None and web.nginx_dir is not None:
            remove_runtime(web.nginx_dir)

    def _announce(self, bind: str, supervisor: Supervisor) -> None:
        """The address, once the site answers there (not while it is still starting)."""
        address = bind.replace("0.0.0.0:", "127.0.0.1:").replace("[::]:", "[::1]:")
        if bind.startswith(("unix:", "fd://")) or wait_for_http(address, 300, lambda: not supervisor.stopping):
            self.stdout.write(f"newsdesk is up on http://{bind}/ (Ctrl-C stops it)")


def prepare(stdout: OutputWrapper) -> None:
    """Migrate, create the cache table, collect static files, load the default
    publishers on first start."""
    from newsdesk.pipeline.add import load_default_publishers
    from newsdesk.sources.models import Source

    call_command("migrate", interactive=False, verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    if settings.NEWSDESK_DEFAULT_SOURCES and not Source.objects.exists():
        count = load_default_publishers()
        stdout.write(f"loaded {count} default publishers")


def prepare_in_child() -> None:
    """`prepare` in a process of its own: migrations and collectstatic leave 60 MB of
    modules and caches behind, which the supervisor, living as long as the site, would
    otherwise hold all along."""
    done = subprocess.run([sys.executable, "-m", "newsdesk", "up", "--prepare-only"], check=False)
    if done.returncode != 0:
        raise CommandError(f"preparing the data directory failed (exit {done.returncode})")


def embedder_socket_path(data_dir: Path) -> str:
    """`<data dir>/embedder.sock`, or a name in the temporary directory when that path
    is longer than a unix socket address may be (108 bytes on Linux)."""
    path = str(Path(data_dir) / "embedder.sock")
    if len(path.encode()) < 100:
        return path
    digest = hashlib.sha256(str(Path(data_dir).resolve()).encode()).hexdigest()[:16]
    return str(Path(tempfile.gettempdir()) / f"newsdesk-embedder-{digest}.sock")


class Supervisor:
    """Keep child processes running; stop them all together.

    A child that exits is restarted at once (a reader waits for the web server, not for
    the supervisor), and only a child that keeps dying within STABLE seconds of its start
    waits, doubling from RETRY up to MAX_RETRY, so a broken one does not spin the CPU.
    Children named in `groups` (the web server and nginx: a master with its workers) run
    in a process group of their own; when the master exits, whatever is left of its group
    gets the signal `groups` names (SIGKILL for gunicorn; SIGQUIT lets nginx's workers
    finish the requests they hold, as their successor serves the same socket), so no
    orphaned worker lingers, and the master gets SIGTERM should the supervisor itself
    die (PR_SET_PDEATHSIG). `pass_fds` are inherited
    by a child, as the listening sockets the web servers share across their restarts.
    """

    POLL = 0.05  # seconds between looks at the children: how soon a death is noticed
    STABLE = 10.0
    RETRY = 0.25
    MAX_RETRY = 30.0

    def __init__(
        self,
        commands: dict[str, list[str]],
        out: OutputWrapper,
        envs: dict[str, dict[str, str]] | None = None,
        waits: dict[str, str] | None = None,
        pass_fds: dict[str, tuple[int, ...]] | None = None,
        groups: dict[str, int] | None = None,
    ) -> None:
        self.commands = commands
        self.out = out
        self.envs = envs or {}
        self.waits = waits or {}  # name -> HOST:PORT where an HTTP server must answer first
        self.pass_fds = pass_fds or {}
        self.groups = groups or {}  # name -> signal for what is left of its process group
        self.children: dict[str, subprocess.Popen] = {}
        self.started: dict[str, float] = {}
        self.quick_exits: dict[str, int] = {}
        self.restart_at: dict[str, float] = {}
        self.stopping = False

    def run(self) -> None:
        for name in self.commands:
            if name in self.waits and not wait_for_http(self.waits[name], 120, lambda: not self.stopping):
                if self.stopping:
                    break
                self.out.write(f"{self.waits[name]} did not answer within 120 s; starting {name} anyway")
            self._start(name)
        while not self.stopping:
            self._watch()
            time.sleep(self.POLL)
        self._terminate()

    def stop(self) -> None:
        self.stopping = True

    def _watch(self) -> None:
        now = time.monotonic()
        for name, child in list(self.children.items()):
            if name in self.restart_at:
                if now >= self.restart_at[name]:
                    del self.restart_at[name]
                    self._start(name)
            elif child.poll() is not None:
                self._signal_group(name, child, self.groups.get(name))
                delay = self._restart_delay(name, now)
                self.out.write(
                    f"{name} exited with {child.returncode}; restarting" + (f" in {delay:g} s" if delay else "")
                )
                self.restart_at[name] = now + delay

    def _restart_delay(self, name: str, now: float) -> float:
        """0 after a child that ran for a while, or died young once; then a doubling wait
        while it keeps dying young."""
        if now - self.started[name] >= self.STABLE:
            self.quick_exits[name] = 0
        self.quick_exits[name] = self.quick_exits.get(name, 0) + 1
        if self.quick_exits[name] == 1:
            return 0.0
        return min(self.MAX_RETRY, self.RETRY * 2 ** (self.quick_exits[name] - 2))

    def _start(self, name: str) -> None:
        env = {**os.environ, **self.envs[name]} if self.envs.get(name) else None
        own_group = name in self.groups
        self.children[name] = subprocess.Popen(
            self.commands[name],
            env=env,
            pass_fds=self.pass_fds.get(name, ()),
            process_group=0 if own_group else None,
            preexec_fn=partial(die_with_parent, signal.SIGTERM, os.getpid()) if own_group else None,
        )
        self.started[name] = time.monotonic()

    def _signal_group(self, name: str, child: subprocess.Popen, sig: int | None) -> None:
        """Send `sig` to what is left of an exited master's process group (its workers)."""
        if name not in self.groups or sig is None:
            return
        try:
            os.killpg(child.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def _terminate(self) -> None:
        for child in self.children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for name, child in self.children.items():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            self._signal_group(name, child, signal.SIGKILL)
