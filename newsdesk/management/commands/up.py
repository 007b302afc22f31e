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
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from functools import partial

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, OutputWrapper

from newsdesk.pipeline.add import load_default_publishers
from newsdesk.sources.models import Source
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
        parser.add_argument("--no-web", action="store_true")
        parser.add_argument("--no-scheduler", action="store_true", help="when another machine runs the one scheduler")
        parser.add_argument(
            "--front",
            choices=["auto", "nginx", "gunicorn"],
            default=os.environ.get("NEWSDESK_FRONT", "auto"),
            help="nginx microcache in front of gunicorn (auto: when nginx is installed)",
        )

    def handle(self, *args, bind, web_workers, workers, no_web, no_scheduler, front="auto", **options):
        call_command("migrate", interactive=False, verbosity=0)
        call_command("createcachetable", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        if settings.NEWSDESK_DEFAULT_SOURCES and not Source.objects.exists():
            count = load_default_publishers()
            self.stdout.write(f"loaded {count} default publishers")

        newsdesk = [sys.executable, "-m", "newsdesk"]
        commands: dict[str, list[str]] = {}
        envs: dict[str, dict[str, str]] = {}
        waits: dict[str, str] = {}
        pass_fds: dict[str, tuple[int, ...]] = {}
        sockets: list[socket.socket] = []
        web: Front | None = None
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
        if not no_scheduler:
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
            self.stdout.write(f"newsdesk is up on http://{bind}/ (Ctrl-C stops it)")
        try:
            supervisor.run()
        finally:
            for sock in sockets:
                sock.close()
        if web is not None and web.nginx_dir is not None:
            remove_runtime(web.nginx_dir)


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
