"""Ligands, glycans, ions and waters: one Q-score per molecule against the expected band."""

from __future__ import annotations

import streamlit as st

from app_support import selection, state
from app_support.layout import chart_config, kept, require_result
from app_support.viewer_panel import residue_picker, viewer_panel
from qscore.plotting.figures import annotate_residues, molecule_figure, verdict_word

result = require_result()
st.title("Ligands & glycans")
st.markdown(
    "Each ligand and each saccharide of a glycan gets one Q-score, the mean over its atoms "
    "(paper §5). A molecule below Q_low_95% may be misplaced, absent from the map or "
    "conformationally heterogeneous."
)
molecules = result.analysis.residues
molecules = molecules[~molecules["kind"].isin(["protein", "nucleic"])]
if molecules.empty:
    st.info("This model has no ligands, glycans, ions or waters.")
    st.stop()
kinds = [k for k in ("ligand", "glycan", "ion", "water") if k in set(molecules["kind"])]
default = [k for k in kinds if k in ("ligand", "glycan")] or kinds
chosen = st.pills("Show", kinds, selection_mode="multi", key=kept("molecule-kinds", default))
shown = molecules[molecules["kind"].isin(chosen or [])]
if shown.empty:
    st.info("Choose at least one kind of molecule above.")
    st.stop()
event = st.plotly_chart(
    molecule_figure(shown, result.resolution, result.sigma, selected=result.selected),
    key="molecules",
    config=chart_config(),
    on_select="rerun",
    selection_mode=("points",),
)
selection.from_plot(event, "molecules")
table = annotate_residues(shown, result.resolution, result.sigma)
table["verdict"] = table["verdict"].map(verdict_word)
st.dataframe(
    table[["chain", "resseq", "resname", "kind", "atoms", "q", "expected", "deviation", "verdict"]],
    hide_index=True,
    column_config={
        "q": st.column_config.NumberColumn("Q", format="%.3f"),
        "expected": st.column_config.NumberColumn("expected (Q_peak)", format="%.3f"),
        "deviation": st.column_config.NumberColumn("Q − Q_peak", format="%+.3f"),
    },
)
result = state.current()
st.subheader("Selected molecule in 3D")
residue_picker(result, shown.index, label="Molecule")
viewer_panel(result)
