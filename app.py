"""qscore dashboard: Q-scores of an atomic model in a cryo-EM map, in the context of the EMDB.

Run with ``streamlit run app.py``. This entry script draws the sidebar inputs, scores (or fetches
from the cache) the chosen map and model, stores the result in the session and runs the page
the visitor picked; the pages only read ``app_support.state.current()``.
"""

from __future__ import annotations

import streamlit as st

from app_support import state
from app_support.cache import cached_result, result_key, score_sources
from app_support.inputs import Inputs, sidebar
from app_support.layout import header, keep_widget_state, navigation
from qscore.errors import QscoreError

st.set_page_config(page_title="qscore — Q-scores in context", page_icon="🧊", layout="wide")
keep_widget_state()
pages = navigation()
inputs: Inputs = sidebar()


def _score(inputs: Inputs) -> None:
    """Score the inputs (with visible progress unless cached) and make them the session result."""
    key = result_key(inputs.map_source, inputs.model_source, inputs.sigma, inputs.mode)
    if cached_result(key) is not None:
        _, scored, analysis = score_sources(
            inputs.map_source, inputs.model_source, sigma=inputs.sigma, mode=inputs.mode
        )
    else:
        slot = st.empty()
        with (
            slot.container(),
            st.status(f"Scoring {inputs.label}…", expanded=True) as status,
        ):
            bar = st.progress(0.0, text="Starting")

            def progress(done: int, total: int, stage: str) -> None:
                bar.progress(min(done / total, 1.0) if total else 0.0, text=stage)

            _, scored, analysis = score_sources(
                inputs.map_source,
                inputs.model_source,
                sigma=inputs.sigma,
                mode=inputs.mode,
                progress=progress,
            )
            status.update(label="Scored", state="complete", expanded=False)
        slot.empty()
        st.toast(
            f"Scored {scored.result.atoms_scored:,} atoms in {scored.result.seconds:.1f} s",
            icon=":material/check_circle:",
        )
    state.set_result(
        state.Current(
            key=key,
            label=inputs.label,
            scored=scored,
            analysis=analysis,
            resolution=inputs.resolution,
            sigma=inputs.sigma,
            mode=inputs.mode,
            reference=None,
            window=state.window(),
            selected=None,
            is_example=inputs.is_example,
            sources=(inputs.map_source, inputs.model_source),
        )
    )


if inputs.error:
    st.error(inputs.error, icon=":material/error:")
elif inputs.map_source is not None and inputs.model_source is not None:
    try:
        _score(inputs)
    except QscoreError as exc:
        st.error(str(exc), icon=":material/error:")
        if state.current() is not None:
            st.caption("The results below are still those of the previous inputs.")
header(state.current())
pages.run()
