"""A web process loads the embedding model and the site as it starts and then exempts
what it loaded from the garbage collector, whose full collections walked half a million
long-lived objects with the model (a 200 ms pause of every request in the process), and
still some 85,000 with the site loaded by the first requests (50-60 ms)."""

from __future__ import annotations

from pathlib import Path

from bench.web import site_env
from tests.subprocess_json import prepare_site, run_json, run_python

CHILD = """
import gc, json, threading
import newsdesk.wsgi
warm = [t for t in threading.enumerate() if t.name == "warm-up"]
for thread in warm:
    thread.join(120)
from newsdesk.ai import embeddings
print(json.dumps({"warm_up_threads": len(warm), "frozen": gc.get_freeze_count(),
                  "tracked": len(gc.get_objects()), "model_loaded": embeddings._model is not None}))
"""


def _run(tmp_path: Path, warm_up: str) -> dict:
    return run_json(["-c", CHILD], tmp_path, timeout=180, NEWSDESK_WARM_UP=warm_up)


def test_the_warmed_up_model_is_frozen_out_of_full_collections(tmp_path):
    warmed = _run(tmp_path, "1")
    assert warmed["warm_up_threads"] == 1 and warmed["model_loaded"]
    # Most of what lives in the process is frozen: the model, the libraries, Django.
    assert warmed["frozen"] > 4 * warmed["tracked"], warmed


def test_without_warm_up_nothing_is_loaded_or_frozen(tmp_path):
    cold = _run(tmp_path, "0")
    assert cold == {**cold, "warm_up_threads": 0, "frozen": 0, "model_loaded": False}


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
        tracked[mode] = int(run_python(["-c", SERVE, mode], env, timeout=240).split()[-1])
    # About 6,000 against 80,000 here: a full pass walks a tenth of what it did.
    assert tracked["site"] * 4 < tracked["libraries"], tracked
