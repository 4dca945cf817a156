"""The session-state contract: what the current browser session is looking at.

Every page calls :func:`current` and renders what it returns; only ``app.py`` (through
:func:`set_result`) and the selection helpers write. Scored results are immutable and shared
between sessions through the cache's byte-bounded store; between runs a session keeps only weak
references to them, so the store alone decides what stays in memory. If the store dropped a
session's result, :func:`current` returns None and :func:`stale` is True until ``app.py`` has
scored it again (which every full run does).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, fields, replace
from typing import Any

import streamlit as st

from qscore.analysis.reference import ReferenceTable, default_reference
from qscore.analysis.tables import Analysis
from qscore.defaults import WINDOW
from qscore.pipeline import Scored

RESULT = "qs.result"
SELECTED = "qs.selected"
REFERENCE = "qs.reference"
WINDOW_KEY = "qs.window"


@dataclass(frozen=True, eq=False)
class Current:
    """The scored result the session shows, its parameters and the selected residue.

    ``key`` identifies the inputs (content hashes of map and model, sigma and mode);
    ``resolution`` is None when neither the model nor the user gave one; ``selected`` is a row
    of ``scored.model.residues`` (and of ``analysis.residues``) or None; ``sources`` are the
    map's and the model's :class:`app_support.cache.Source` (for the report's checksums).
    """

    key: str
    label: str
    scored: Scored
    analysis: Analysis
    resolution: float | None
    sigma: float
    mode: str
    reference: ReferenceTable | None
    window: float
    selected: int | None
    is_example: bool
    sources: tuple = ()


_WEAK = ("scored", "analysis")


class Kept:
    """A :class:`Current` as the session keeps it between runs: its fields, with ``scored`` and
    ``analysis`` held weakly (they read as None once the store dropped them)."""

    def __init__(self, current: Current) -> None:
        self._fields = {
            f.name: getattr(current, f.name) for f in fields(Current) if f.name not in _WEAK
        }
        self._refs = {name: weakref.ref(getattr(current, name)) for name in _WEAK}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in _WEAK:
            return self._refs[name]()
        try:
            return self._fields[name]
        except KeyError:
            raise AttributeError(name) from None

    def resolve(self) -> Current | None:
        """The full :class:`Current`, or None if its result was dropped."""
        held = {name: ref() for name, ref in self._refs.items()}
        if any(value is None for value in held.values()):
            return None
        return Current(**self._fields, **held)


def set_result(current: Current) -> None:
    """Make ``current`` the session's result; a new result clears the residue selection.

    The caller keeps ``current`` alive for the rest of its run; the session itself only keeps a
    weak reference to the scored data.
    """
    previous = st.session_state.get(RESULT)
    if previous is not None and previous.key != current.key:
        st.session_state[SELECTED] = None
    st.session_state[RESULT] = Kept(current)


def clear_result() -> None:
    """Forget the session's result (nothing is shown until the next one)."""
    st.session_state[RESULT] = None


def _resolved() -> Current | None:
    stored = st.session_state.get(RESULT)
    if isinstance(stored, Kept):
        return stored.resolve()
    return stored


def stale() -> bool:
    """True when the session had a result that the store has since dropped."""
    stored = st.session_state.get(RESULT)
    return isinstance(stored, Kept) and stored.resolve() is None


def current() -> Current | None:
    """The session's current result with the latest selection, window and reference, or None."""
    stored = _resolved()
    if stored is None:
        return None
    return replace(
        stored,
        selected=st.session_state.get(SELECTED),
        window=window(),
        reference=reference(),
    )


def select_residue(row: int | None) -> None:
    """Select a residue (a row of the residue table) for the 3D view and the detail panels."""
    st.session_state[SELECTED] = None if row is None else int(row)


def window() -> float:
    """Resolution window (Å) for Q_relative_resolution chosen in this session."""
    return float(st.session_state.get(WINDOW_KEY, WINDOW))


def reference() -> ReferenceTable | None:
    """The session's reference table: a user-loaded one, else the default EMDB table."""
    table = st.session_state.get(REFERENCE)
    return table if table is not None else default_reference()


def set_reference(table: ReferenceTable | None) -> None:
    """Use ``table`` as this session's reference (None returns to the default)."""
    st.session_state[REFERENCE] = table
