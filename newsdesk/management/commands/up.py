"""`newsdesk up`: the whole site in one process group.

Migrates (in a child process), works out what to run, then becomes the supervisor
(newsdesk/supervisor.py, the standard library only: 10 MB instead of Django's 80) of the
web server, the task workers and the embedder as child processes: a child that dies is
restarted, Ctrl-C or SIGTERM stops them all. The scheduler is a thread of the first
worker (a process of its own held 200 MB for a loop that mostly sleeps);
`--scheduler-process` runs it apart.

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
threads) and one task worker beside the embedder.
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
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, OutputWrapper

from newsdesk.ai.embedder import command as embedder_command
from newsdesk.ai.embedder import listening_socket
from newsdesk.supervisor import exec_plan
from newsdesk.web.front import (
    Front,
    inherit_socket,
    listen_socket,
    nginx_inherit_env,
    plan,
    runtime_dir,
)


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
            "--scheduler-process",
            action="store_true",
            help="run the scheduler as a process of its own, not as a thread of the first task worker",
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
        scheduler_process=False,
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
            commands["embedder"] = embedder_command(listener.fileno(), settings.NEWSDESK_EMBEDDER_NICE)
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
        if not no_scheduler and workers and not (scheduler_process and not small):
            commands["worker-1"].append("--scheduler")  # one process (about 200 MB) less
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
        for sock in sockets:
            sock.set_inheritable(True)  # across the exec into the supervisor, then to the children
        remove = [embedder_path] if embedder_path else []
        if web is not None and web.nginx_dir is not None and runtime_dir(web.nginx_dir) != Path(web.nginx_dir):
            remove.append(str(runtime_dir(web.nginx_dir)))  # the microcache outlives no run
        announce = None
        if not no_web:
            if bind.startswith(("unix:", "fd://")):
                self.stdout.write(f"newsdesk is up on {bind} (Ctrl-C stops it)")
            else:
                announce = bind
        supervise(
            {
                "commands": commands,
                "envs": envs,
                "waits": waits,
                "pass_fds": {name: list(fds) for name, fds in pass_fds.items()},
                "groups": {"web": int(signal.SIGKILL), "front": int(signal.SIGQUIT)},
                "announce": announce,
                "remove": remove,
            }
        )


def supervise(layout: dict) -> None:
    """Hand over to the supervisor (newsdesk/supervisor.py): this process becomes it."""
    exec_plan(layout, Path(settings.DATA_DIR))


def prepare(stdout: OutputWrapper) -> None:
    """Migrate, create the cache table, collect static files, load the default
    publishers on first start."""
    from newsdesk.pipeline.add import load_default_publishers
    from newsdesk.sources.models import Source

    call_command("migrate", interactive=False, verbosity=0)
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
