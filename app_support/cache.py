"""Scoring keyed by file content, so reruns, page switches and widget changes never rescore.

Results live in one process-wide store (``st.cache_resource``) keyed by the SHA-256 of the map
and model contents (or, for files on disk, their resolved path, size and modification time),
sigma and mode. Entries are immutable and shared between sessions, which only keep weak
references to them (:mod:`app_support.state`); the store is bounded by bytes
(``result_cache_mb``, :mod:`app_support.settings`) and drops the least recently used entries
beyond it. A session whose result was dropped has it rescored on its next run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from app_support.settings import settings
from qscore import defaults
from qscore.analysis.tables import Analysis
from qscore.engine import score
from qscore.io.maps import read_map
from qscore.io.models import AtomModel, read_model
from qscore.pipeline import Scored

#: Entries of the smaller stores (parsed models, derived texts, 3D views) ...
MAX_ENTRIES = 8
#: ... and the bytes each of them may hold.
SMALL_STORE_BYTES = 256 * 1024**2
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class Source:
    """One input file: its bytes or its path (uploads, examples, files on disk), name and
    digest; ``key`` is the restore key of an upload kept on disk (None otherwise)."""

    name: str
    digest: str
    data: bytes | None = None
    path: str | None = None
    key: str | None = None

    @property
    def payload(self) -> bytes | str:
        """What the readers take: the bytes, or the path."""
        return self.data if self.data is not None else str(self.path)


def digest_bytes(data: bytes) -> str:
    """SHA-256 of ``data`` in hex."""
    return hashlib.sha256(data).hexdigest()


def source_from_path(path: str | os.PathLike) -> Source:
    """A source for a file on disk, keyed by resolved path, size and modification time.

    Hashing a multi-gigabyte map would take longer than scoring it, and a changed file gets a new
    modification time anyway.
    """
    resolved = Path(path).expanduser().resolve()
    stat = resolved.stat()
    key = f"{resolved}|{stat.st_size}|{stat.st_mtime_ns}"
    return Source(name=resolved.name, digest=digest_bytes(key.encode()), path=str(resolved))


def _gemmi_document_bytes(document) -> int:
    """About 80 bytes per value of a parsed mmCIF (measured on PDB entries)."""
    cells = 0
    for block in document:
        for item in block:
            loop = item.loop
            cells += loop.length() * loop.width() if loop is not None else 1
    return 80 * cells


def nbytes(value: Any, _seen: set[int] | None = None) -> int:
    """Approximate memory held by ``value``: arrays, frames, strings and the containers and
    dataclasses holding them (shared objects counted once).

    Parameters
    ----------
    value
        Any object; parsed mmCIF documents (gemmi) are estimated from their number of values.

    Returns
    -------
    int
        Bytes, an estimate good to a few tens of percent.
    """
    seen = set() if _seen is None else _seen
    if id(value) in seen:
        return 0
    seen.add(id(value))
    if isinstance(value, np.ndarray):
        size = int(value.nbytes)
        if value.dtype == object and value.size:
            sample = value.ravel()[:256]
            size += int(sum(sys.getsizeof(v) for v in sample) * value.size / sample.size)
        return size
    if isinstance(value, pd.DataFrame | pd.Series | pd.Index):
        usage = value.memory_usage(deep=True)
        return int(usage.sum() if hasattr(usage, "sum") else usage)
    if isinstance(value, str | bytes | bytearray | int | float | bool | type(None)):
        return sys.getsizeof(value)
    if isinstance(value, dict):
        return sys.getsizeof(value) + sum(
            nbytes(k, seen) + nbytes(v, seen) for k, v in value.items()
        )
    if isinstance(value, list | tuple | set | frozenset):
        return sys.getsizeof(value) + sum(nbytes(v, seen) for v in value)
    if type(value).__module__.startswith("gemmi") and type(value).__name__ == "Document":
        return _gemmi_document_bytes(value)
    if dataclasses.is_dataclass(value):
        return sys.getsizeof(value) + sum(
            nbytes(getattr(value, f.name), seen) for f in dataclasses.fields(value)
        )
    if hasattr(value, "__dict__"):
        return sys.getsizeof(value) + nbytes(vars(value), seen)
    return sys.getsizeof(value)


class _Store:
    """A thread-safe LRU dictionary bounded by entries and by bytes (:func:`nbytes`).

    An entry larger than ``max_bytes`` is still kept (alone), so the latest result is never
    refused.
    """

    def __init__(self, max_entries: int, max_bytes: float = SMALL_STORE_BYTES) -> None:
        self._items: OrderedDict[str, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_entries
        self._max_bytes = max_bytes
        self._bytes = 0

    def get(self, key: str) -> Any | None:
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key][0]

    def put(self, key: str, value: Any) -> None:
        size = nbytes(value)
        with self._lock:
            if key in self._items:
                self._bytes -= self._items.pop(key)[1]
            self._items[key] = (value, size)
            self._bytes += size
            while len(self._items) > 1 and (
                len(self._items) > self._max or self._bytes > self._max_bytes
            ):
                _, (_, dropped) = self._items.popitem(last=False)
                self._bytes -= dropped

    @property
    def bytes(self) -> int:
        """Bytes held (as estimated when the entries were stored)."""
        with self._lock:
            return self._bytes

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


@dataclass(frozen=True, eq=False)
class Result:
    """A stored scoring run: the scored map and model and their derived tables."""

    scored: Scored
    analysis: Analysis


@st.cache_resource(show_spinner=False)
def _results() -> _Store:
    return _Store(1000, settings().result_cache_mb * 1024**2)


@st.cache_resource(show_spinner=False)
def _models() -> _Store:
    return _Store(MAX_ENTRIES)


def result_key(map_source: Source, model_source: Source, sigma: float, mode: str) -> str:
    """Cache key of a scoring run."""
    return f"{map_source.digest}:{model_source.digest}:{sigma:.6g}:{mode}"


def model_for(source: Source) -> AtomModel:
    """The parsed model of ``source`` (parsed once per content)."""
    store = _models()
    model = store.get(source.digest)
    if model is None:
        model = read_model(source.payload, name=source.name)
        store.put(source.digest, model)
    return model


def cached_result(key: str) -> Result | None:
    """The stored result for ``key``, if it was scored before and is still kept."""
    return _results().get(key)


def score_sources(
    map_source: Source,
    model_source: Source,
    *,
    sigma: float = defaults.SIGMA,
    mode: str = defaults.MODE,
    progress: Progress | None = None,
) -> tuple[str, Result]:
    """Score (or fetch) the model in the map; raises the library's errors unchanged."""
    key = result_key(map_source, model_source, sigma, mode)
    found = cached_result(key)
    if found is not None:
        return key, found
    report = progress or (lambda done, total, stage: None)
    report(0, 1, "Reading the model")
    model = model_for(model_source)
    report(0, 1, "Reading the map around the model")
    dmap = read_map(
        map_source.payload, crop_to=model.xyz, margin=defaults.CROP_MARGIN, name=map_source.name
    )
    result = score(dmap, model, sigma=sigma, mode=mode, progress=progress)
    scored = Scored(dmap=dmap, model=model, result=result)
    stored = Result(scored=scored, analysis=Analysis.of(scored))
    _results().put(key, stored)
    return key, stored


@st.cache_resource(show_spinner=False)
def _memo() -> _Store:
    return _Store(64)


def memo(key: str, compute: Callable[[], Any]) -> Any:
    """``compute()`` once per ``key`` in this process (derived texts such as downloads)."""
    store = _memo()
    value = store.get(key)
    if value is None:
        value = compute()
        store.put(key, value)
    return value
