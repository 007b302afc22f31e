"""A web process's warm-up (newsdesk/wsgi.py) loads the site before it freezes what is
loaded, so the garbage collector's full passes walk only what requests leave behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.web import site_env
from tests.site_support import prepare_site

ROOT = Path(__file__).resolve().parent.parent

# Serves three pages through the WSGI application after the warm-up ("site": wsgi's own;
# "libraries": what it did before, freezing what was imported by then), and prints how
# many objects the collector still tracks.
SERVE = """
import gc, io, sys
from newsdesk import wsgi
if sys.argv[1] == "site":
    wsgi.warm_up()
else:
    gc.collect(); gc.freeze()
for path in ("/", "/search/", "/stories/"):
    statuses = []
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "q=news", "SERVER_NAME": "127.0.0.1",
               "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1", "wsgi.input": io.BytesIO(), "wsgi.url_scheme": "http",
               "REMOTE_ADDR": "127.0.0.1"}
    b"".join(wsgi.application(environ, lambda status, headers, exc_info=None: statuses.append(status)))
    assert statuses == ["200 OK"], (path, statuses)
gc.collect()
print(len(gc.get_objects()))
"""


def test_the_warm_up_freezes_the_site_not_only_the_libraries(tmp_path):
    env = {**site_env(tmp_path / "data"), "NEWSDESK_WARM_UP": "0", "NEWSDESK_EMBEDDER": str(tmp_path / "none.sock")}
    prepare_site(env, static=True)
    tracked = {}
    for mode in ("site", "libraries"):
        run = subprocess.run(
            [sys.executable, "-c", SERVE, mode], env=env, cwd=ROOT, capture_output=True, text=True, timeout=240
        )
        assert run.returncode == 0, run.stderr[-3000:]
        tracked[mode] = int(run.stdout.split()[-1])
    # About 6,000 against 80,000 here: a full pass walks a tenth of what it did.
    assert tracked["site"] * 4 < tracked["libraries"], tracked
