"""Throw-away PostgreSQL and Redis servers for CI, the tests and `newsdesk bench scale`.

    python -m devtools.services DIR [--pg-port N] [--redis-port N] [--role NAME] [--env-file FILE]

See bin/_services. Imports nothing from Django, so it runs without settings.
"""

from __future__ import annotations

import argparse
import ctypes
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from newsdesk.web.front import free_port


def postgres_bindir() -> Path | None:
    """The newest PostgreSQL server binaries: Debian's /usr/lib/postgresql/N/bin, or PATH."""
    found = sorted(
        (Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if found:
        return found[-1]
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _die_with_parent() -> None:
    """In the child before exec: stop when the process that started it dies (PR_SET_PDEATHSIG).

    SIGINT is PostgreSQL's fast shutdown and stops Redis as well.
    """
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGINT)
    except OSError:
        pass


def _service_user() -> pwd.struct_passwd | None:
    """PostgreSQL refuses to run as root: as root, run it as `postgres` (Debian's package
    creates it) or else `nobody`. None when we are not root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root and neither a postgres nor a nobody user exists")


def _wait_for_port(port: int, process: subprocess.Popen, what: str, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}:\n{_tail(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout:.0f}s:\n{_tail(log)}")


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class LocalPostgres:
    """A PostgreSQL server of our own: initdb into `root`, listen on 127.0.0.1:`port` only
    (no Unix socket), trust authentication, a login role `role` with CREATEDB owning a
    database of the same name. `durable=False` (tests) turns fsync off."""

    def __init__(
        self,
        root: Path,
        port: int | None = None,
        *,
        role: str = "newsdesk",
        durable: bool = False,
        settings: dict[str, str] | None = None,
    ) -> None:
        self.root = Path(root)
        self.port = port or free_port()
        self.role = role
        self.durable = durable
        self.settings = settings or {}
        self.process: subprocess.Popen | None = None
        self.bindir = postgres_bindir()
        if self.bindir is None:
            raise RuntimeError("PostgreSQL's server binaries (initdb) are not installed")

    @property
    def data(self) -> Path:
        return self.root / "pgdata"

    @property
    def log(self) -> Path:
        return self.root / "postgres.log"

    def url(self, database: str | None = None) -> str:
        return f"postgres://{self.role}@127.0.0.1:{self.port}/{database or self.role}"

    def _run_as(self) -> dict:
        user = _service_user()
        if user is None:
            return {}
        return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}

    def start(self) -> LocalPostgres:
        """Create the cluster (or reuse the one already in `root`) and start the server."""
        self.root.mkdir(parents=True, exist_ok=True)
        user = _service_user()
        if user is not None:
            os.chown(self.root, user.pw_uid, user.pw_gid)
            # mkdtemp makes 0700 directories: let the server's user pass through ours.
            for parent in self.root.parents:
                if parent == Path(tempfile.gettempdir()) or parent == parent.parent:
                    break
                mode = parent.stat().st_mode
                if parent.stat().st_uid == os.geteuid() and not mode & 0o001:
                    parent.chmod(mode | 0o711)
        as_user = self._run_as()
        if not (self.data / "PG_VERSION").exists():
            self._initdb(as_user)
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [str(self.bindir / "postgres"), "-D", str(self.data), "-p", str(self.port)],
                cwd=self.root,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=_die_with_parent,
                **as_user,
            )
        _wait_for_port(self.port, self.process, "postgres", self.log)
        self._bootstrap()
        return self

    def _initdb(self, as_user: dict) -> None:
        subprocess.run(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-instructions",
            ],
            check=True,
            cwd=self.root,
            stdout=subprocess.DEVNULL,
            **as_user,
        )
        conf = {
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": "''",
            "max_connections": "300",
            "shared_buffers": "256MB",
            "work_mem": "16MB",
            "maintenance_work_mem": "512MB",
            "max_wal_size": "4GB",
            "logging_collector": "off",
            "log_min_messages": "warning",
        }
        if not self.durable:
            conf.update(fsync="off", synchronous_commit="off", full_page_writes="off")
        conf.update(self.settings)
        with open(self.data / "postgresql.conf", "a") as file:
            file.write("\n# newsdesk throw-away server\n")
            file.writelines(f"{key} = {value}\n" for key, value in conf.items())

    def _bootstrap(self) -> None:
        import psycopg

        deadline = time.monotonic() + 60
        while True:
            try:
                admin = psycopg.connect(f"postgres://postgres@127.0.0.1:{self.port}/postgres", autocommit=True)
                break
            except psycopg.OperationalError:  # listening, but still starting up
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        with admin:
            if not admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [self.role]).fetchone():
                admin.execute(f'CREATE ROLE "{self.role}" LOGIN CREATEDB')
            if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [self.role]).fetchone():
                admin.execute(f'CREATE DATABASE "{self.role}" OWNER "{self.role}"')

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # fast shutdown: disconnects clients
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> LocalPostgres:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class LocalRedis:
    """A Redis server of our own on 127.0.0.1:`port`: no persistence, nothing on disk."""

    def __init__(self, root: Path, port: int | None = None) -> None:
        self.root = Path(root)
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def log(self) -> Path:
        return self.root / "redis.log"

    def start(self) -> LocalRedis:
        server = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(server).exists():
            raise RuntimeError("redis-server is not installed")
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [
                    server,
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--daemonize",
                    "no",
                    "--dir",
                    str(self.root),
                    "--protected-mode",
                    "yes",
                    "--loglevel",
                    "warning",
                ],
                cwd=self.root,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=_die_with_parent,
            )
        _wait_for_port(self.port, self.process, "redis-server", self.log)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def serve(directory: Path, pg_port: int | None, redis_port: int | None, env_file: Path | None, role: str) -> None:
    """Start PostgreSQL and Redis, write their URLs as shell assignments to `env_file`, and
    keep them up until SIGTERM/SIGINT or until the parent process dies."""
    _die_with_parent_self()
    postgres = LocalPostgres(directory / "postgres", pg_port, role=role)
    redis = LocalRedis(directory / "redis", redis_port)
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        postgres.start()
        redis.start()
        text = f"DATABASE_URL={postgres.url()}\nREDIS_URL={redis.url}\n"
        if env_file:
            partial = env_file.with_suffix(".partial")
            partial.write_text(text)
            partial.rename(env_file)  # appears whole
        print(
            f"PostgreSQL on 127.0.0.1:{postgres.port} (log {postgres.log}), Redis on 127.0.0.1:{redis.port}",
            file=sys.stderr,
            flush=True,
        )
        while not stopping:
            if postgres.process.poll() is not None or redis.process.poll() is not None:
                print("a service died:\n" + _tail(postgres.log) + "\n" + _tail(redis.log), file=sys.stderr)
                raise SystemExit(1)
            time.sleep(0.5)
    finally:
        redis.stop()
        postgres.stop()


def _die_with_parent_self() -> None:
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    except OSError:
        pass


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="devtools.services", description="run PostgreSQL and Redis until stopped")
    parser.add_argument("directory", type=Path)
    parser.add_argument("--pg-port", type=int, default=None)
    parser.add_argument("--redis-port", type=int, default=None)
    parser.add_argument("--role", default="newsdesk")
    parser.add_argument("--env-file", type=Path, default=None)
    args = parser.parse_args(argv)
    serve(args.directory.resolve(), args.pg_port, args.redis_port, args.env_file, args.role)


if __name__ == "__main__":
    main()
