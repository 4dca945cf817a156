"""Per-residue Q-scores: one plot per chain with bands and outliers; click a point to see it in 3D."""

from __future__ import annotations

import streamlit as st

from app_support import selection, state, urlstate
from app_support.layout import kept, require_result
from app_support.viewer_panel import residue_picker, viewer_panel
from qscore.plotting.figures import residue_figure

SMOOTHING = {"none": None, "avg-3": "avg3", "avg-5": "avg5", "avg-7": "avg7", "avg-11": "avg11"}

result = require_result()
residues = result.analysis.residues
polymer = residues[residues["kind"].isin(["protein", "nucleic"])]

st.title("Per-residue Q-scores")
if polymer.empty:
    st.info("This model has no protein or nucleic-acid residues; see Ligands & glycans.")
    st.stop()

chains = list(dict.fromkeys(polymer["chain"]))
CHAIN = kept("chain", chains[0])
#: The selection the chain picker last followed, so a chain chosen by hand is not undone.
FOLLOWED = "qs.residues-chain-follow"


def plot_key(chain: str) -> str:
    """Key of the plot of ``chain``."""
    return f"residues-{chain}"


def plot_section(result: state.Current) -> None:
    """Chain, range and smoothing controls and the plot of one chain (a clicked point is
    highlighted by Plotly; see :func:`app_support.selection.chart_key`)."""
    if result.selected in polymer.index and st.session_state.get(FOLLOWED) != result.selected:
        st.session_state[CHAIN] = polymer.at[result.selected, "chain"]
        st.session_state[FOLLOWED] = result.selected
    c1, c2, c3 = st.columns([1, 3, 2])
    chain = c1.selectbox("Chain", chains, key=CHAIN)
    in_chain = polymer[polymer["chain"] == chain]
    lo, hi = int(in_chain["resseq"].min()), int(in_chain["resseq"].max())
    range_key = kept(f"range.{result.key[:12]}.{chain}", (lo, hi))
    if result.selected in in_chain.index:
        number = int(in_chain.at[result.selected, "resseq"])
        low, high = st.session_state[range_key]
        if not low <= number <= high:
            st.session_state[range_key] = (lo, hi)
    if lo == hi:
        first, last = lo, hi
    else:
        first, last = c2.slider("Residue range", min_value=lo, max_value=hi, key=range_key)
    smoothing = c3.radio(
        "MapQ smoothing",
        list(SMOOTHING),
        horizontal=True,
        key=kept("smoothing", "none"),
        help="Sliding means over 3, 5, 7 or 11 residues, as MapQ writes them.",
    )
    shown = in_chain[(in_chain["resseq"] >= first) & (in_chain["resseq"] <= last)]
    kind = "nucleic" if (shown["kind"] == "nucleic").mean() > 0.5 else "protein"
    subsets = "phosphate, sugar and base" if kind == "nucleic" else "backbone and side chain"
    unit = "nucleotide" if kind == "nucleic" else "residue"
    figure = residue_figure(
        shown,
        result.resolution,
        result.sigma,
        kind=kind,
        smoothing=SMOOTHING[smoothing],
        title=f"Chain {chain}: {subsets} Q per {unit}",
    )
    selection.plot(figure, selection.chart_key(plot_key(chain)))
    if result.resolution is None:
        st.caption("Enter the resolution in the sidebar to draw Q_peak and the 95% band.")
    else:
        st.caption(
            "Red points lie below Q_low_95% (labelled with residue name and number). "
            "Click a point to show that residue in 3D below, or walk through the outliers with "
            "◀ Previous / Next ▶ (keys P and N)."
        )


@st.fragment
def residue_section() -> None:
    """The plot, the residue picker and the 3D panel; their widgets rerun them alone.

    A click on the plot is taken before anything is drawn, so the plot's highlight, the picker and
    the view show the clicked residue in that one rerun (the rest of the page does not change).
    """
    if st.session_state.get(CHAIN) not in chains:
        st.session_state[CHAIN] = chains[0]
    selection.take_click(selection.chart_key(plot_key(st.session_state[CHAIN])))
    result = state.current()
    plot_section(result)
    st.subheader("Selected residue in 3D")
    residue_picker(result, polymer.index[polymer["chain"] == st.session_state[CHAIN]])
    viewer_panel(result)
    urlstate.publish_residue(residues, result.selected)


residue_section()
