"""The local-resolution page's inputs and cached results: a local-resolution map or two half maps
per session, their per-residue verdicts computed once per content and parameters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from app_support.cache import Source, _Store, source_from_path
from app_support.inputs import MAP_TYPES
from app_support.state import Current
from app_support.uploads import file_input, source_of
from qscore.analysis import local_fsc

MAP_MODE = "A local-resolution map"
HALF_MODE = "Two half maps"
SCENARIO_MODE = "The scenario's local-resolution map"


@dataclass(frozen=True)
class LocalInputs:
    """Where the local resolution comes from, and the estimator's parameters."""

    local_map: Source | None = None
    half_maps: tuple[Source, Source] | None = None
    window: float = local_fsc.DEFAULT_WINDOW
    step: float = local_fsc.DEFAULT_STEP
    threshold: float = local_fsc.DEFAULT_THRESHOLD

    @property
    def ready(self) -> bool:
        """True when a map or both half maps are there."""
        return self.local_map is not None or self.half_maps is not None

    def key(self, result: Current) -> str:
        """Cache key: the scored result, the files' digests and the parameters."""
        files = [self.local_map] if self.local_map else list(self.half_maps or ())
        digests = ",".join(f.digest for f in files)
        return (
            f"{result.key}|{result.resolution}|{digests}|{self.window}|{self.step}|{self.threshold}"
        )


@dataclass(frozen=True, eq=False)
class LocalResult:
    """The residue table with the local columns, its summary and notes."""

    table: pd.DataFrame
    summary: dict[str, Any]
    notes: tuple[str, ...]


def scenario_map(result: Current) -> str | None:
    """The local-resolution map of the teaching scenario on show, if it has one.

    Only the scenario this session opened is looked at (never the whole catalogue, which would
    generate every scenario).
    """
    from app_support.teaching import chosen_key

    key = chosen_key()
    if not result.is_example or key is None:
        return None
    from qscore.synthetic.examples import get_example

    try:
        example = get_example(key)
    except KeyError:
        return None
    path = example.local_resolution_path
    return str(path) if path is not None and example.title == result.label else None


def inputs(result: Current) -> LocalInputs:
    """Draw the page's source choice, uploaders and parameters; return what was chosen."""
    scenario = scenario_map(result)
    modes = ([SCENARIO_MODE] if scenario else []) + [MAP_MODE, HALF_MODE]
    mode = st.radio("Local resolution from", modes, horizontal=True, key="qs.keep.localres.mode")
    if mode == SCENARIO_MODE:
        return LocalInputs(local_map=source_from_path(scenario))
    if mode == MAP_MODE:
        stored = file_input(
            "Local-resolution map (values in Å)",
            types=MAP_TYPES,
            key="qs.localres.map",
            help="As written by ResMap, MonoRes, BlocRes, RELION or cryoSPARC: any grid over "
            "the model's frame.",
        )
        return LocalInputs(local_map=source_of(stored) if stored else None)
    left, right = st.columns(2)
    first = file_input("Half map 1", types=MAP_TYPES, key="qs.localres.half1", container=left)
    second = file_input("Half map 2", types=MAP_TYPES, key="qs.localres.half2", container=right)
    with st.expander("Local FSC parameters"):
        a, b, c = st.columns(3)
        window = a.number_input(
            "Window (Å)", 8.0, 80.0, local_fsc.DEFAULT_WINDOW, 1.0, key="qs.keep.localres.window"
        )
        step = b.number_input(
            "Step (Å)", 0.5, 10.0, local_fsc.DEFAULT_STEP, 0.5, key="qs.keep.localres.step"
        )
        threshold = c.number_input(
            "FSC threshold", 0.05, 0.9, local_fsc.DEFAULT_THRESHOLD, 0.01,
            key="qs.keep.localres.threshold",
        )  # fmt: skip
    halves = (source_of(first), source_of(second)) if first and second else None
    return LocalInputs(
        half_maps=halves, window=float(window), step=float(step), threshold=float(threshold)
    )


@st.cache_resource(show_spinner=False)
def _results() -> _Store:
    return _Store(16)


def local_result(result: Current, chosen: LocalInputs) -> LocalResult:
    """Per-residue local resolution and verdicts (computed once per key); raises the library's
    errors unchanged."""
    from qscore.analysis.local_resolution import (
        local_summary,
        local_verdicts,
        residue_local_resolution,
    )
    from qscore.pipeline import load_local_resolution

    key = chosen.key(result)
    found = _results().get(key)
    if found is not None:
        return found
    model, q = result.scored.model, result.scored.result.q
    files = [chosen.local_map] if chosen.local_map else list(chosen.half_maps or ())
    local = load_local_resolution(
        model,
        local_map=chosen.local_map.payload if chosen.local_map else None,
        half_maps=tuple(f.payload for f in chosen.half_maps) if chosen.half_maps else None,
        names=tuple(f.name for f in files),
        window=chosen.window,
        step=chosen.step,
        threshold=chosen.threshold,
    )
    per_residue = residue_local_resolution(model, local.atoms, q)
    table, notes = local_verdicts(
        result.analysis.residues, per_residue, sigma=result.sigma, resolution=result.resolution
    )
    done = LocalResult(table=table, summary=local_summary(table), notes=local.notes + notes)
    _results().put(key, done)
    return done
