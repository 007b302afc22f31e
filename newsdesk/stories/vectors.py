"""Nearest-neighbour index of article embeddings: one FAISS HNSW graph plus a small exact part.

Why FAISS's HNSW with f16 vectors (issue 18): `newsdesk bench related` (bench/vectors.py)
times this index beside the libraries it could be built on, and asks for its p99 to be
at most 1.5 times the fastest one's that reaches recall@10 0.95, in no more than the
889 MB the weekly shards took at 1,000,000 vectors. Built on USearch (f16) it stayed
1.4-2 times FAISS's f32 HNSW in CPU time. Timed query by query on the same data (the
scripts and figures are in the notes, vectors.md), the cause was USearch's f16 and f32
distance kernels on this AMD EPYC (Zen 4): at the same recall its f16 graph took 1.9
times as long per query as FAISS's f32 one, its bf16 graph (native bf16 dot products)
1.2 times, FAISS's HNSW with f16 vectors (`IndexHNSWSQ`, QT_fp16) 0.8 times, as fast as
hnswlib (which keeps f32 vectors only: 1.6 GB at 1M). At 1M and recall 0.954 that is
0.42 ms of CPU per query (hnswlib 0.48, USearch bf16 about 0.56), in an 869 MB file that
FAISS (1.12 and later) memory-maps, graph and vectors (IO_FLAG_MMAP_IFC), so web
processes share one copy through the page cache as before. What FAISS's HNSW lacks is
removal: a removed or replaced vector stays in the graph's file as a dead slot, never an
answer, until the graph is built anew (see the merge below).

Why one graph (issue 18): until then every window of a week had a graph of its own, and
a query searched all eight. HNSW's cost hardly depends on a graph's size (it is about
ef x M distances whatever the count), so eight graphs cost six to eight times one. The
layout:

* The main part: one HNSW graph of every kept vector but the newest few, memory-mapped by
  readers, and beside it the article id and time of each of its slots (slots are FAISS's
  positions, in the order vectors were added; a dead slot holds the largest id of its
  type). Rewriting its file (870 MB at 1,000,000 vectors) is what a change costs, so it
  is rewritten only at a merge.
* The recent part: up to `RECENT_MAX` vectors added since the last merge, and the ids
  removed from the main part since then, in one small file that every save rewrites.
  Queries search it exactly (a matrix-vector product over at most 512 vectors).
* A merge (in `save`, when the recent part outgrows `RECENT_MAX`, or `REMOVED_MAX` ids
  were removed, or a window expired) adds the recent vectors to the graph and turns the
  removed ones into dead slots. When dead slots would make up more than
  `REBUILD_FRACTION` of the graph, as when a week expires, the graph is built anew from
  its live vectors, on all cores.

What the site needs and how it is met:

* Bounded memory. Only the newest `keep_windows` windows of `window_days` (8 weeks
  starting Monday 00:00 UTC by default), counted back from the newest window that holds
  data, are kept: when a window expires its vectors stop being found at once and leave
  the graph at the next save; adds older than the kept range are ignored. The database
  stays the source of truth, and `rebuild` brings back any range. A reader may pass a
  smaller `keep_windows` than the writer to search fewer windows (it maps the same file).
* Latency. A query searches the graph once and the recent part exactly, and merges the
  two. `since` is met by asking the graph for more candidates, in proportion to the share
  of its vectors that are older, and dropping the older ones; when only a few thousand
  vectors are new enough they are compared exactly instead.
* Crash safety. A save writes the changed files under new names (temp file, fsync,
  rename), then replaces `manifest.json` the same way; the files the manifest no longer
  names are deleted afterwards. Until the manifest is replaced, the previous manifest and
  all of its files are untouched, so a crash at any point leaves the last saved index
  loadable.
* Several processes. Readers (web processes) memory-map the graph: opening costs
  nothing, the pages are shared between processes through the page cache, and `search`
  re-reads the manifest when its file changed (one stat per query), reopening only the
  files whose names changed. Writers (workers) must hold `writing()`, an exclusive file
  lock on `lock` that makes writers take turns: it refreshes from disk, lets the caller
  add and remove, and saves. The graph is read into the writer's memory only for a merge.

Layout of the directory: `manifest.json` (settings, generation number, newest window and
the file stems), `m-g<generation>.faiss` (the graph, FAISS's own format) with
`m-g<generation>.npz` (the id and time of each slot, and the slots in id order),
`r-g<generation>.npz` (the recent part: ids, times, vectors as stored, and the ids removed
from the graph), and `lock`. An index saved by an earlier version (manifest version 1:
USearch graphs per week; version 2: one USearch graph) is read into the recent part and
turned into this layout by the next save of a writer; reading it needs USearch, which
stays installed for that.
"""

from __future__ import annotations

import ctypes
import fcntl
import json
import logging
import math
import os
import re
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, cast

import numpy as np

# FAISS's loader tells at INFO which of its builds it tried, in every process that opens
# the index: not news for a site's log.
logging.getLogger("faiss.loader").setLevel(logging.WARNING)
import faiss  # noqa: E402 (after quietening its loader)

# Chosen by `newsdesk bench related` (see bench/vectors.py): f16 vectors, M 16, and an
# ef_search with recall@10 safely above 0.95 on 1M vectors (0.954 at 96, 0.959 at 104,
# 0.962 at 112, 0.966 at 128, for 2,000 queries on one graph; each build differs a little).
DTYPE = "f16"
CONNECTIVITY = 16  # HNSW M
EXPANSION_ADD = 128  # ef_construction
EXPANSION_SEARCH = 112  # ef_search
DIMENSIONS = 384
WINDOW_DAYS = 7
KEEP_WINDOWS = 8
# The recent part is searched exactly, so its size is query time (a full one of 512
# vectors adds about 0.02 ms); every merge rewrites the graph's file, so its size is also
# how often that happens (at 18,000 articles a day, every 40 minutes; at 2,000, twice a day).
RECENT_MAX = 512
REMOVED_MAX = 512  # ids removed from the graph since the last merge
REBUILD_FRACTION = 0.05  # a merge that would leave more dead slots than this builds the graph anew
BULK = 50_000  # adds of at least this many vectors at once use every core
ADD_CHUNK = 100_000  # vectors handed to FAISS per call when a graph is built
# A query with `since` asks the graph for at most this many candidates; when no more than
# EXACT_MAX vectors are new enough, it compares those exactly instead.
CANDIDATES_MAX = 2048
EXACT_MAX = 4096
ROWS_PER_PRODUCT = 1024  # rows per matrix-vector product: larger ones wake BLAS's threads

DAY = 86400.0
ORIGIN = 4 * DAY  # 1970-01-05 00:00 UTC, a Monday: weekly windows run Monday to Monday
MANIFEST = "manifest.json"
MANIFEST_VERSION = 3
STRUCTURE = ("dimensions", "window_days", "dtype", "connectivity")
# How each dtype is stored: FAISS's scalar quantizer for f16 (None: plain f32 vectors),
# and the numpy type that holds the same values.
_STORAGE = {"f16": (faiss.ScalarQuantizer.QT_fp16, np.float16), "f32": (None, np.float32)}
_HISTOGRAM_BIN = DAY / 4  # resolution of the graph's time histogram, for `since`
_U32_MAX = np.uint64(2**32 - 1)
_DEAD32, _DEAD64 = np.uint32(2**32 - 1), np.uint64(2**64 - 1)  # the id of a dead slot
_NO_KEYS = np.empty(0, np.uint64)
_MADV_POPULATE_READ = 22  # Linux's madvise advice that maps a range's pages ahead of use
_NO_SIMS = np.empty(0, np.float32)
# The files a save names (w... are version 1's windows); nothing else in the directory,
# such as index.py's watermark.json, is ever deleted.
_FILE = re.compile(r"((?:w-?\d+|m|r)-g\d+)\.(?:faiss|usearch|npz)")


@dataclass
class _Recent:
    """Vectors not yet in the graph, sorted by id, searched exactly."""

    keys: np.ndarray  # uint64, sorted
    times: np.ndarray  # float64
    vectors: np.ndarray  # float32 rows holding the values the graph would store
    oldest: float = field(init=False)  # read by every query

    def __post_init__(self) -> None:
        self.oldest = float(self.times.min()) if len(self.times) else math.inf

    @classmethod
    def empty(cls, dimensions: int) -> _Recent:
        return cls(np.empty(0, np.uint64), np.empty(0, np.float64), np.empty((0, dimensions), np.float32))

    def take(self, rows: np.ndarray) -> _Recent:
        return _Recent(self.keys[rows], self.times[rows], self.vectors[rows])

    def nbytes(self) -> int:
        return self.keys.nbytes + self.times.nbytes + self.vectors.nbytes


class VectorIndex:
    """Cosine k-NN over unit vectors keyed by article id, kept for a number of time windows.

    Constructing opens what is saved in `directory` (nothing when it is new) and insists
    that it was built with these settings; `open()` takes the settings from what is saved
    instead. `reset=True` starts empty and replaces what is saved at the next save, for a
    rebuild with other settings.
    """

    def __init__(
        self,
        directory: Path,
        *,
        dimensions: int = DIMENSIONS,
        window_days: int = WINDOW_DAYS,
        keep_windows: int = KEEP_WINDOWS,
        dtype: str = DTYPE,
        connectivity: int = CONNECTIVITY,
        expansion_add: int = EXPANSION_ADD,
        expansion_search: int = EXPANSION_SEARCH,
        threads: int = 1,
        reset: bool = False,
    ) -> None:
        if keep_windows < 1 or window_days < 1:
            raise ValueError("keep_windows and window_days must be at least 1")
        if dtype not in _STORAGE:
            raise ValueError(f"dtype must be one of {', '.join(_STORAGE)}, not {dtype!r}")
        self.directory = Path(directory)
        self._manifest_path = str(self.directory / MANIFEST)
        self.dimensions = dimensions
        self.window_days = window_days
        self.keep_windows = keep_windows
        self.dtype = dtype
        self.connectivity = connectivity
        self.expansion_add = expansion_add
        self._expansion_search = expansion_search
        # Threads for adds of fewer than BULK vectors; 0 = all cores. One by default, so
        # that a site's small batches are inserted one after the other, each seeing the
        # last (concurrent inserts can leave a rare node unreachable in a small graph).
        # Searches always use one thread.
        self.threads = threads
        self._clear()
        self._generation = 0
        self._manifest_stat: tuple[int, int] | None = None
        self._dropped = reset  # what is saved is to be replaced wholesale
        self._replacing = reset  # what is saved is to be replaced, not refreshed from
        self._follow = False  # take the structure from the manifest (set by `open`)
        self._locked = False  # inside `writing()`
        self._refreshing = threading.RLock()  # web processes search from several threads
        if not reset:
            self.refresh()

    def _clear(self) -> None:
        self._main: faiss.IndexHNSW | None = None
        self._main_stem: str | None = None  # file stem on disk; None until saved
        self._main_viewed = False  # memory-mapped, read-only
        self._cold: Path | None = None  # a graph just mapped, not yet searched
        self._main_dirty = False
        self._main_keys = np.empty(0, np.uint64)  # the id in each slot of the graph, _DEAD when dead
        self._main_times = np.empty(0, np.float64)  # the time of each slot
        self._main_live = 0  # slots that are not dead
        self._main_oldest = math.inf  # of the live slots
        self._graph: tuple[Any, np.ndarray, np.ndarray, int, float] = (
            None,
            self._main_keys,
            self._main_times,
            0,
            math.inf,
        )
        self._lookup: tuple[np.ndarray, np.ndarray] | None = None  # (live ids sorted, their slots)
        self._histogram: tuple[float, np.ndarray] | None = None  # (start, cumulative counts)
        self._removed = np.empty(0, np.uint64)  # ids in live slots of the graph no longer in the index
        self._recent = _Recent.empty(self.dimensions)
        self._recent_dirty = False
        self._newest: int | None = None  # the newest window holding data
        self._legacy = False  # read from an earlier version's manifest: the next save converts it

    @classmethod
    def open(cls, directory: Path, **options: Any) -> VectorIndex:
        """The index saved in `directory` with the settings it was built with (the defaults
        when there is none yet), following them when a rebuild changes them.

        This is how the site opens it, readers and writers alike: only a rebuild should
        choose settings, so that changing a default in the code never stops a running
        site.
        """
        index = cls(directory, reset=True, **options)
        index._follow, index._dropped, index._replacing = True, False, False
        index.refresh()
        return index

    @classmethod
    def load(cls, directory: Path, **options: Any) -> VectorIndex:
        """`open` for an index that must exist already (FileNotFoundError otherwise)."""
        if not (Path(directory) / MANIFEST).exists():
            raise FileNotFoundError(Path(directory) / MANIFEST)
        return cls.open(directory, **options)

    @property
    def expansion_search(self) -> int:
        """HNSW's ef at query time: recall against speed."""
        return self._expansion_search

    @expansion_search.setter
    def expansion_search(self, value: int) -> None:
        self._expansion_search = value
        if self._main is not None:
            self._main.hnsw.efSearch = value

    # ----- reading -----

    def search(
        self,
        vector: np.ndarray,
        k: int = 10,
        *,
        since: float | None = None,
        exclude: Collection[int] = (),
    ) -> list[tuple[int, float]]:
        """The k most similar articles as (id, cosine similarity), best first.

        `since` keeps articles whose time is at least that; `exclude` drops those ids.
        """
        with self._refreshing:
            if not self._has_changes():
                # One stat per query; reading the manifest only when it changed.
                try:
                    stat = os.stat(self._manifest_path)
                    if (stat.st_ino, stat.st_mtime_ns) != self._manifest_stat:
                        self._refresh()
                except FileNotFoundError:
                    pass
            graph, removed, recent = self._graph, self._removed, self._recent
            histogram = self._time_histogram() if since is not None else None
            if self._cold is not None:
                _prefault_later(self._cold)
                self._cold = None
            floor = self._floor()
        if k <= 0:
            return []
        # A dozen numpy calls per query, each a microsecond: the graph's own search takes
        # 0.1-1 ms, so this path avoids every copy, mask and sort it does not need.
        query = np.asarray(vector, dtype=np.float32).reshape(self.dimensions)
        norm = math.sqrt(float(np.dot(query, query)))
        query = query / norm if norm > 0 else query
        excluded = np.array([int(i) for i in exclude if int(i) >= 0], dtype=np.uint64) if len(exclude) else _NO_KEYS
        wanted = k + len(excluded)
        low = floor if since is None else max(since, floor)

        # The graph first: its answers come best first, and the k-th of them is the bar
        # that a vector of the recent part must pass to be an answer.
        keys, sims = _NO_KEYS, _NO_SIMS
        if graph[0] is not None and graph[3]:
            keys, sims = self._search_main(graph, removed, histogram, query, k, wanted, low, excluded)
        if len(recent.keys):
            near = _products(recent.vectors, query)
            if low > recent.oldest or len(excluded):
                keep = recent.times >= low
                if len(excluded):
                    keep &= ~np.isin(recent.keys, excluded)
                near = np.where(keep, near, -np.inf)
            if len(sims) >= k:
                rows = np.flatnonzero(near > sims[k - 1])
                if len(rows) > k:
                    rows = rows[_top(near[rows], k)]
            else:
                rows = _top(near, k)
                rows = rows[near[rows] > -np.inf]
            if len(rows):
                # The recent part first, so that it wins ties, as it would in a merged graph.
                keys = np.concatenate([recent.keys[rows], keys])
                sims = np.concatenate([near[rows], sims])
                best = np.argsort(-sims, kind="stable")[:k]
                keys, sims = keys[best], sims[best]
        return list(zip(keys[:k].tolist(), sims[:k].astype(np.float64).tolist()))

    def _search_main(
        self,
        graph: tuple[Any, np.ndarray, np.ndarray, int, float],
        removed: np.ndarray,
        histogram: tuple[float, np.ndarray] | None,
        query: np.ndarray,
        k: int,
        wanted: int,
        low: float,
        excluded: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The graph's answers, best first. `graph` is (the graph, its slots' ids and
        times, live slots, oldest live time) as one search saw them, since another thread
        may refresh meanwhile."""
        main, main_keys, main_times, total, oldest = graph
        slots = len(main_keys)
        filtered = low > oldest
        dead = total < slots
        count = wanted
        if filtered:
            newer = _newer_than(histogram, low) if histogram is not None else float(total)
            if newer <= EXACT_MAX:
                return self._exact_main(main, main_keys, main_times, removed, query, wanted, low, excluded)
            # Enough candidates that about 2k of them are new enough, within limits.
            count = min(CANDIDATES_MAX, max(wanted, math.ceil(2 * wanted * total / newer)))
        # Dead slots and removed ids among the answers are dropped: ask for as many more
        # (up to twice as many), or for as many as the search keeps anyway (ef).
        extra = min(len(removed) + slots - total, wanted)
        if extra:
            count = max(count + extra, min(self._expansion_search, count + len(removed) + slots - total))
        limit = min(slots, max(CANDIDATES_MAX, count))
        count = min(count, slots)
        query_row = query.reshape(1, -1)
        while True:
            # FAISS's HNSW explores as widely as its ef, whatever the count asked for:
            # a larger count needs a larger ef to find that many good answers.
            sims, positions = main.search(query_row, count, params=_wider(count, self._expansion_search))
            sims, positions = sims[0], positions[0]
            if positions[-1] < 0:  # fewer reachable than asked for
                sims, positions = sims[positions >= 0], positions[positions >= 0]
            keys = main_keys[positions]
            if not (filtered or dead or len(removed) or len(excluded)):
                return keys, sims
            keep = np.ones(len(keys), dtype=bool)
            if dead:
                keep &= keys != _dead(main_keys)
            if len(removed):
                keep &= ~np.isin(keys, removed)
            if len(excluded):
                keep &= ~np.isin(keys, excluded)
            if filtered:
                keep &= main_times[positions] >= low
            if np.count_nonzero(keep) >= k or count >= limit:
                break
            count = min(limit, 4 * count)
        return keys[keep][:wanted], sims[keep][:wanted]

    def _exact_main(
        self,
        main: faiss.IndexHNSW,
        main_keys: np.ndarray,
        main_times: np.ndarray,
        removed: np.ndarray,
        query: np.ndarray,
        wanted: int,
        low: float,
        excluded: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The graph's few vectors newer than `low`, compared one by one."""
        positions = np.flatnonzero((main_times >= low) & (main_keys != _dead(main_keys)))
        if len(removed) or len(excluded):
            positions = positions[~np.isin(main_keys[positions], np.concatenate([removed, excluded]))]
        if len(positions) == 0:
            return _NO_KEYS, _NO_SIMS
        sims = main.reconstruct_batch(positions) @ query
        best = _top(sims, wanted)
        return main_keys[positions[best]], sims[best]

    def __len__(self) -> int:
        floor = self._floor()
        if self._main_oldest < floor or (len(self._recent.times) and self._recent.times.min() < floor):
            return sum(self.windows().values())  # expired vectors not merged out yet
        return self._main_live - len(self._removed) + len(self._recent.keys)

    def __contains__(self, article_id: int) -> bool:
        key = np.uint64(article_id)
        at = _position(self._recent.keys, key)
        if at is not None:
            return bool(self._recent.times[at] >= self._floor())
        slot = self._slot_of(key)
        return slot is not None and _position(self._removed, key) is None and self._main_times[slot] >= self._floor()

    def windows(self) -> dict[int, int]:
        """Windows that hold vectors, and how many: window number -> vectors."""
        live = self._main_keys != _dead(self._main_keys)
        if len(self._removed):
            live &= ~np.isin(self._main_keys, self._removed)
        times = np.concatenate([self._main_times[live], self._recent.times])
        times = times[times >= self._floor()]
        windows, counts = np.unique(self._window_of(times), return_counts=True)
        return {int(window): int(count) for window, count in zip(windows, counts)}

    def memory_bytes(self) -> int:
        """Bytes held for the index; a memory-mapped graph counts its file size, though
        those pages are shared with the other processes that map it."""
        total = self._main_keys.nbytes + self._main_times.nbytes + self._removed.nbytes + self._recent.nbytes()
        if self._lookup is not None:
            total += self._lookup[0].nbytes + self._lookup[1].nbytes
        if self._main is not None:
            if self._main_viewed:
                total += (self.directory / f"{self._main_stem}.faiss").stat().st_size
            else:
                total += _graph_bytes(self._main)
        return total

    def refresh(self) -> bool:
        """Reopen from disk when another process saved since; True when it did.

        Unsaved changes of this process are discarded, so writers call it (through
        `writing()`) before they change anything, never after.
        """
        with self._refreshing:
            return self._refresh()

    def _refresh(self) -> bool:
        path = self.directory / MANIFEST
        for attempt in range(5):
            try:
                stat = path.stat()
            except FileNotFoundError:
                return False
            if (stat.st_ino, stat.st_mtime_ns) == self._manifest_stat:
                return False
            try:
                self._open(json.loads(path.read_text()))
            except FileNotFoundError:
                # A writer deleted a file of the manifest we read after replacing it: the
                # newer manifest is there, read again.
                time.sleep(0.01 * (attempt + 1))
                continue
            self._manifest_stat = (stat.st_ino, stat.st_mtime_ns)
            return True
        raise RuntimeError(f"{path} keeps changing under the reader")

    def _open(self, manifest: dict) -> None:
        version = manifest.get("version")
        if version not in (1, 2, MANIFEST_VERSION):
            raise ValueError(f"unknown vector index manifest version {version}")
        if self._follow and any(manifest[name] != getattr(self, name) for name in STRUCTURE):
            for name in STRUCTURE:  # rebuilt with other settings: start over with those
                setattr(self, name, manifest[name])
            self._clear()
        for name in STRUCTURE:
            if manifest[name] != getattr(self, name):
                raise ValueError(
                    f"the index in {self.directory} has {name}={manifest[name]!r}, not "
                    f"{getattr(self, name)!r}: rebuild it (VectorIndex(..., reset=True).rebuild(rows))"
                )
        if version != MANIFEST_VERSION:
            self._open_legacy(manifest)
        else:
            stem = manifest["main"]
            if stem is None:
                self._set_main(None, np.empty(0, np.uint64), np.empty(0, np.float64), None, viewed=False)
            elif stem != self._main_stem or self._main_dirty:
                with np.load(self.directory / f"{stem}.npz") as arrays:
                    keys, times = arrays["keys"], arrays["times"]
                graph = _read_graph(self.directory / f"{stem}.faiss", view=True)
                graph.hnsw.efSearch = self._expansion_search
                self._set_main(graph, keys, times, stem, viewed=True)
                self._cold = self.directory / f"{stem}.faiss"
            self._recent = _Recent.empty(self.dimensions)
            self._removed = np.empty(0, np.uint64)
            if manifest["recent"] is not None:
                with np.load(self.directory / f"{manifest['recent']}.npz") as arrays:
                    self._recent = _Recent(
                        arrays["keys"], arrays["times"], arrays["vectors"].astype(np.float32, copy=False)
                    )
                    self._removed = arrays["removed"]
            self._newest = manifest["newest_window"]
            self._legacy = False
        self._generation = manifest["generation"]
        self._recent_dirty = self._dropped = False

    def _open_legacy(self, manifest: dict) -> None:
        """An index of an earlier version (USearch graphs: one per window in version 1,
        one graph and a recent part in version 2): its vectors become the recent part,
        which the next save of a writer builds into a graph of this version."""
        from usearch.index import Index  # only for this conversion

        parts = []
        stems = list(manifest["shards"].values()) if manifest["version"] == 1 else [manifest["main"]]
        removed = np.empty(0, np.uint64)  # ids removed from version 2's graph
        if manifest.get("recent"):
            with np.load(self.directory / f"{manifest['recent']}.npz") as arrays:
                removed = arrays["removed"].astype(np.uint64)
                recent_part = (arrays["keys"], arrays["times"], arrays["vectors"].astype(np.float32))
        for stem in stems:
            if stem is None:
                continue
            with np.load(self.directory / f"{stem}.npz") as arrays:
                keys, times = arrays["keys"].astype(np.uint64), arrays["times"]
            graph = Index.restore(str(self.directory / f"{stem}.usearch"), view=True)
            if graph is None:
                raise FileNotFoundError(self.directory / f"{stem}.usearch")
            kept = ~np.isin(keys, removed)
            keys, times = keys[kept], times[kept]
            got = graph.get(keys, dtype="f32") if len(keys) else None
            parts.append((keys, times, np.asarray(got, np.float32).reshape(len(keys), self.dimensions)))
        if manifest.get("recent"):
            parts.append(recent_part)
        self._set_main(None, np.empty(0, np.uint64), np.empty(0, np.float64), None, viewed=False)
        self._removed = np.empty(0, np.uint64)
        recent = _Recent(
            np.concatenate([p[0] for p in parts]) if parts else np.empty(0, np.uint64),
            np.concatenate([p[1] for p in parts]) if parts else np.empty(0, np.float64),
            np.concatenate([p[2] for p in parts]) if parts else np.empty((0, self.dimensions), np.float32),
        )
        # The graph's ids before the recent part's: for an id in both, the recent one wins.
        _, last = np.unique(recent.keys[::-1], return_index=True)
        recent = recent.take(np.sort(len(recent.keys) - 1 - last))
        recent.vectors = _stored(recent.vectors, self.dtype)
        self._recent = recent.take(np.argsort(recent.keys, kind="stable"))
        if manifest["version"] == 1:
            windows = [int(window) for window in manifest["shards"]]
            self._newest = max(windows) if windows else None
        else:
            self._newest = manifest["newest_window"]
        self._legacy = True

    def _set_main(
        self, index: faiss.IndexHNSW | None, keys: np.ndarray, times: np.ndarray, stem: str | None, *, viewed: bool
    ) -> None:
        self._main, self._main_stem, self._main_viewed = index, stem, viewed
        self._main_keys, self._main_times = _compact_keys(keys), times
        live = self._main_keys != _dead(self._main_keys)
        self._main_live = int(np.count_nonzero(live))
        self._main_oldest = float(times[live].min()) if self._main_live else math.inf
        self._graph = (index, self._main_keys, times, self._main_live, self._main_oldest)
        self._lookup = None
        self._histogram = None
        self._main_dirty = False

    def _slot_of(self, key: np.uint64) -> int | None:
        """The graph's live slot holding this id, if any."""
        at = int(self._slots_of(np.array([key], np.uint64))[0])
        return at if at >= 0 else None

    def _slots_of(self, keys: np.ndarray) -> np.ndarray:
        """The graph's live slot of each id, -1 where it has none."""
        if self._lookup is None:
            self._lookup = self._load_lookup()
        sorted_keys, slots = self._lookup
        at = _positions(sorted_keys, keys)
        return np.where(at >= 0, slots[np.maximum(at, 0)].astype(np.int64), -1) if len(slots) else at

    def _load_lookup(self) -> tuple[np.ndarray, np.ndarray]:
        """The live ids of the graph in order and their slots: saved beside the graph (read
        only when an id is looked up, as writers do), or computed."""
        if self._main_stem is not None and not self._main_dirty:
            try:
                with np.load(self.directory / f"{self._main_stem}.npz") as arrays:
                    slots = arrays["order"]
                return self._main_keys[slots], slots
            except (FileNotFoundError, KeyError):
                pass
        slots = _key_order(self._main_keys)
        return self._main_keys[slots], slots

    # ----- writing -----

    @contextmanager
    def writing(self) -> Iterator[VectorIndex]:
        """Hold the writers' lock, start from what is saved, and save at the end.

        Every process that changes the index must change it inside this block. On an
        exception (in the block or in the save) nothing more is saved and the unsaved
        changes are dropped. An index made with `reset=True` starts empty instead and
        replaces what is saved.
        """
        if self._has_changes() and not self._replacing:
            raise RuntimeError("unsaved changes: save() them before writing()")
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / "lock", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self._locked = True
            try:
                if not self._replacing:
                    self.refresh()
                yield self
                self.save()
            except BaseException:
                self._clear()
                self._manifest_stat = None
                self._dropped = self._replacing
                if not self._replacing:
                    self.refresh()
                raise
            finally:
                self._locked = False

    def add(self, ids: Sequence[int], vectors: np.ndarray, times: Sequence[float]) -> None:
        """Insert or replace vectors; an id already present is replaced (and takes its new time)."""
        prepared = self._prepare(ids, vectors, times)
        if prepared is None:
            return
        keys, vectors, stamps = prepared
        self.remove(keys)
        windows = self._window_of(stamps)
        newest = int(max(windows.max(), self._newest if self._newest is not None else windows.max()))
        kept = windows >= newest - self.keep_windows + 1
        if not kept.any():
            return
        self._newest = newest
        merged = _Recent(
            np.concatenate([self._recent.keys, keys[kept]]),
            np.concatenate([self._recent.times, stamps[kept]]),
            np.concatenate([self._recent.vectors, vectors[kept]]),
        )
        merged = merged.take(np.argsort(merged.keys, kind="stable"))
        self._recent = merged.take(np.flatnonzero(merged.times >= self._floor()))
        self._recent_dirty = True

    def _prepare(
        self, ids: Sequence[int], vectors: np.ndarray, times: Sequence[float]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Checked ids, unit vectors with the values the graph stores, and times, the last
        row of an id winning."""
        keys = np.asarray(ids, dtype=np.int64)
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(keys), self.dimensions)
        stamps = np.asarray(times, dtype=np.float64).reshape(len(keys))
        if len(keys) == 0:
            return None
        if keys.min() < 0:
            raise ValueError("article ids must be non-negative")
        if not np.isfinite(stamps).all():
            raise ValueError("every vector needs a time (its article's publication time)")
        keys = keys.astype(np.uint64)
        # The last row of an id wins, as if the rows had been added one at a time.
        _, last = np.unique(keys[::-1], return_index=True)
        rows = np.sort(len(keys) - 1 - last)
        # Rounded as the graph stores them, so that an id scores the same before and after a merge.
        return keys[rows], _stored(_unit(vectors[rows]), self.dtype), stamps[rows]

    def remove(self, ids: Sequence[int] | np.ndarray) -> None:
        """Remove these ids; unknown ids are ignored."""
        keys = np.asarray(ids, dtype=np.int64)
        if len(keys) == 0:
            return
        keys = keys[keys >= 0].astype(np.uint64)
        in_recent = np.isin(self._recent.keys, keys)
        if in_recent.any():
            self._recent = self._recent.take(np.flatnonzero(~in_recent))
            self._recent_dirty = True
        if self._main_live:
            in_main = keys[self._slots_of(keys) >= 0]
            in_main = np.setdiff1d(in_main, self._removed)
            if len(in_main):
                self._removed = np.union1d(self._removed, in_main).astype(np.uint64)
                self._recent_dirty = True

    def rebuild(self, rows: Iterable[tuple[int, np.ndarray, float]], *, batch: int = 10_000) -> None:
        """Replace the whole index by these (id, vector, time) rows, and save.

        Rows may come in any order; passing only the rows of the kept windows (a time
        filter in the query) saves reading the others. Outside `writing()` it takes the
        writers' lock itself. It keeps this index's settings: to change them, call it on
        `VectorIndex(directory, reset=True, ...)`.
        """
        if not self._locked:
            was_replacing, self._replacing = self._replacing, True
            try:
                with self.writing():
                    self.rebuild(rows, batch=batch)
            except BaseException:
                if not was_replacing:  # back to what is saved, which the failure left alone
                    self._replacing = self._dropped = False
                    self.refresh()
                raise
            return
        self._clear()
        self._dropped = True
        # Rows are gathered first (as stored: f16 takes half the memory) and the graph
        # built once at the end, on all cores; a window that expires on the way is
        # dropped before it costs any graph work.
        held = _STORAGE[self.dtype][1]
        chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        pending: list[tuple[int, np.ndarray, float]] = []

        def gather() -> None:
            prepared = self._prepare(*zip(*pending)) if pending else None
            pending.clear()
            if prepared is None:
                return
            keys, vectors, stamps = prepared
            newest = int(self._window_of(stamps).max())
            if self._newest is None or newest > self._newest:
                self._newest = newest
                floor = self._floor()
                chunks[:] = [(k[t >= floor], v[t >= floor], t[t >= floor]) for k, v, t in chunks]
            floor = self._floor()
            chunks.append((keys[stamps >= floor], vectors[stamps >= floor].astype(held), stamps[stamps >= floor]))

        for row in rows:
            pending.append(row)
            if len(pending) >= batch:
                gather()
        gather()
        if chunks:
            keys = np.concatenate([c[0] for c in chunks])
            # The last row of an id wins across batches too.
            _, last = np.unique(keys[::-1], return_index=True)
            rows_kept = np.sort(len(keys) - 1 - last)
            vectors = np.concatenate([c[1] for c in chunks])[rows_kept]
            times = np.concatenate([c[2] for c in chunks])[rows_kept]
            chunks.clear()
            self._build_main(keys[rows_kept], times, _chunks_of(vectors))
        self.save()

    def save(self) -> None:
        """Merge when due, write the changed files and then the manifest, each to a temp
        file renamed into place."""
        if not self._has_changes():
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        if self._merge_due():
            self._merge()
        # Numbered past what is on disk too, so that a reset index never writes over a
        # file that the saved manifest still names.
        generation = max(self._generation, _saved_generation(self.directory)) + 1
        if self._main_dirty and self._main is not None:
            stem = f"m-g{generation}"
            _write(self.directory / f"{stem}.faiss", partial(_save_graph, self._main))
            if self._lookup is None:
                self._lookup = self._load_lookup()
            _write(
                self.directory / f"{stem}.npz",
                partial(_save_arrays, keys=self._main_keys, times=self._main_times, order=self._lookup[1]),
            )
            self._main_stem, self._main_dirty = stem, False
        recent_stem = None
        if len(self._recent.keys) or len(self._removed):
            recent_stem = f"r-g{generation}"
            _write(
                self.directory / f"{recent_stem}.npz",
                partial(
                    _save_arrays,
                    keys=self._recent.keys,
                    times=self._recent.times,
                    vectors=self._recent.vectors.astype(_STORAGE[self.dtype][1]),
                    removed=self._removed,
                ),
            )
        manifest = {
            "version": MANIFEST_VERSION,
            **{name: getattr(self, name) for name in STRUCTURE},
            "generation": generation,
            "newest_window": self._newest,
            "main": self._main_stem if self._main is not None else None,
            "recent": recent_stem,
        }
        _write(self.directory / MANIFEST, lambda path: path.write_text(json.dumps(manifest, indent=1)))
        _fsync_directory(self.directory)
        stat = (self.directory / MANIFEST).stat()
        self._manifest_stat = (stat.st_ino, stat.st_mtime_ns)
        self._generation, self._dropped, self._replacing = generation, False, False
        self._recent_dirty = self._legacy = False
        if self._main is not None and not self._main_viewed:
            # The file has it now: share its pages instead of keeping a copy.
            self._main = _read_graph(self.directory / f"{self._main_stem}.faiss", view=True)
            self._main.hnsw.efSearch = self._expansion_search
            self._main_viewed = True
            self._graph = (self._main, *self._graph[1:])
        self._lookup = None  # a writer's: read again from the file when needed
        named = {self._main_stem, recent_stem} - {None}
        for path in self.directory.iterdir():
            ours = _FILE.fullmatch(path.name)
            if path.suffix == ".tmp" or ours and ours[1] not in named:
                path.unlink(missing_ok=True)

    # ----- merging -----

    def _merge_due(self) -> bool:
        return (
            self._legacy
            or len(self._recent.keys) > RECENT_MAX
            or len(self._removed) > REMOVED_MAX
            or self._main_oldest < self._floor()
        )

    def _merge(self) -> None:
        """Move the recent part into the graph and turn the removed and expired ids into
        dead slots; build the graph anew when too many slots would be dead."""
        dead = _dead(self._main_keys)
        live = self._main_keys != dead
        drop = live & (self._main_times < self._floor())
        if len(self._removed):
            drop |= live & np.isin(self._main_keys, self._removed)
        keep = np.flatnonzero(live & ~drop)
        slots = len(self._main_keys)
        dead_after = slots - len(keep)
        if self._main is None or dead_after > REBUILD_FRACTION * (slots + len(self._recent.keys)):
            old = self._main

            def vectors() -> Iterator[np.ndarray]:
                for at in range(0, len(keep), ADD_CHUNK):
                    yield old.reconstruct_batch(keep[at : at + ADD_CHUNK])  # type: ignore[union-attr]
                yield from _chunks_of(self._recent.vectors)

            self._build_main(
                np.concatenate([self._main_keys[keep].astype(np.uint64), self._recent.keys]),
                np.concatenate([self._main_times[keep], self._recent.times]),
                vectors(),
            )
        else:
            index = self._main
            if self._main_viewed:
                index = _read_graph(self.directory / f"{self._main_stem}.faiss", view=False)
                index.hnsw.efSearch = self._expansion_search
            index.hnsw.efConstruction = self.expansion_add
            if len(self._recent.keys):
                with _threads(self._threads_for(len(self._recent.keys))):
                    index.add(self._recent.vectors)
            keys = _wide_keys(self._main_keys)
            keys[drop] = _DEAD64
            self._set_main(
                index,
                np.concatenate([keys, self._recent.keys]),
                np.concatenate([self._main_times, self._recent.times]),
                None,
                viewed=False,
            )
            self._main_dirty = True
        self._recent = _Recent.empty(self.dimensions)
        self._removed = np.empty(0, np.uint64)
        self._recent_dirty = True

    def _build_main(self, keys: np.ndarray, times: np.ndarray, vectors: Iterable[np.ndarray]) -> None:
        """A new graph of these vectors (given in chunks, in the order of `keys`), or none
        when there are none."""
        if len(keys) == 0:
            self._set_main(None, np.empty(0, np.uint64), np.empty(0, np.float64), None, viewed=False)
            self._main_dirty = True
            return
        index = self._new_graph()
        with _threads(self._threads_for(len(keys))):
            for chunk in vectors:
                index.add(np.ascontiguousarray(chunk, dtype=np.float32))
        self._set_main(index, keys, times, None, viewed=False)
        self._main_dirty = True

    # ----- helpers -----

    def _has_changes(self) -> bool:
        return self._dropped or self._main_dirty or self._recent_dirty

    def _threads_for(self, count: int) -> int:
        return 0 if count >= BULK else self.threads

    def _floor(self) -> float:
        """The start of the oldest kept window: anything older is expired."""
        if self._newest is None:
            return -math.inf
        return self._window_start(self._newest - self.keep_windows + 1)

    def _time_histogram(self) -> tuple[float, np.ndarray]:
        """How many of the graph's live vectors are older than each quarter day, for `since`."""
        if self._histogram is None:
            times = self._main_times[self._main_keys != _dead(self._main_keys)]
            if len(times) == 0:
                self._histogram = (0.0, np.zeros(1, np.int64))
            else:
                start = float(times.min())
                bins = np.minimum((times - start) // _HISTOGRAM_BIN, 100_000).astype(np.int64)
                self._histogram = (start, np.concatenate([[0], np.cumsum(np.bincount(bins))]))
        return self._histogram

    def _new_graph(self) -> faiss.IndexHNSW:
        # Vectors are normalised on the way in, so inner product = cosine.
        quantizer = _STORAGE[self.dtype][0]
        index: faiss.IndexHNSW
        if quantizer is None:
            index = faiss.IndexHNSWFlat(self.dimensions, self.connectivity, faiss.METRIC_INNER_PRODUCT)
        else:
            # (FAISS's type stubs take the quantizer type for a ScalarQuantizer)
            index = faiss.IndexHNSWSQ(self.dimensions, quantizer, self.connectivity, faiss.METRIC_INNER_PRODUCT)  # type: ignore[arg-type]
        index.hnsw.efConstruction = self.expansion_add
        index.hnsw.efSearch = self._expansion_search
        return index

    def _window_of(self, times: np.ndarray) -> np.ndarray:
        return np.floor((times - ORIGIN) / (self.window_days * DAY)).astype(np.int64)

    def _window_start(self, window: int) -> float:
        return ORIGIN + window * self.window_days * DAY


def _newer_than(histogram: tuple[float, np.ndarray], low: float) -> float:
    """About how many of the graph's vectors have a time of at least `low`."""
    start, cumulative = histogram
    total = float(cumulative[-1])
    at = (low - start) / _HISTOGRAM_BIN
    if at <= 0:
        return total
    whole = int(at)
    if whole >= len(cumulative) - 1:
        return 0.0
    older = cumulative[whole] + (at - whole) * (cumulative[whole + 1] - cumulative[whole])
    return total - float(older)


def _products(vectors: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Inner products of the query with every row, in blocks that BLAS runs on one thread."""
    if len(vectors) <= ROWS_PER_PRODUCT:
        return vectors @ query
    return np.concatenate(
        [vectors[at : at + ROWS_PER_PRODUCT] @ query for at in range(0, len(vectors), ROWS_PER_PRODUCT)]
    )


def _top(scores: np.ndarray, count: int) -> np.ndarray:
    """Positions of the `count` highest scores, best first."""
    if len(scores) > count:
        part = np.argpartition(-scores, count - 1)[:count]
    else:
        part = np.arange(len(scores))
    return part[np.argsort(-scores[part], kind="stable")]


def _stored(vectors: np.ndarray, dtype: str) -> np.ndarray:
    """f32 rows holding the values the graph stores for these vectors."""
    return vectors.astype(_STORAGE[dtype][1]).astype(np.float32)


def _chunks_of(vectors: np.ndarray) -> Iterator[np.ndarray]:
    for at in range(0, len(vectors), ADD_CHUNK):
        yield vectors[at : at + ADD_CHUNK]


def _dead(keys: np.ndarray) -> np.integer:
    """The id of a dead slot in an array of this type."""
    return _DEAD32 if keys.dtype == np.uint32 else _DEAD64


def _wide_keys(keys: np.ndarray) -> np.ndarray:
    """A uint64 copy of a slot's ids, dead slots keeping the dead id."""
    wide = keys.astype(np.uint64)
    if keys.dtype == np.uint32:
        wide[keys == _DEAD32] = _DEAD64
    return wide


def _compact_keys(keys: np.ndarray) -> np.ndarray:
    """Ids as uint32 when they fit (every id of a realistic site): 4 MB less per million
    vectors, for each reader. Dead slots keep the dead id of their type."""
    keys = np.asarray(keys, dtype=np.uint64) if keys.dtype != np.uint32 else keys
    if keys.dtype == np.uint32:
        return keys
    live = keys != _DEAD64
    if not live.any() or keys[live].max() < _U32_MAX:
        return np.where(live, keys, np.uint64(_DEAD32)).astype(np.uint32)
    return keys


def _key_order(keys: np.ndarray) -> np.ndarray:
    """The live slots in the order of their ids."""
    live = np.flatnonzero(keys != _dead(keys))
    return live[np.argsort(keys[live], kind="stable")].astype(np.uint32 if len(keys) < 2**32 else np.uint64)


def _positions(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Where each key is in `sorted_keys` (uint32 or uint64), -1 where it is not."""
    keys = np.asarray(keys, dtype=np.uint64)
    out = np.full(len(keys), -1, np.int64)
    if len(sorted_keys) == 0 or len(keys) == 0:
        return out
    fits = keys < _U32_MAX if sorted_keys.dtype == np.uint32 else np.ones(len(keys), dtype=bool)
    wanted = keys[fits].astype(sorted_keys.dtype)
    at = np.minimum(np.searchsorted(sorted_keys, wanted), len(sorted_keys) - 1)
    hit = sorted_keys[at] == wanted
    out[np.flatnonzero(fits)[hit]] = at[hit]
    return out


def _position(keys: np.ndarray, key: np.uint64) -> int | None:
    at = int(_positions(keys, np.array([key], np.uint64))[0])
    return at if at >= 0 else None


def _wider(count: int, ef: int) -> Any:
    """Search parameters with an ef of `count` when that is more than `ef`."""
    if count <= ef:
        return None
    params = faiss.SearchParametersHNSW()  # type: ignore[attr-defined]  # (missing from FAISS's stubs)
    params.efSearch = count
    return params


def _graph_bytes(index: faiss.IndexHNSW) -> int:
    """Memory of a graph held in this process: its vectors and its links."""
    links = index.hnsw.neighbors.size()  # type: ignore[attr-defined]  # (missing from FAISS's stubs)
    return int(index.storage.sa_code_size() * index.ntotal + links * 4 + index.ntotal * 12)


@contextmanager
def _threads(count: int) -> Iterator[None]:
    """FAISS's OpenMP threads for a build (0: all cores), as before afterwards."""
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(count or os.cpu_count() or 1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def _prefault_later(path: Path) -> None:
    """Map every page of a graph file this process has just memory-mapped, in a thread.

    A memory-mapped file's pages enter a process's page tables at the first touch, one
    page fault at a time: at 1M vectors the first 1,000 searches after opening a graph (in
    every web process, after every merge) took three times the CPU of later ones (p99
    12 ms instead of 1). One MADV_POPULATE_READ of the whole file (Linux 5.14+; 0.1 s of
    CPU at 1M, the pages shared with the page cache) ends that. Skipped where the file
    would not fit in half the available memory, and wherever madvise cannot do it.
    """

    def populate() -> None:
        try:
            size = path.stat().st_size
            with open("/proc/meminfo") as meminfo:
                available = next(int(line.split()[1]) * 1024 for line in meminfo if line.startswith("MemAvailable:"))
            if size > available // 2:
                return
            libc = ctypes.CDLL(None, use_errno=True)
            libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
            name = os.path.realpath(path)
            with open("/proc/self/maps") as maps:
                spans = [line.split()[0] for line in maps if line.rstrip("\n").endswith(" " + name)]
            for span in spans:
                low, high = (int(bound, 16) for bound in span.split("-"))
                libc.madvise(low, high - low, _MADV_POPULATE_READ)
        except (OSError, StopIteration, AttributeError, ValueError):
            pass  # not Linux, or no such madvise: pages fault in as searches touch them

    threading.Thread(target=populate, name="vector-index-prefault", daemon=True).start()


def _read_graph(path: Path, *, view: bool) -> faiss.IndexHNSW:
    """The graph saved at `path`, memory-mapped read-only (`view`) or read into memory."""
    flags = faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY if view else 0
    try:
        return cast(faiss.IndexHNSW, faiss.read_index(str(path), flags))
    except RuntimeError:
        if not path.exists():  # deleted by a writer since the manifest was read
            raise FileNotFoundError(path) from None
        raise


def _saved_generation(directory: Path) -> int:
    try:
        return int(json.loads((directory / MANIFEST).read_text())["generation"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


def _save_graph(index: faiss.IndexHNSW, path: Path) -> None:
    faiss.write_index(index, str(path))


def _save_arrays(path: Path, **arrays: np.ndarray) -> None:
    with open(path, "wb") as file:  # a file object, so that numpy adds no ".npz" to the name
        np.savez(file, **arrays)  # type: ignore[arg-type]


def _write(path: Path, write: Callable[[Path], object]) -> None:
    """Write through a temp file that is flushed to disk before it takes the name."""
    temp = path.with_name(path.name + ".tmp")
    write(temp)
    fd = os.open(temp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temp, path)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
