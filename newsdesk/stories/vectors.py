"""Nearest-neighbour index of article embeddings: one USearch HNSW graph plus a small exact part.

Why USearch (HNSW, half-precision vectors): `newsdesk bench related` (bench/
vectors.py) compared FAISS, USearch and hnswlib on 1,000,000 synthetic 384-d sentence-
embedding-like vectors on this project's 2-core machine; its docstring has the table.
USearch with f16 vectors reached the same recall as the f32 indexes at about half their
memory, and it is the one library of the three with everything this module needs built
in: add/remove by integer key, its own save, load and memory-mapped view of a file, and
a maintained wheel on PyPI. FAISS's HNSW cannot remove vectors; hnswlib has no release
since 2023, builds from source and keeps f32 only. USearch's int8 vectors would halve the
memory again, but on 200,000 of these vectors they topped out at recall@10 0.945 (each
vector scaled to the full int8 range, cosine metric; 0.935 unscaled) whatever the ef.

Why one graph (issue 18): until then every window of a week had a graph of its own, and
a query searched all eight. HNSW's cost hardly depends on a graph's size (it is about
ef x M distances whatever the count), so eight graphs cost six to eight times one: p99
7.5 ms where one USearch graph of the same million vectors takes 1-2 ms. With one graph
(bench/vectors.py has the runs): recall@10 0.952 at ef 128, p50 0.8-1.0 ms, CPU p99
1.4-1.8 ms, 886 MB mapped at 1,000,000 vectors (889 before); that is still 1.4-2 times
FAISS's HNSW in CPU time at the same recall, short of issue 18's 1.5 times. The layout:

* The main part: one HNSW graph of every kept vector but the newest few, memory-mapped by
  readers. Rewriting its file (900 MB at 1,000,000 vectors) is what a change costs, so
  it is rewritten only at a merge.
* The recent part: up to `RECENT_MAX` vectors added since the last merge, and the ids
  removed from the main part since then, in one small file that every save rewrites.
  Queries search it exactly (a matrix-vector product over at most 512 vectors).
* A merge (in `save`, when the recent part outgrows `RECENT_MAX`, or `REMOVED_MAX` ids
  were removed, or a window expired) adds the recent vectors to the graph and drops the
  removed ones: 8-12 s at a million vectors on the busy 2-core machine (a save without
  one takes 3-36 ms), the graph copied into the writer's memory (1.3 GB) meanwhile.
  When a merge drops more than `REBUILD_FRACTION` of the graph, as when a week expires,
  the graph is built anew from its remaining vectors, on all cores: USearch reuses the
  slots of removed vectors, and after a full turnover that way (100,000 vectors, an
  eighth replaced eight times) recall@10 at ef 64 fell from 0.977 to 0.958 (0.949 with
  `compact=True`). At a million vectors that weekly rebuild takes about 14 minutes on
  the busy machine, during which other writers wait for the lock.

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
* Several processes. Readers (web processes) open the graph as a memory-mapped USearch
  view: opening costs nothing, the pages are shared between processes through the page
  cache, and `search` re-reads the manifest when its file changed (one stat per query),
  reopening only the files whose names changed. Writers (workers) must hold `writing()`,
  an exclusive file lock on `lock` that makes writers take turns: it refreshes from disk,
  lets the caller add and remove, and saves. The graph is copied into the writer's memory
  only for a merge.

Layout of the directory: `manifest.json` (settings, generation number, newest window and
the file stems), `m-g<generation>.usearch` (the graph, USearch's own format) with
`m-g<generation>.npz` (its ids, sorted, and times), `r-g<generation>.npz` (the recent
part: ids, times, f16 vectors, and the ids removed from the graph), and `lock`. An index
saved by the weekly-shard version (manifest version 1) is read into the recent part and
turned into this layout by the next save of a writer.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import re
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from usearch.index import Index

# Chosen by `newsdesk bench related` (see bench/vectors.py): the smallest ef_search
# with recall@10 >= 0.95 on 1M vectors in one graph (0.945 at 96, 0.952 at 128).
DTYPE = "f16"
CONNECTIVITY = 16  # HNSW M
EXPANSION_ADD = 128  # ef_construction
EXPANSION_SEARCH = 128  # ef_search
DIMENSIONS = 384
WINDOW_DAYS = 7
KEEP_WINDOWS = 8
# The recent part is searched exactly, so its size is query time (a full one of 512
# vectors adds about 0.1 ms, mostly by pushing the graph out of the CPU's caches; 1,024
# added 0.17 ms); every merge rewrites the graph's file, so its size is also how often
# that happens (at 18,000 articles a day, every 40 minutes; at 2,000, twice a day).
RECENT_MAX = 512
REMOVED_MAX = 512  # ids removed from the graph but still in its file
REBUILD_FRACTION = 0.05  # a merge that drops more of the graph than this builds it anew
BULK = 50_000  # adds of at least this many vectors at once use every core
# A query with `since` asks the graph for at most this many candidates; when no more than
# EXACT_MAX vectors are new enough, it compares those exactly instead.
CANDIDATES_MAX = 2048
EXACT_MAX = 4096
ROWS_PER_PRODUCT = 1024  # rows per matrix-vector product: larger ones wake BLAS's threads

DAY = 86400.0
ORIGIN = 4 * DAY  # 1970-01-05 00:00 UTC, a Monday: weekly windows run Monday to Monday
MANIFEST = "manifest.json"
MANIFEST_VERSION = 2
STRUCTURE = ("dimensions", "window_days", "dtype", "connectivity")
_HISTOGRAM_BIN = DAY / 4  # resolution of the graph's time histogram, for `since`
_U32_MAX = np.uint64(2**32 - 1)
_NO_KEYS = np.empty(0, np.uint64)
# The files a save names (w... are version 1's windows); nothing else in the directory,
# such as index.py's watermark.json, is ever deleted.
_FILE = re.compile(r"((?:w-?\d+|m|r)-g\d+)\.(?:usearch|npz)")


@dataclass
class _Recent:
    """Vectors not yet in the graph, sorted by id, searched exactly."""

    keys: np.ndarray  # uint64, sorted
    times: np.ndarray  # float64
    vectors: np.ndarray  # float32 rows holding f16 values (what the graph would store)

    @classmethod
    def empty(cls, dimensions: int) -> _Recent:
        return cls(np.empty(0, np.uint64), np.empty(0, np.float64), np.empty((0, dimensions), np.float32))

    @property
    def oldest(self) -> float:
        return float(self.times.min()) if len(self.times) else math.inf

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
        self.directory = Path(directory)
        self.dimensions = dimensions
        self.window_days = window_days
        self.keep_windows = keep_windows
        self.dtype = dtype
        self.connectivity = connectivity
        self.expansion_add = expansion_add
        self._expansion_search = expansion_search
        # Threads for adds of fewer than BULK vectors; 0 = all cores. One by default:
        # USearch 2.26's concurrent inserts leave a few nodes unreachable in small graphs
        # (about 2 in 1,000 vectors could not find themselves in our runs), which a site's
        # small batches cannot afford. Searches always use one thread.
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
        self._main: Index | None = None
        self._main_stem: str | None = None  # file stem on disk; None until saved
        self._main_viewed = False  # memory-mapped, read-only
        self._main_dirty = False
        self._main_keys = np.empty(0, np.uint64)  # every id in the graph's file, sorted
        self._main_times = np.empty(0, np.float64)
        self._main_oldest = math.inf
        self._histogram: tuple[float, np.ndarray] | None = None  # (start, cumulative counts)
        self._removed = np.empty(0, np.uint64)  # ids in the graph's file no longer in the index
        self._recent = _Recent.empty(self.dimensions)
        self._recent_dirty = False
        self._newest: int | None = None  # the newest window holding data
        self._legacy = False  # read from a version 1 manifest: the next save converts it

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
            self._main.expansion_search = value  # type: ignore[misc]

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
                self.refresh()
            main, main_keys, main_times = self._main, self._main_keys, self._main_times
            removed, recent, histogram = self._removed, self._recent, self._time_histogram()
            floor = self._floor()
        if k <= 0:
            return []
        # A dozen numpy calls per query, each a few microseconds: the graph's own search
        # takes 0.1-1 ms, so this path avoids every copy and mask it does not need.
        query = np.asarray(vector, dtype=np.float32).reshape(self.dimensions)
        norm = math.sqrt(float(query @ query))
        query = query / norm if norm > 0 else query
        excluded = np.array([int(i) for i in exclude if int(i) >= 0], dtype=np.uint64) if len(exclude) else _NO_KEYS
        wanted = k + len(excluded)
        low = floor if since is None else max(since, floor)
        found: list[tuple[np.ndarray, np.ndarray]] = []

        if len(recent.keys):
            sims = _products(recent.vectors, query)
            if low > recent.oldest or len(excluded):
                keep = recent.times >= low
                if len(excluded):
                    keep &= ~np.isin(recent.keys, excluded)
                sims = np.where(keep, sims, -np.inf)
                wanted_here = min(wanted, int(np.count_nonzero(keep)))
            else:
                wanted_here = wanted
            best = _top(sims, wanted_here)
            found.append((recent.keys[best], sims[best]))

        if main is not None and len(main_keys):
            found.append(
                self._search_main(main, main_keys, main_times, removed, histogram, query, k, wanted, low, excluded)
            )

        if not found:
            return []
        if len(found) == 1:
            keys, sims = found[0]
        else:
            keys, sims = np.concatenate([f[0] for f in found]), np.concatenate([f[1] for f in found])
        best = np.argsort(-sims, kind="stable")[:k]
        return list(zip(keys[best].tolist(), sims[best].astype(np.float64).tolist()))

    def _search_main(
        self,
        main: Index,
        main_keys: np.ndarray,
        main_times: np.ndarray,
        removed: np.ndarray,
        histogram: tuple[float, np.ndarray],
        query: np.ndarray,
        k: int,
        wanted: int,
        low: float,
        excluded: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        total = len(main_keys)
        filtered = low > self._main_oldest
        count = wanted
        if filtered:
            newer = _newer_than(histogram, low)
            if newer <= EXACT_MAX:
                return self._exact_main(main, main_keys, main_times, removed, query, wanted, low, excluded)
            # Enough candidates that about 2k of them are new enough, within limits.
            count = min(CANDIDATES_MAX, max(wanted, math.ceil(2 * wanted * total / newer)))
        count = min(count, total)
        while True:
            matches = main.search(query, count, threads=1)
            keys, distances = matches.keys, matches.distances
            if not (filtered or len(removed) or len(excluded)):
                return keys, 1.0 - distances
            keep = np.ones(len(keys), dtype=bool)
            if len(removed):
                keep &= ~np.isin(keys, removed)
            if len(excluded):
                keep &= ~np.isin(keys, excluded)
            if filtered:
                keep &= main_times[_positions(main_keys, keys)] >= low
            if np.count_nonzero(keep) >= k or count >= min(total, CANDIDATES_MAX):
                break
            count = min(total, CANDIDATES_MAX, 4 * count)
        return keys[keep][:wanted], 1.0 - distances[keep][:wanted]

    def _exact_main(
        self,
        main: Index,
        main_keys: np.ndarray,
        main_times: np.ndarray,
        removed: np.ndarray,
        query: np.ndarray,
        wanted: int,
        low: float,
        excluded: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The graph's few vectors newer than `low`, compared one by one."""
        keys = main_keys[main_times >= low]
        if len(removed) or len(excluded):
            keys = keys[~np.isin(keys, np.concatenate([removed, excluded]))]
        if len(keys) == 0:
            return np.empty(0, np.uint64), np.empty(0, np.float32)
        vectors = np.asarray(main.get(keys.astype(np.uint64), dtype="f32")).reshape(len(keys), self.dimensions)
        sims = vectors @ query
        best = _top(sims, wanted)
        return keys[best].astype(np.uint64), sims[best]

    def __len__(self) -> int:
        floor = self._floor()
        if self._main_oldest < floor or (len(self._recent.times) and self._recent.times.min() < floor):
            return sum(self.windows().values())  # expired vectors not merged out yet
        return len(self._main_keys) - len(self._removed) + len(self._recent.keys)

    def __contains__(self, article_id: int) -> bool:
        key = np.uint64(article_id)
        at = _position(self._recent.keys, key)
        if at is not None:
            return bool(self._recent.times[at] >= self._floor())
        at = _position(self._main_keys, key)
        return at is not None and _position(self._removed, key) is None and self._main_times[at] >= self._floor()

    def windows(self) -> dict[int, int]:
        """Windows that hold vectors, and how many: window number -> vectors."""
        live = self._main_times
        if len(self._removed):
            live = live[~np.isin(self._main_keys, self._removed)]
        times = np.concatenate([live, self._recent.times])
        times = times[times >= self._floor()]
        windows, counts = np.unique(self._window_of(times), return_counts=True)
        return {int(window): int(count) for window, count in zip(windows, counts)}

    def memory_bytes(self) -> int:
        """Bytes held for the index; a memory-mapped graph counts its file size, though
        those pages are shared with the other processes that map it."""
        total = self._main_keys.nbytes + self._main_times.nbytes + self._removed.nbytes + self._recent.nbytes()
        if self._main is not None:
            if self._main_viewed:
                total += (self.directory / f"{self._main_stem}.usearch").stat().st_size
            else:
                total += self._main.memory_usage
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
        if version not in (1, MANIFEST_VERSION):
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
        if version == 1:
            self._open_legacy(manifest)
        else:
            stem = manifest["main"]
            if stem is None:
                self._set_main(None, np.empty(0, np.uint64), np.empty(0, np.float64), None, viewed=False)
            elif stem != self._main_stem or self._main_dirty:
                with np.load(self.directory / f"{stem}.npz") as arrays:
                    keys, times = arrays["keys"], arrays["times"]
                index = _restore(self.directory / f"{stem}.usearch", view=True, expansion_search=self._expansion_search)
                self._set_main(index, keys, times, stem, viewed=True)
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
        """A version 1 index (a graph per window): its vectors become the recent part, which
        the next save of a writer builds into one graph."""
        keys, times, vectors = [], [], []
        for stem in manifest["shards"].values():
            with np.load(self.directory / f"{stem}.npz") as arrays:
                shard_keys, shard_times = arrays["keys"], arrays["times"]
            shard = _restore(self.directory / f"{stem}.usearch", view=True, expansion_search=self._expansion_search)
            got = shard.get(shard_keys, dtype="f32") if len(shard_keys) else None
            keys.append(shard_keys)
            times.append(shard_times)
            vectors.append(np.asarray(got, np.float32).reshape(len(shard_keys), self.dimensions))
        self._set_main(None, np.empty(0, np.uint64), np.empty(0, np.float64), None, viewed=False)
        self._removed = np.empty(0, np.uint64)
        recent = _Recent(
            np.concatenate(keys) if keys else np.empty(0, np.uint64),
            np.concatenate(times) if times else np.empty(0, np.float64),
            np.concatenate(vectors) if vectors else np.empty((0, self.dimensions), np.float32),
        )
        self._recent = recent.take(np.argsort(recent.keys, kind="stable"))
        windows = [int(window) for window in manifest["shards"]]
        self._newest = max(windows) if windows else None
        self._legacy = True

    def _set_main(
        self, index: Index | None, keys: np.ndarray, times: np.ndarray, stem: str | None, *, viewed: bool
    ) -> None:
        self._main, self._main_stem, self._main_viewed = index, stem, viewed
        self._main_keys, self._main_times = _compact_keys(keys), times
        self._main_oldest = float(times.min()) if len(times) else math.inf
        self._histogram = None
        self._main_dirty = False

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
        """Checked ids, unit f16-valued vectors and times, the last row of an id winning."""
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
        vectors = _unit(vectors[rows]).astype(np.float16).astype(np.float32)
        return keys[rows], vectors, stamps[rows]

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
        in_main = keys[_positions(self._main_keys, keys) >= 0]
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
        # Rows are gathered first and the graph built once at the end, on all cores; a
        # window that expires on the way is dropped before it costs any graph work.
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
                chunks[:] = [(k[t >= floor], v[t >= floor].astype(np.float16), t[t >= floor]) for k, v, t in chunks]
            floor = self._floor()
            chunks.append((keys[stamps >= floor], vectors[stamps >= floor].astype(np.float16), stamps[stamps >= floor]))

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
            self._build_main(keys[rows_kept], vectors, times)
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
            _write(self.directory / f"{stem}.usearch", partial(_save_index, self._main))
            _write(
                self.directory / f"{stem}.npz",
                partial(_save_arrays, keys=self._main_keys, times=self._main_times),
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
                    vectors=self._recent.vectors.astype(np.float16),
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
            self._main = _restore(
                self.directory / f"{self._main_stem}.usearch", view=True, expansion_search=self._expansion_search
            )
            self._main_viewed = True
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
        """Move the recent part into the graph and drop the removed and expired ids from it."""
        drop = self._removed
        if self._main_oldest < self._floor():
            drop = np.union1d(drop, self._main_keys[self._main_times < self._floor()]).astype(np.uint64)
        keep = np.flatnonzero(~np.isin(self._main_keys, drop)) if len(drop) else np.arange(len(self._main_keys))
        if self._main is None or len(drop) > REBUILD_FRACTION * len(self._main_keys):
            old_keys = self._main_keys[keep].astype(np.uint64)
            vectors = np.empty((0, self.dimensions), np.float16)
            if self._main is not None and len(old_keys):
                vectors = np.asarray(self._main.get(old_keys, dtype="f16")).reshape(len(old_keys), -1)
            self._build_main(
                np.concatenate([old_keys, self._recent.keys]),
                np.concatenate([vectors, self._recent.vectors.astype(np.float16)]),
                np.concatenate([self._main_times[keep], self._recent.times]),
            )
        else:
            index = self._main
            if self._main_viewed:
                index = _restore(
                    self.directory / f"{self._main_stem}.usearch",
                    expansion_add=self.expansion_add,
                    expansion_search=self._expansion_search,
                )
            if len(drop):
                index.remove(drop)
            if len(self._recent.keys):
                index.add(
                    self._recent.keys,
                    self._recent.vectors.astype(np.float16),
                    threads=self._threads_for(len(self._recent.keys)),
                )
            keys = np.concatenate([self._main_keys[keep].astype(np.uint64), self._recent.keys])
            times = np.concatenate([self._main_times[keep], self._recent.times])
            order = np.argsort(keys, kind="stable")
            self._set_main(index, keys[order], times[order], None, viewed=False)
            self._main_dirty = True
        self._recent = _Recent.empty(self.dimensions)
        self._removed = np.empty(0, np.uint64)
        self._recent_dirty = True

    def _build_main(self, keys: np.ndarray, vectors: np.ndarray, times: np.ndarray) -> None:
        """A new graph of these vectors (f16 values), or none when there are none."""
        if len(keys) == 0:
            self._set_main(None, np.empty(0, np.uint64), np.empty(0, np.float64), None, viewed=False)
            self._main_dirty = True
            return
        index = self._new_index()
        index.add(keys, vectors, threads=self._threads_for(len(keys)))
        order = np.argsort(keys, kind="stable")
        self._set_main(index, keys[order], times[order], None, viewed=False)
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
        """How many of the graph's vectors are older than each quarter day, for `since`."""
        if self._histogram is None:
            times = self._main_times
            if len(times) == 0:
                self._histogram = (0.0, np.zeros(1, np.int64))
            else:
                start = float(times.min())
                bins = np.minimum((times - start) // _HISTOGRAM_BIN, 100_000).astype(np.int64)
                self._histogram = (start, np.concatenate([[0], np.cumsum(np.bincount(bins))]))
        return self._histogram

    def _new_index(self) -> Index:
        return Index(
            ndim=self.dimensions,
            metric="ip",  # vectors are normalised on the way in, so inner product = cosine
            dtype=self.dtype,
            connectivity=self.connectivity,
            expansion_add=self.expansion_add,
            expansion_search=self._expansion_search,
        )

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


def _compact_keys(keys: np.ndarray) -> np.ndarray:
    """Sorted ids as uint32 when they fit (every id of a realistic site): 4 MB less per
    million vectors, for each reader."""
    keys = np.asarray(keys, dtype=np.uint64)
    if len(keys) and keys[-1] <= _U32_MAX:
        return keys.astype(np.uint32)
    return keys


def _positions(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Where each key is in `sorted_keys` (uint32 or uint64), -1 where it is not."""
    keys = np.asarray(keys, dtype=np.uint64)
    out = np.full(len(keys), -1, np.int64)
    if len(sorted_keys) == 0 or len(keys) == 0:
        return out
    fits = keys <= _U32_MAX if sorted_keys.dtype == np.uint32 else np.ones(len(keys), dtype=bool)
    wanted = keys[fits].astype(sorted_keys.dtype)
    at = np.minimum(np.searchsorted(sorted_keys, wanted), len(sorted_keys) - 1)
    hit = sorted_keys[at] == wanted
    out[np.flatnonzero(fits)[hit]] = at[hit]
    return out


def _restore(path: Path, *, view: bool = False, expansion_add: int | None = None, expansion_search: int) -> Index:
    """The USearch index saved at `path`, loaded or memory-mapped (`view`), with these
    search (and add) expansions."""
    index = Index.restore(path, view=view)
    if index is None:  # no such file
        raise FileNotFoundError(path)
    # usearch declares these setters apart from their getters: mypy takes them for read-only.
    if expansion_add is not None:
        index.expansion_add = expansion_add  # type: ignore[misc]
    index.expansion_search = expansion_search  # type: ignore[misc]
    return index


def _saved_generation(directory: Path) -> int:
    try:
        return int(json.loads((directory / MANIFEST).read_text())["generation"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


def _position(keys: np.ndarray, key: np.uint64) -> int | None:
    at = int(_positions(keys, np.array([key], np.uint64))[0])
    return at if at >= 0 else None


def _save_index(index: Index, path: Path) -> None:
    index.save(str(path))


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
