"""`newsdesk up`: the whole site in one process group.

Migrates, then supervises the web server, the task workers and the scheduler as child
processes: a child that dies is restarted, Ctrl-C or SIGTERM stops them all.

The web server is nginx in front of gunicorn when nginx is installed (a microcache of
anonymous pages, see newsdesk/web/front.py), else gunicorn alone; `--front` or
NEWSDESK_FRONT chooses. nginx starts once gunicorn answers, so the public address never
answers 502 while the site is starting.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from newsdesk.articles.subscribe import load_default_publishers
from newsdesk.sources.models import Source
from newsdesk.web.front import Front, plan, remove_runtime, wait_for_port


class Command(BaseCommand):
    help = "Migrate, then run the web server, task workers and scheduler until interrupted."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("NEWSDESK_BIND", "127.0.0.1:8000"))
        parser.add_argument("--web-workers", type=int, default=int(os.environ.get("NEWSDESK_WEB_WORKERS", "2")))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("NEWSDESK_WORKERS", "2")),
                            help="task worker processes")
        parser.add_argument("--no-web", action="store_true")
        parser.add_argument("--no-scheduler", action="store_true",
                            help="when another machine runs the one scheduler")
        parser.add_argument("--front", choices=["auto", "nginx", "gunicorn"],
                            default=os.environ.get("NEWSDESK_FRONT", "auto"),
                            help="nginx microcache in front of gunicorn (auto: when nginx is installed)")

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
        web: Front | None = None
        if not no_web:
            web = plan(bind, web_workers, settings.DATA_DIR, front=front)
            commands["web"] = web.gunicorn
            envs["web"] = web.env
            self.stdout.write(f"web: {web.note}")
        for n in range(workers):
            commands[f"worker-{n + 1}"] = [*newsdesk, "worker", "--verbosity", "0"]
        if not no_scheduler:
            commands["scheduler"] = [*newsdesk, "scheduler"]
        if web is not None and web.nginx:
            commands["front"] = web.nginx  # last: started once gunicorn answers
            waits["front"] = web.gunicorn_bind

        supervisor = Supervisor(commands, self.stdout, envs=envs, waits=waits)
        signal.signal(signal.SIGTERM, lambda *_: supervisor.stop())
        signal.signal(signal.SIGINT, lambda *_: supervisor.stop())
        if not no_web:
            self.stdout.write(f"newsdesk is up on http://{bind}/ (Ctrl-C stops it)")
        supervisor.run()
        if web is not None and web.nginx_dir is not None:
            remove_runtime(web.nginx_dir)


class Supervisor:
    """Keep child processes running; stop them all together."""

    def __init__(self, commands: dict[str, list[str]], out, envs: dict[str, dict[str, str]] | None = None,
                 waits: dict[str, str] | None = None) -> None:
        self.commands = commands
        self.out = out
        self.envs = envs or {}
        self.waits = waits or {}  # name -> HOST:PORT that must accept connections first
        self.children: dict[str, subprocess.Popen] = {}
        self.stopping = False

    def run(self) -> None:
        for name in self.commands:
            if name in self.waits and not wait_for_port(self.waits[name], 120, lambda: not self.stopping):
                if self.stopping:
                    break
                self.out.write(f"{self.waits[name]} did not answer within 120 s; starting {name} anyway")
            self._start(name)
        while not self.stopping:
            for name, child in list(self.children.items()):
                if child.poll() is not None and not self.stopping:
                    self.out.write(f"{name} exited with {child.returncode}; restarting")
                    time.sleep(1)
                    self._start(name)
            time.sleep(0.5)
        self._terminate()

    def stop(self) -> None:
        self.stopping = True

    def _start(self, name: str) -> None:
        env = {**os.environ, **self.envs[name]} if self.envs.get(name) else None
        self.children[name] = subprocess.Popen(self.commands[name], env=env)

    def _terminate(self) -> None:
        for child in self.children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for child in self.children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
