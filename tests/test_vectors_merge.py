"""The vector index's two parts (issue 18): one HNSW graph and a small recent part searched
exactly, merged at saves; removals, expiry, `since`, crashes and readers in other processes.

Real USearch indexes on the benchmark's clustered vectors, no database.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import faiss
import numpy as np
import pytest
from usearch.index import Index

from bench.vectors import exact_neighbours, recall, synthetic_embeddings
from newsdesk.stories import vectors
from newsdesk.stories.vectors import DAY, ORIGIN, RECENT_MAX, REMOVED_MAX, VectorIndex

WEEK = 7 * DAY
MONDAY = ORIGIN + 2900 * WEEK


def week(n: int, offset_days: float = 0.5) -> float:
    return MONDAY + n * WEEK + offset_days * DAY


@pytest.fixture(scope="module")
def data() -> np.ndarray:
    return synthetic_embeddings(12_000, 384, seed=11)


def manifest(directory) -> dict:
    return json.loads((directory / "manifest.json").read_text())


def graph_size(directory) -> int:
    """Slots in the saved graph's file, dead ones included."""
    return faiss.read_index(str(directory / f"{manifest(directory)['main']}.faiss")).ntotal


def top(index: VectorIndex, vector: np.ndarray) -> int:
    return index.search(vector, 1)[0][0]


def test_recent_part_merges_into_the_graph_and_other_processes_follow(tmp_path, data):
    first = RECENT_MAX // 2
    with VectorIndex(tmp_path).writing() as writer:
        writer.add(range(first), data[:first], [week(0)] * first)
    assert manifest(tmp_path)["main"] is None  # small: the recent part alone, searched exactly
    np.save(tmp_path.parent / "queries.npy", data[[5, first + 10, first + 900]])
    script = textwrap.dedent(
        f"""
        import sys, numpy as np
        from newsdesk.stories.vectors import VectorIndex
        reader = VectorIndex.load({str(tmp_path)!r})
        queries = np.load({str(tmp_path.parent / "queries.npy")!r})
        print([reader.search(q, 1)[0][0] for q in queries], len(reader), flush=True)
        sys.stdin.readline()
        print([reader.search(q, 1)[0][0] for q in queries], len(reader), flush=True)
        """
    )
    reader = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=os.getcwd()
    )
    assert reader.stdout is not None and reader.stdin is not None
    before = reader.stdout.readline().split("] ")
    assert before[0].startswith("[5,") and before[1].strip() == str(first)

    with VectorIndex.open(tmp_path).writing() as writer:  # past RECENT_MAX: the save merges
        writer.add(range(first, first + 1000), data[first : first + 1000], [week(1)] * 1000)
    saved = manifest(tmp_path)
    assert saved["main"] and saved["recent"] is None and graph_size(tmp_path) == first + 1000
    assert {p.name for p in tmp_path.iterdir()} == {
        "manifest.json",
        "lock",
        f"{saved['main']}.faiss",
        f"{saved['main']}.npz",
    }

    reader.stdin.write("\n")
    reader.stdin.flush()
    second = reader.stdout.readline()
    assert reader.wait(timeout=60) == 0
    assert second.strip() == f"[5, {first + 10}, {first + 900}] {first + 1000}"  # it reopened by itself

    # Small saves after a merge leave the graph's file alone.
    with VectorIndex.open(tmp_path).writing() as writer:
        writer.add([5000], data[5000:5001], [week(1)])
    assert manifest(tmp_path)["main"] == saved["main"] and manifest(tmp_path)["recent"]
    fresh = VectorIndex.load(tmp_path)
    assert top(fresh, data[5000]) == 5000 and top(fresh, data[first + 10]) == first + 10
    assert len(fresh) == first + 1001


def test_removed_and_replaced_ids_in_the_graph(tmp_path, data):
    VectorIndex(tmp_path).rebuild((i, data[i], week(0)) for i in range(3000))
    graph = manifest(tmp_path)["main"]
    with VectorIndex.open(tmp_path).writing() as writer:
        writer.remove([5, 6, 99_999])
        writer.add([7], data[9000:9001], [week(0)])  # a new vector for an id in the graph
    assert manifest(tmp_path)["main"] == graph  # recorded beside the graph, not by rewriting it
    reader = VectorIndex.load(tmp_path)
    assert len(reader) == 2998 and 5 not in reader and 7 in reader
    for gone in (5, 6):
        assert gone not in [key for key, _ in reader.search(data[gone], 20)]
    assert reader.search(data[9000], 1)[0] == (7, pytest.approx(1.0, abs=2e-3))
    assert all(key != 7 for key, _ in reader.search(data[7], 5))
    # Every one of the k answers is there although the graph's own nearest were removed.
    assert len(reader.search(data[5], 10, exclude=[4])) == 10

    with VectorIndex.open(tmp_path).writing() as writer:  # enough for a merge
        writer.add(range(3000, 4100), data[3000:4100], [week(0)] * 1100)
    merged = VectorIndex.load(tmp_path)
    assert manifest(tmp_path)["main"] != graph and manifest(tmp_path)["recent"] is None
    # 5, 6 and 7's old vector stay in the file as dead slots (FAISS's graph cannot remove
    # them; few enough not to rebuild it), and are never an answer.
    assert len(merged) == 2998 + 1100 and graph_size(tmp_path) == 3000 + 1101
    assert 5 not in [key for key, _ in merged.search(data[5], 20)]
    assert all(key != 7 for key, _ in merged.search(data[7], 5))
    assert top(merged, data[9000]) == 7 and top(merged, data[4000]) == 4000
    assert len(merged.search(data[6], 3000)) == 3000 and 5 not in merged and 7 in merged


def test_an_expired_week_leaves_at_once_and_the_graph_is_rebuilt(tmp_path, data):
    VectorIndex(tmp_path, keep_windows=2).rebuild(
        [(i, data[i], week(0)) for i in range(1000)] + [(i, data[i], week(1)) for i in range(1000, 2000)]
    )
    reader = VectorIndex.load(tmp_path, keep_windows=2)
    writer = VectorIndex.open(tmp_path, keep_windows=2)
    with writer.writing():
        writer.add([5000], data[5000:5001], [week(2)])  # week 0 expires
        assert 10 not in writer and top(writer, data[10]) != 10 and len(writer) == 1001
    assert graph_size(tmp_path) == 1001  # built anew from what is left
    assert all(key >= 1000 for key, _ in reader.search(data[10], 30))  # a search reopens
    assert reader.windows() == {2901: 1000, 2902: 1}
    assert top(reader, data[1500]) == 1500 and top(reader, data[5000]) == 5000


def test_since_on_the_graph(tmp_path, data, monkeypatch):
    base = data[:8000]
    times = MONDAY + np.arange(8000) * (4 * WEEK / 8000)
    VectorIndex(tmp_path).rebuild((i, base[i], times[i]) for i in range(8000))
    index = VectorIndex.load(tmp_path)
    rounded = base.astype(np.float16).astype(np.float32)
    for since in (week(3, 3.0), week(1, 2.0)):  # few new enough (compared exactly), then most
        newer = np.flatnonzero(times >= since)
        for query in data[9000:9020]:
            hits = index.search(query, 10, since=since)
            assert len(hits) == 10 and all(times[key] >= since for key, _ in hits)
            truth = newer[np.argsort(-(rounded[newer] @ query))[:10]]
            overlap = len({key for key, _ in hits} & set(truth.tolist()))
            assert overlap == 10 if len(newer) <= vectors.EXACT_MAX else overlap >= 8
    # With few vectors new enough and no exact comparison, the graph is asked for more
    # candidates (again, when too few of them were new enough) until k are found.
    monkeypatch.setattr(vectors, "EXACT_MAX", 0)
    since = week(3, 6.0)  # 3.6% of the vectors
    newer = np.flatnonzero(times >= since)
    overlaps = []
    for query in base[:20]:
        hits = index.search(query, 10, since=since)
        assert len(hits) == 10 and all(times[key] >= since for key, _ in hits)
        truth = newer[np.argsort(-(rounded[newer] @ query))[:10]]
        overlaps.append(len({key for key, _ in hits} & set(truth.tolist())) / 10)
    assert np.mean(overlaps) >= 0.8


def test_a_crash_during_a_merge_leaves_the_previous_index(tmp_path, data, monkeypatch):
    VectorIndex(tmp_path).rebuild((i, data[i], week(0)) for i in range(1500))
    before = manifest(tmp_path)
    expected = VectorIndex.load(tmp_path).search(data[11_000], 10)
    real_replace = os.replace

    def die_at_manifest(src, dst):
        if str(dst).endswith("manifest.json"):
            raise KeyboardInterrupt("killed")
        real_replace(src, dst)

    monkeypatch.setattr(vectors.os, "replace", die_at_manifest)
    with pytest.raises(KeyboardInterrupt), VectorIndex.open(tmp_path).writing() as writer:
        writer.add(range(1500, 1500 + RECENT_MAX + 1), data[1500 : 1501 + RECENT_MAX], [week(0)] * (RECENT_MAX + 1))
    monkeypatch.undo()
    assert manifest(tmp_path) == before
    survivor = VectorIndex.load(tmp_path)
    assert len(survivor) == 1500 and survivor.search(data[11_000], 10) == expected
    with survivor.writing():  # the next save sweeps away the merged files nobody names
        survivor.add([1], data[1:2], [week(0)])
    saved = manifest(tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == {
        "manifest.json",
        "lock",
        f"{saved['main']}.faiss",
        f"{saved['main']}.npz",
        f"{saved['recent']}.npz",
    }


def test_an_index_of_weekly_shards_is_read_and_converted(tmp_path, data):
    """Version 1 saved a graph per week; a site upgraded in place keeps its vectors."""
    shards = {}
    for n in range(2):
        keys = np.arange(n * 100, n * 100 + 100, dtype=np.uint64)
        shard = Index(ndim=384, metric="ip", dtype="f16", connectivity=16)
        shard.add(keys, data[n * 100 : n * 100 + 100])
        shard.save(str(tmp_path / f"w{2900 + n}-g3.usearch"))
        np.savez(tmp_path / f"w{2900 + n}-g3.npz", keys=keys, times=np.full(100, week(n)))
        shards[str(2900 + n)] = f"w{2900 + n}-g3"
    (tmp_path / "manifest.json").write_text(
        json.dumps(
            {"version": 1, "dimensions": 384, "window_days": 7, "dtype": "f16", "connectivity": 16}
            | {"generation": 3, "shards": shards}
        )
    )
    (tmp_path / "watermark.json").write_text("{}")  # index.py's, beside the index
    reader = VectorIndex.load(tmp_path)
    assert len(reader) == 200 and reader.windows() == {2900: 100, 2901: 100} and top(reader, data[150]) == 150
    with VectorIndex.open(tmp_path).writing() as writer:
        writer.add([500], data[500:501], [week(1)])
    saved = manifest(tmp_path)
    assert saved["version"] == vectors.MANIFEST_VERSION and saved["main"] and graph_size(tmp_path) == 201
    assert not list(tmp_path.glob("w29*")) and (tmp_path / "watermark.json").exists()
    assert top(reader, data[150]) == 150 and top(reader, data[500]) == 500 and len(reader) == 201


def test_readers_in_threads_while_merges_replace_the_graph(tmp_path, data):
    """A merge deletes the graph's old file while web threads may still be searching it."""
    import threading

    VectorIndex(tmp_path).rebuild((i, data[i], week(0)) for i in range(2000))
    reader = VectorIndex.load(tmp_path)
    errors: list[BaseException] = []

    def read() -> None:
        try:
            for i in range(400):
                assert reader.search(data[i], 5)[0][0] == i
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=read) for _ in range(3)]
    for thread in threads:
        thread.start()
    graphs = set()
    for n in range(3):
        start = 2000 + n * (RECENT_MAX + 1)
        stop = start + RECENT_MAX + 1
        with VectorIndex.open(tmp_path).writing() as writer:
            writer.add(range(start, stop), data[start:stop], [week(n % 2)] * (stop - start))
        graphs.add(manifest(tmp_path)["main"])
    for thread in threads:
        thread.join()
    assert not errors and len(graphs) == 3  # three merges, three files
    assert top(reader, data[stop - 1]) == stop - 1 and len(reader) == stop


def test_dead_slots_are_never_answers_and_too_many_rebuild_the_graph(tmp_path, data):
    """Replaced and removed vectors stay in FAISS's graph as dead slots until they pass
    REBUILD_FRACTION of it; recall against exact search holds meanwhile."""
    VectorIndex(tmp_path).rebuild((i, data[i], week(0)) for i in range(6000))
    vectors_now = {i: data[i] for i in range(6000)}
    replaced = list(range(0, 6000, 60))  # 100 ids get new vectors: 1.5% of the slots die
    added = range(6000, 6001 + RECENT_MAX)
    with VectorIndex.open(tmp_path).writing() as writer:  # past RECENT_MAX: a merge
        writer.add(replaced, data[7000:7100], [week(0)] * 100)
        writer.add(added, data[added.start : added.stop], [week(0)] * len(added))
    vectors_now |= {key: data[7000 + n] for n, key in enumerate(replaced)}
    vectors_now |= {key: data[key] for key in added}
    reader = VectorIndex.load(tmp_path)
    assert manifest(tmp_path)["recent"] is None and len(reader) == len(vectors_now)
    assert graph_size(tmp_path) == len(vectors_now) + 100  # the old vectors' slots, dead

    keys = np.array(sorted(vectors_now))
    stored = np.stack([vectors_now[key] for key in keys]).astype(np.float16).astype(np.float32)
    queries = data[10_000:10_200]
    truth = keys[exact_neighbours(stored, queries, 10)]
    found = [[key for key, _ in reader.search(query, 10)] for query in queries]
    assert all(len(hits) == 10 for hits in found) and recall(found, truth, 10) >= 0.95
    for n, key in enumerate(replaced[:20]):
        assert top(reader, data[7000 + n]) == key
        # Asked with its old vector, the id answers with its new one's similarity, if at all.
        for hit, similarity in reader.search(data[key], 5):
            if hit == key:
                assert similarity == pytest.approx(float(stored[np.searchsorted(keys, key)] @ data[key]), abs=2e-3)

    # Removals that take the dead slots past REBUILD_FRACTION: the merge builds the graph anew.
    gone = [key for key in range(1, 6000, 10)][: REMOVED_MAX + 1]
    with VectorIndex.open(tmp_path).writing() as writer:
        writer.remove(gone)
    assert not {key for key, _ in reader.search(data[11], 50)} & set(gone)  # and the reader follows
    assert manifest(tmp_path)["recent"] is None
    assert graph_size(tmp_path) == len(reader) == len(vectors_now) - len(gone)


def test_a_version_2_index_of_one_usearch_graph_is_read_and_converted(tmp_path, data):
    """The layout before FAISS: one USearch graph with a recent part and removed ids."""
    keys = np.arange(300, dtype=np.uint64)
    graph = Index(ndim=384, metric="ip", dtype="f16", connectivity=16)
    graph.add(keys, data[:300])
    graph.save(str(tmp_path / "m-g4.usearch"))
    np.savez(tmp_path / "m-g4.npz", keys=keys, times=np.full(300, week(0)))
    np.savez(
        tmp_path / "r-g5.npz",
        keys=np.array([7, 400], np.uint64),  # 7 was replaced: its graph vector is removed
        times=np.array([week(1), week(1)]),
        vectors=data[[900, 400]].astype(np.float16),
        removed=np.array([5, 7], np.uint64),
    )
    (tmp_path / "manifest.json").write_text(
        json.dumps(
            {"version": 2, "dimensions": 384, "window_days": 7, "dtype": "f16", "connectivity": 16}
            | {"generation": 5, "newest_window": 2901, "main": "m-g4", "recent": "r-g5"}
        )
    )
    reader = VectorIndex.load(tmp_path)
    assert len(reader) == 300 and 5 not in reader and reader.windows() == {2900: 298, 2901: 2}
    assert top(reader, data[900]) == 7 and top(reader, data[150]) == 150
    with VectorIndex.open(tmp_path).writing() as writer:
        writer.add([500], data[500:501], [week(1)])
    saved = manifest(tmp_path)
    assert saved["version"] == vectors.MANIFEST_VERSION and saved["main"] and graph_size(tmp_path) == 301
    assert not list(tmp_path.glob("*.usearch"))
    assert top(reader, data[900]) == 7 and top(reader, data[500]) == 500 and len(reader) == 301
    assert 5 not in [key for key, _ in reader.search(data[5], 10)]


def test_a_writer_killed_while_writing_the_graph_leaves_the_previous_index(tmp_path, data):
    """A real crash (SIGKILL) in the middle of a merge's 870 MB write, not an exception."""
    import signal
    import time

    VectorIndex(tmp_path).rebuild((i, data[i], week(0)) for i in range(2000))
    before = manifest(tmp_path)
    expected = VectorIndex.load(tmp_path).search(data[11_000], 10)
    script = textwrap.dedent(
        f"""
        import faiss, time, numpy as np
        from bench.vectors import synthetic_embeddings
        from newsdesk.stories import vectors
        real = vectors._save_graph
        def slow(index, path):  # write, then wait to be killed before the rename
            real(index, path)
            print("written", flush=True)
            time.sleep(60)
        vectors._save_graph = slow
        data = synthetic_embeddings(12_000, 384, seed=11)
        with vectors.VectorIndex.open({str(tmp_path)!r}).writing() as writer:
            writer.add(range(2000, 2600), data[2000:2600], [{week(0)!r}] * 600)
        """
    )
    writer = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=os.getcwd())
    assert writer.stdout is not None
    assert writer.stdout.readline().strip() == "written"
    assert list(tmp_path.glob("m-g*.faiss.tmp"))
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=30)
    time.sleep(0.1)
    assert manifest(tmp_path) == before
    survivor = VectorIndex.load(tmp_path)
    assert len(survivor) == 2000 and survivor.search(data[11_000], 10) == expected
    with VectorIndex.open(tmp_path).writing() as next_writer:  # the lock died with the writer
        next_writer.add([5000], data[5000:5001], [week(0)])
    assert not list(tmp_path.glob("*.tmp")) and top(VectorIndex.load(tmp_path), data[5000]) == 5000


def test_a_reader_maps_a_new_graph_in_ahead_of_its_searches(tmp_path, data):
    """The first search after a graph is opened starts mapping all of its pages ahead of
    use (otherwise each page's first touch by a search is a page fault)."""
    import threading

    VectorIndex(tmp_path).rebuild((i, data[i], week(0)) for i in range(3000))
    reader = VectorIndex.load(tmp_path)
    path = os.path.realpath(tmp_path / f"{manifest(tmp_path)['main']}.faiss")

    def resident_kb() -> int:
        """Resident kB of this process's mapping of the graph's file."""
        total, inside = 0, False
        with open("/proc/self/smaps") as smaps:
            for line in smaps:
                if "-" in line.split(" ", 1)[0]:
                    inside = line.rstrip("\n").endswith(" " + path)
                elif inside and line.startswith("Rss:"):
                    total += int(line.split()[1])
        return total

    size = os.path.getsize(path)
    assert resident_kb() * 1024 < size / 2  # opening maps the file, but touches little of it
    vectors._prefault_later(tmp_path / f"{manifest(tmp_path)['main']}.faiss")
    for thread in threading.enumerate():
        if thread.name == "vector-index-prefault":
            thread.join(timeout=10)
    assert resident_kb() * 1024 >= size - 4096
    # The first search of a newly opened graph is what starts it, once.
    assert reader._cold is not None and top(reader, data[10]) == 10 and reader._cold is None
