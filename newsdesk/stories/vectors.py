"""Nearest-neighbour index of article embeddings, sharded by time window, on USearch.

Why USearch (HNSW, half-precision vectors): `newsdesk bench related` (bench/
vectors.py) compared FAISS, USearch and hnswlib on 1,000,000 synthetic 384-d sentence-
embedding-like vectors on this project's 2-core machine; its docstring has the table.
USearch with f16 vectors reached the same recall as the f32 indexes at about half their
memory and the lowest single-query latency, and it is the one library of the three with
everything this module needs built in: upsert/remove by integer key, its own save, load
and memory-mapped view of a file, and a maintained wheel on PyPI. FAISS's HNSW cannot
remove vectors; hnswlib has no release since 2023, builds from source and keeps f32 only.

What the site needs and how it is met:

* Bounded memory. Vectors go to one shard per time window (`window_days`, 7 by default:
  weeks starting Monday 00:00 UTC). Only the newest `keep_windows` windows (8 by default),
  counted back from the newest window that holds data, are kept: older windows are dropped
  from memory as newer ones arrive and their files are deleted at the next save; adds
  older than the kept range are ignored. The database stays the source of truth, and
  `rebuild` brings back any range. A reader may pass a smaller `keep_windows` than the
  writer to open fewer windows.
* Latency. A query searches each open window (newest first) on one thread and merges the
  results; windows that end before `since` are skipped, and the window that straddles
  `since` is filtered by the stored article times.
* Crash safety. A save writes the changed windows to files with new names (temp file,
  fsync, rename), then replaces `manifest.json` the same way; the files the manifest no
  longer names are deleted afterwards. Until the manifest is replaced, the previous
  manifest and all of its files are untouched, so a crash at any point leaves the last
  saved index loadable.
* Several processes. Readers (web processes) open windows as memory-mapped USearch views:
  opening costs nothing, the pages are shared between processes through the page cache,
  and `search` re-reads the manifest when its file changed (one stat per query), opening
  only the windows whose files changed. Writers (workers) must hold `writing()`, an
  exclusive file lock on `lock` that makes writers take turns: it refreshes from disk,
  lets the caller add and remove, and saves. A window is copied into the writer's private
  memory only when it is changed. Batch the writes (say once a minute): every save
  rewrites the changed windows whole.

Layout of the directory: `manifest.json` (settings, generation number and the file stem of
each window), per window `w<window>-g<generation>.usearch` (USearch's own format: graph and
vectors) and `.npz` (the window's article ids and times, sorted by id), and `lock`.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
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

# Chosen by `newsdesk bench related` (see bench/vectors.py): recall@10 >= 0.95 on
# 1M vectors in one index, with margin, and smaller windows do better still.
DTYPE = "f16"
CONNECTIVITY = 16  # HNSW M
EXPANSION_ADD = 128  # ef_construction
EXPANSION_SEARCH = 64  # ef_search
DIMENSIONS = 384
WINDOW_DAYS = 7
KEEP_WINDOWS = 8

DAY = 86400.0
ORIGIN = 4 * DAY  # 1970-01-05 00:00 UTC, a Monday: weekly windows run Monday to Monday
MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
# In the window that straddles `since`, a query looks at no more than this many candidates
# (about 2 ms of CPU on a window of 125k f16 vectors; 1024 would cost 6 ms): when less
# than a third or so of that window is new enough, some of its matches can be missed, the
# oldest of the range asked for. USearch's Python API has no filter callback, and
# fetching the newer vectors for an exact search costs more (about 2 us per vector).
STRADDLE_CANDIDATES_MAX = 256
STRUCTURE = ("dimensions", "window_days", "dtype", "connectivity")


@dataclass
class _Shard:
    """One window: the USearch index and, sorted by id, the ids and times it holds."""

    window: int
    index: Index
    keys: np.ndarray  # uint64, sorted
    times: np.ndarray  # float64, aligned with keys
    stem: str | None = None  # file stem on disk; None until saved
    viewed: bool = False  # memory-mapped, read-only
    dirty: bool = False


class VectorIndex:
    """Cosine k-NN over unit vectors keyed by article id, one HNSW shard per time window.

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
        self.expansion_search = expansion_search
        # Threads for adds; 0 = all cores. One by default: USearch 2.26's concurrent inserts
        # leave a few nodes unreachable in small graphs (about 2 in 1,000 vectors could not
        # find themselves in our runs), which a site's small batches cannot afford; a bulk
        # build of millions may take the cores. Searches always use one thread.
        self.threads = threads
        self._shards: dict[int, _Shard] = {}
        self._generation = 0
        self._manifest_stat: tuple[int, int] | None = None
        self._dropped = reset  # windows left the index since the last save
        self._replacing = reset  # what is saved is to be replaced, not refreshed from
        self._follow = False  # take the structure from the manifest (set by `open`)
        self._locked = False  # inside `writing()`
        self._refreshing = threading.RLock()  # web processes search from several threads
        if not reset:
            self.refresh()

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
            shards = sorted(self._shards.values(), key=lambda s: -s.window)
        if k <= 0:
            return []
        query = _unit(np.asarray(vector, dtype=np.float32).reshape(1, self.dimensions))[0]
        excluded = np.array([int(i) for i in exclude if int(i) >= 0], dtype=np.uint64)
        wanted = k + len(excluded)
        found_keys, found_sims = [], []
        for shard in shards:
            count, filtered = wanted, False
            if since is not None:
                if self._window_start(shard.window + 1) <= since:
                    continue  # the whole window is older than `since`
                if self._window_start(shard.window) < since:
                    newer = int(np.count_nonzero(shard.times >= since))
                    if newer == 0:
                        continue
                    if newer < len(shard.keys):
                        # Enough candidates that about 2k of them are new enough, within limits.
                        filtered = True
                        count = min(
                            max(wanted, STRADDLE_CANDIDATES_MAX), math.ceil(2 * wanted * len(shard.keys) / newer)
                        )
            matches = shard.index.search(query, count, threads=1)
            keys, distances = matches.keys, matches.distances
            if len(excluded) or filtered:
                keep = ~np.isin(keys, excluded)
                if filtered:
                    keep &= shard.times[np.searchsorted(shard.keys, keys)] >= since
                keys, distances = keys[keep], distances[keep]
            found_keys.append(keys[:k])
            found_sims.append(1.0 - distances[:k])
        if not found_keys:
            return []
        keys, sims = np.concatenate(found_keys), np.concatenate(found_sims)
        best = np.argsort(-sims, kind="stable")[:k]
        return [(int(keys[i]), float(sims[i])) for i in best]

    def __len__(self) -> int:
        return sum(len(shard.keys) for shard in self._shards.values())

    def __contains__(self, article_id: int) -> bool:
        key = np.uint64(article_id)
        return any(_position(shard.keys, key) is not None for shard in self._shards.values())

    def windows(self) -> dict[int, int]:
        """Open windows and their sizes: window number -> vectors."""
        return {window: len(shard.keys) for window, shard in sorted(self._shards.items())}

    def memory_bytes(self) -> int:
        """Bytes held for the open windows; a memory-mapped window counts its file size,
        though those pages are shared with the other processes that map it."""
        total = 0
        for shard in self._shards.values():
            if shard.viewed:
                total += (self.directory / f"{shard.stem}.usearch").stat().st_size
            else:
                total += shard.index.memory_usage
            total += shard.keys.nbytes + shard.times.nbytes
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
        if manifest.get("version") != MANIFEST_VERSION:
            raise ValueError(f"unknown vector index manifest version {manifest.get('version')}")
        if self._follow and any(manifest[name] != getattr(self, name) for name in STRUCTURE):
            for name in STRUCTURE:  # rebuilt with other settings: start over with those
                setattr(self, name, manifest[name])
            self._shards = {}
        for name in STRUCTURE:
            if manifest[name] != getattr(self, name):
                raise ValueError(
                    f"the index in {self.directory} has {name}={manifest[name]!r}, not "
                    f"{getattr(self, name)!r}: rebuild it (VectorIndex(..., reset=True).rebuild(rows))"
                )
        stems = {int(window): stem for window, stem in manifest["shards"].items()}
        wanted = sorted(stems)[-self.keep_windows :]
        shards = {}
        for window in wanted:
            current = self._shards.get(window)
            if current is not None and current.stem == stems[window] and not current.dirty:
                shards[window] = current
            else:
                shards[window] = self._view(window, stems[window])
        self._shards = shards
        self._generation = manifest["generation"]
        self._dropped = False

    def _view(self, window: int, stem: str) -> _Shard:
        with np.load(self.directory / f"{stem}.npz") as arrays:
            keys, times = arrays["keys"], arrays["times"]
        index = _restore(self.directory / f"{stem}.usearch", view=True, expansion_search=self.expansion_search)
        return _Shard(window, index, keys, times, stem=stem, viewed=True)

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
                self._shards, self._manifest_stat = {}, None
                self._dropped = self._replacing
                if not self._replacing:
                    self.refresh()
                raise
            finally:
                self._locked = False

    def add(self, ids: Sequence[int], vectors: np.ndarray, times: Sequence[float]) -> None:
        """Insert or replace vectors; an id already present anywhere is moved to its new window."""
        keys = np.asarray(ids, dtype=np.int64)
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(keys), self.dimensions)
        stamps = np.asarray(times, dtype=np.float64).reshape(len(keys))
        if len(keys) == 0:
            return
        if keys.min() < 0:
            raise ValueError("article ids must be non-negative")
        if not np.isfinite(stamps).all():
            raise ValueError("every vector needs a time (its article's publication time)")
        keys = keys.astype(np.uint64)
        # The last row of an id wins, as if the rows had been added one at a time.
        _, last = np.unique(keys[::-1], return_index=True)
        rows = np.sort(len(keys) - 1 - last)
        keys, vectors, stamps = keys[rows], _unit(vectors[rows]), stamps[rows]
        self.remove(keys)
        windows = self._window_of(stamps)
        oldest = max(windows.max(), max(self._shards, default=windows.max())) - self.keep_windows + 1
        for window in np.unique(windows[windows >= oldest]):
            rows = windows == window
            shard = self._shards.get(int(window))
            if shard is None:
                shard = self._shards[int(window)] = _Shard(
                    int(window), self._new_index(), np.empty(0, np.uint64), np.empty(0, np.float64)
                )
            self._make_private(shard)
            shard.index.add(keys[rows], vectors[rows], threads=self.threads)
            merged_keys = np.concatenate([shard.keys, keys[rows]])
            order = np.argsort(merged_keys, kind="stable")
            shard.keys = merged_keys[order]
            shard.times = np.concatenate([shard.times, stamps[rows]])[order]
            shard.dirty = True
        for window in [w for w in self._shards if w < oldest]:
            del self._shards[window]
            self._dropped = True

    def remove(self, ids: Sequence[int] | np.ndarray) -> None:
        """Remove these ids from every open window; unknown ids are ignored."""
        keys = np.asarray(ids, dtype=np.int64)
        if len(keys) == 0:
            return
        keys = keys[keys >= 0].astype(np.uint64)
        for shard in self._shards.values():
            present = np.isin(shard.keys, keys)
            if not present.any():
                continue
            self._make_private(shard)
            shard.index.remove(shard.keys[present])
            shard.keys, shard.times = shard.keys[~present], shard.times[~present]
            shard.dirty = True

    def rebuild(self, rows: Iterable[tuple[int, np.ndarray, float]], *, batch: int = 10_000) -> None:
        """Replace the whole index by these (id, vector, time) rows, and save.

        Rows may come in any order; passing only the rows of the kept windows (a time
        filter in the query) saves the work of indexing windows that are then dropped.
        Outside `writing()` it takes the writers' lock itself. It keeps this index's
        settings: to change them, call it on `VectorIndex(directory, reset=True, ...)`.
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
        self._shards, self._dropped = {}, True
        pending: list[tuple[int, np.ndarray, float]] = []
        for row in rows:
            pending.append(row)
            if len(pending) >= batch:
                self._add_rows(pending)
                pending = []
        self._add_rows(pending)
        self.save()

    def _add_rows(self, rows: list[tuple[int, np.ndarray, float]]) -> None:
        if rows:
            ids, vectors, times = zip(*rows)
            self.add(ids, np.stack(vectors), times)

    def save(self) -> None:
        """Write the changed windows and then the manifest, each to a temp file renamed into place."""
        if not self._has_changes():
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        # Numbered past what is on disk too, so that a reset index never writes over a
        # file that the saved manifest still names.
        generation = max(self._generation, _saved_generation(self.directory)) + 1
        for shard in self._shards.values():
            if not shard.dirty:
                continue
            stem = f"w{shard.window}-g{generation}"
            _write(self.directory / f"{stem}.usearch", partial(_save_index, shard.index))
            _write(self.directory / f"{stem}.npz", partial(_save_arrays, keys=shard.keys, times=shard.times))
            shard.stem, shard.dirty = stem, False
        manifest = {
            "version": MANIFEST_VERSION,
            **{name: getattr(self, name) for name in STRUCTURE},
            "generation": generation,
            "shards": {str(window): shard.stem for window, shard in sorted(self._shards.items())},
        }
        _write(self.directory / MANIFEST, lambda path: path.write_text(json.dumps(manifest, indent=1)))
        _fsync_directory(self.directory)
        stat = (self.directory / MANIFEST).stat()
        self._manifest_stat = (stat.st_ino, stat.st_mtime_ns)
        self._generation, self._dropped, self._replacing = generation, False, False
        for shard in self._shards.values():
            if not shard.viewed:  # the file has it now: share its pages instead of keeping a copy
                self._view_saved(shard)
        named = {shard.stem for shard in self._shards.values()}
        for path in self.directory.iterdir():
            if path.name.startswith("w") and path.name.split(".")[0] not in named or path.suffix == ".tmp":
                path.unlink(missing_ok=True)

    # ----- helpers -----

    def _has_changes(self) -> bool:
        return self._dropped or any(shard.dirty for shard in self._shards.values())

    def _new_index(self) -> Index:
        return Index(
            ndim=self.dimensions,
            metric="ip",  # vectors are normalised on the way in, so inner product = cosine
            dtype=self.dtype,
            connectivity=self.connectivity,
            expansion_add=self.expansion_add,
            expansion_search=self.expansion_search,
        )

    def _view_saved(self, shard: _Shard) -> None:
        index = _restore(self.directory / f"{shard.stem}.usearch", view=True, expansion_search=self.expansion_search)
        shard.index, shard.viewed = index, True

    def _make_private(self, shard: _Shard) -> None:
        """Copy a memory-mapped window into memory so that it can be changed."""
        if shard.viewed:
            shard.index = _restore(
                self.directory / f"{shard.stem}.usearch",
                expansion_add=self.expansion_add,
                expansion_search=self.expansion_search,
            )
            shard.viewed = False

    def _window_of(self, times: np.ndarray) -> np.ndarray:
        return np.floor((times - ORIGIN) / (self.window_days * DAY)).astype(np.int64)

    def _window_start(self, window: int) -> float:
        return ORIGIN + window * self.window_days * DAY


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
    at = int(np.searchsorted(keys, key))
    return at if at < len(keys) and keys[at] == key else None


def _save_index(index: Index, path: Path) -> None:
    index.save(str(path))


def _save_arrays(path: Path, keys: np.ndarray, times: np.ndarray) -> None:
    with open(path, "wb") as file:  # a file object, so that numpy adds no ".npz" to the name
        np.savez(file, keys=keys, times=times)


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
