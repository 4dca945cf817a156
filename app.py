"""qscore dashboard: Q-scores of an atomic model in a cryo-EM map, in the context of the EMDB.

Run with ``make run`` (``streamlit run serve.py``: uploads stream to disk) or ``streamlit run
app.py``. This entry script draws the sidebar inputs, scores (or fetches from the cache) the
chosen map and model, makes the result the session's, keeps the URL in step with what is shown
and runs the page the visitor picked; the pages only read ``app_support.state.current()``.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from app_support import inputs as sidebar_inputs
from app_support import state, urlstate
from app_support.cache import Result, _Store, cached_result, result_key, score_sources
from app_support.inputs import Inputs, sidebar
from app_support.layout import (
    header,
    keep_widget_state,
    navigation,
    page_style,
    plain,
    progress_bar,
)
from qscore.errors import QscoreError

st.set_page_config(page_title="qscore — Q-scores in context", page_icon="🧊", layout="wide")
page_style()
keep_widget_state()
pages = navigation()
inputs: Inputs = sidebar()


@st.cache_resource(show_spinner=False)
def _failures() -> _Store:
    """Messages of inputs that failed, so a rerun does not read a bad file again."""
    return _Store(256)


def _still_there(inputs: Inputs) -> bool:
    """True when the inputs' files exist (a failure is then a property of their content)."""
    paths = [s.path for s in (inputs.map_source, inputs.model_source) if s and s.path]
    return all(Path(path).is_file() for path in paths)


def _score(inputs: Inputs) -> state.Current:
    """Score the inputs (with visible progress unless cached) and make them the session result.

    Returns the result, which the caller keeps for the rest of the run (the session itself
    only references it weakly). Raises the library's errors; the progress box never outlives
    the attempt.
    """
    key = result_key(inputs.map_source, inputs.model_source, inputs.sigma, inputs.mode)
    failed = _failures().get(key)
    if failed is not None:
        raise QscoreError(failed)
    stored: Result | None = cached_result(key)
    if stored is None:
        slot = st.empty()
        try:
            with (
                slot.container(),
                st.status(f"Scoring {plain(inputs.label)}…", expanded=True) as status,
            ):
                progress = progress_bar("Starting")
                _, stored = score_sources(
                    inputs.map_source,
                    inputs.model_source,
                    sigma=inputs.sigma,
                    mode=inputs.mode,
                    progress=progress,
                )
                status.update(label="Scored", state="complete", expanded=False)
        except QscoreError as exc:
            if _still_there(inputs):
                _failures().put(key, str(exc))
            raise
        finally:
            slot.empty()
        result = stored.scored.result
        st.toast(
            f"Scored {result.atoms_scored:,} atoms in {result.seconds:.1f} s",
            icon=":material/check_circle:",
        )
    shown = state.Current(
        key=key,
        label=inputs.label,
        scored=stored.scored,
        analysis=stored.analysis,
        resolution=inputs.resolution,
        sigma=inputs.sigma,
        mode=inputs.mode,
        reference=None,
        window=state.window(),
        selected=None,
        is_example=inputs.is_example,
        sources=(inputs.map_source, inputs.model_source),
    )
    state.set_result(shown)
    return shown


def _select_from_url(shown: state.Current | None) -> None:
    """Select the residue a restored URL named, once its result is shown."""
    wanted = urlstate.pending_residue()
    if wanted is None or shown is None:
        return
    row = urlstate.residue_row(shown.analysis.residues, wanted)
    if row is not None:
        state.select_residue(row)
    urlstate.residue_done()


def _publish_url(inputs: Inputs) -> None:
    """Write what is shown into the URL (restore keys of uploads, parameters, selection)."""
    shown = state.current()
    user = shown is not None and not shown.is_example
    pair = sidebar_inputs.pinned() if user else None
    residue = None
    if shown is not None and shown.selected is not None:
        residue = urlstate.residue_text(shown.analysis.residues, shown.selected)
    urlstate.publish(
        urlstate.wanted(
            map_key=pair.map_source.key if pair else None,
            model_key=pair.model_source.key if pair else None,
            resolution=inputs.resolution,
            sigma=inputs.sigma,
            mode=inputs.mode,
            residue=residue,
        )
    )


shown: state.Current | None = None
if inputs.error:
    st.error(plain(inputs.error), icon=":material/error:")
elif inputs.map_source is not None and inputs.model_source is not None:
    try:
        shown = _score(inputs)
        sidebar_inputs.pin(inputs)
    except QscoreError as exc:
        st.error(plain(exc), icon=":material/error:")
        fallback = sidebar_inputs.pinned_inputs(inputs)
        if state.current() is None and fallback is not None and fallback != inputs:
            try:
                shown = _score(fallback)
            except QscoreError:
                state.clear_result()
        previous = state.current()
        if previous is not None:
            st.caption(f"The results below are still those of {plain(previous.label)}.")
if shown is None and state.stale():
    state.clear_result()
_select_from_url(shown or state.current())
_publish_url(inputs)
header(state.current())
try:
    pages.run()
finally:
    _publish_url(inputs)
