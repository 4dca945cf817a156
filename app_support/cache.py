"""Scoring keyed by file content, so reruns, page switches and widget changes never rescore.

Results live in one process-wide store (``st.cache_resource``) keyed by the SHA-256 of the map
and model bytes (or, for files on disk, their resolved path, size and modification time), sigma
and mode. Entries are immutable and shared between sessions; the least recently used beyond
:data:`MAX_ENTRIES` are dropped.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from qscore import defaults
from qscore.analysis.tables import Analysis
from qscore.engine import score
from qscore.io.maps import read_map
from qscore.io.models import AtomModel, read_model
from qscore.pipeline import Scored

MAX_ENTRIES = 8
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class Source:
    """One input file: its bytes (uploads) or its path (examples, files on disk), name and digest."""

    name: str
    digest: str
    data: bytes | None = None
    path: str | None = None

    @property
    def payload(self) -> bytes | str:
        """What the readers take: the bytes, or the path."""
        return self.data if self.data is not None else str(self.path)


def digest_bytes(data: bytes) -> str:
    """SHA-256 of ``data`` in hex."""
    return hashlib.sha256(data).hexdigest()


def source_from_bytes(name: str, data: bytes) -> Source:
    """A source for uploaded bytes."""
    return Source(name=name, digest=digest_bytes(data), data=data)


def source_from_path(path: str | os.PathLike) -> Source:
    """A source for a file on disk, keyed by resolved path, size and modification time.

    Hashing a multi-gigabyte map would take longer than scoring it, and a changed file gets a new
    modification time anyway.
    """
    resolved = Path(path).expanduser().resolve()
    stat = resolved.stat()
    key = f"{resolved}|{stat.st_size}|{stat.st_mtime_ns}"
    return Source(name=resolved.name, digest=digest_bytes(key.encode()), path=str(resolved))


class _Store:
    """A small thread-safe LRU dictionary."""

    def __init__(self, max_entries: int) -> None:
        self._items: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_entries

    def get(self, key: str) -> Any | None:
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key]

    def put(self, key: str, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._max:
                self._items.popitem(last=False)


@st.cache_resource(show_spinner=False)
def _results() -> _Store:
    return _Store(MAX_ENTRIES)


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


def cached_result(key: str) -> tuple[Scored, Analysis] | None:
    """The stored result for ``key``, if it was scored before."""
    return _results().get(key)


def score_sources(
    map_source: Source,
    model_source: Source,
    *,
    sigma: float = defaults.SIGMA,
    mode: str = defaults.MODE,
    progress: Progress | None = None,
) -> tuple[str, Scored, Analysis]:
    """Score (or fetch) the model in the map; raises the library's errors unchanged."""
    key = result_key(map_source, model_source, sigma, mode)
    found = cached_result(key)
    if found is not None:
        return key, *found
    report = progress or (lambda done, total, stage: None)
    report(0, 1, "Reading the model")
    model = model_for(model_source)
    report(0, 1, "Reading the map around the model")
    dmap = read_map(
        map_source.payload, crop_to=model.xyz, margin=defaults.CROP_MARGIN, name=map_source.name
    )
    result = score(dmap, model, sigma=sigma, mode=mode, progress=progress)
    scored = Scored(dmap=dmap, model=model, result=result)
    analysis = Analysis.of(scored)
    _results().put(key, (scored, analysis))
    return key, scored, analysis


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
