"""A web process loads the embedding model as it starts and then exempts what it loaded
from the garbage collector, whose full collections walked half a million long-lived
objects (a 200 ms pause of every request in the process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

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
    env = {
        **os.environ,
        "NEWSDESK_DATA_DIR": str(tmp_path),
        "NEWSDESK_LOG_LEVEL": "WARNING",
        "NEWSDESK_WARM_UP": warm_up,
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    out = subprocess.run(
        [sys.executable, "-c", CHILD],
        env=env,
        cwd=Path(__file__).parents[1],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_warmed_up_model_is_frozen_out_of_full_collections(tmp_path):
    warmed = _run(tmp_path, "1")
    assert warmed["warm_up_threads"] == 1 and warmed["model_loaded"]
    # Most of what lives in the process is frozen: the model, the libraries, Django.
    assert warmed["frozen"] > 4 * warmed["tracked"], warmed


def test_without_warm_up_nothing_is_loaded_or_frozen(tmp_path):
    cold = _run(tmp_path, "0")
    assert cold == {**cold, "warm_up_threads": 0, "frozen": 0, "model_loaded": False}
