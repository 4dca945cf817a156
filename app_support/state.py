"""The session-state contract: what the current browser session is looking at.

Every page calls :func:`current` and renders what it returns; only ``app.py`` (through
:func:`set_result`) and the selection helpers write. Scored results are immutable and shared
between sessions through the cache; each session only holds references and its own selection.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

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


def set_result(current: Current) -> None:
    """Make ``current`` the session's result; a new result clears the residue selection."""
    previous = st.session_state.get(RESULT)
    if previous is not None and previous.key != current.key:
        st.session_state[SELECTED] = None
    st.session_state[RESULT] = current


def current() -> Current | None:
    """The session's current result with the latest selection, window and reference, or None."""
    stored: Current | None = st.session_state.get(RESULT)
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
