"""A web process loads the embedding model as it starts and then exempts what it loaded
from the garbage collector, whose full collections walked half a million long-lived
objects (a 200 ms pause of every request in the process)."""

from __future__ import annotations

from pathlib import Path

from tests.subprocess_json import run_json

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
