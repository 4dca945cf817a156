"""Ligands, glycans, ions and waters: one Q-score per molecule against the expected band, readable
for models with hundreds of molecules (grouped, sorted, filtered, one page at a time)."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from app_support import selection, state
from app_support.layout import kept, require_result
from app_support.viewer_panel import residue_picker, viewer_panel
from qscore.analysis.outliers import without_water_verdicts
from qscore.plotting.figures import annotate_residues, molecule_figure, verdict_word

SORTS = {
    "lowest Q − Q_peak first": (["deviation", "q"], True),
    "lowest Q first": (["q"], True),
    "chain and number": (["chain", "resseq"], True),
    "name": (["resname", "chain", "resseq"], True),
    "most atoms first": (["atoms", "q"], False),
}
PAGE_SIZES = [25, 50, 100, 250]
#: The selected molecule whose page was last opened, so a later page change is not undone.
FOLLOW = "qs.molecule-page-follow"

result = require_result()
st.title("Ligands & glycans")
st.markdown(
    "Each ligand and each saccharide of a glycan gets one Q-score, the mean over its atoms "
    "(paper §5). A molecule below Q_low_95% may be misplaced, absent from the map or "
    "conformationally heterogeneous. Waters are listed but not judged against the model's band "
    "unless you ask: the band describes residues, and a water is a single atom."
)
molecules = result.analysis.residues
molecules = molecules[~molecules["kind"].isin(["protein", "nucleic"])]
if molecules.empty:
    st.info("This model has no ligands, glycans, ions or waters.")
    st.stop()
kinds = [k for k in ("ligand", "glycan", "ion", "water") if k in set(molecules["kind"])]
default = [k for k in kinds if k in ("ligand", "glycan")] or kinds
c1, c2, c3 = st.columns([3, 2, 2])
with c1:
    chosen = st.pills("Show", kinds, selection_mode="multi", key=kept("molecule-kinds", default))
search = c2.text_input(
    "Name or chain contains",
    key=kept("molecule-search", ""),
    placeholder="e.g. NAG, ATP, chain B",
    help="Filter on residue name, chain or number (case-insensitive).",
)
judge_water = c3.toggle("Judge waters against the band", key=kept("judge-water", False))

table = annotate_residues(molecules, result.resolution, result.sigma)
if not judge_water:
    table = without_water_verdicts(table)
table["verdict"] = table["verdict"].map(verdict_word)
shown = table[table["kind"].isin(chosen or [])]
if search.strip():
    needle = search.strip().lower().removeprefix("chain ").strip()
    text = (
        shown["resname"].astype(str)
        + " "
        + shown["chain"].astype(str)
        + " "
        + shown["resseq"].astype(str)
    ).str.lower()
    shown = shown[text.str.contains(needle, regex=False) | (shown["chain"].str.lower() == needle)]
if shown.empty:
    st.info("No molecule matches: choose a kind above or change the filter.")
    st.stop()

groups = (
    shown.groupby(["kind", "resname"], sort=False)
    .agg(
        molecules=("q", "size"),
        mean_q=("q", "mean"),
        lowest_q=("q", "min"),
        below=("verdict", lambda v: int((v == "below Q_low_95%").sum())),
    )
    .reset_index()
    .sort_values(["below", "mean_q"], ascending=[False, True])
)
with st.expander(f"{len(groups)} kinds of molecule (grouped by name)", expanded=len(shown) > 50):
    st.dataframe(
        groups,
        hide_index=True,
        column_config={
            "mean_q": st.column_config.NumberColumn("mean Q", format="%.3f"),
            "lowest_q": st.column_config.NumberColumn("lowest Q", format="%.3f"),
            "below": st.column_config.NumberColumn("below Q_low_95%"),
        },
    )

s1, s2, s3, s4 = st.columns([3, 2, 1, 2], vertical_alignment="bottom")
names = sorted(set(shown["resname"]))
only = s1.multiselect("Only these names", names, key=kept("molecule-names", []), placeholder="All")
if only:
    shown = shown[shown["resname"].isin(only)]
sort = s2.selectbox("Sort", list(SORTS), key=kept("molecule-sort", list(SORTS)[0]))
size = s3.selectbox("Per page", PAGE_SIZES, key=kept("molecule-page-size", 50))
columns, ascending = SORTS[sort]
shown = shown.sort_values(columns, ascending=ascending, na_position="last", kind="stable")
pages = max(1, math.ceil(len(shown) / size))
page_key = kept("molecule-page", 1)
if result.selected in shown.index and st.session_state.get(FOLLOW) != result.selected:
    st.session_state[page_key] = list(shown.index).index(result.selected) // size + 1
    st.session_state[FOLLOW] = result.selected
st.session_state[page_key] = min(max(1, int(st.session_state[page_key])), pages)
page = s4.number_input(f"Page (of {pages})", min_value=1, max_value=pages, key=page_key)
start = (int(page) - 1) * size
on_page = shown.iloc[start : start + size]
st.caption(f"Molecules {start + 1}–{start + len(on_page)} of {len(shown):,} ({sort}).")

selection.plot(
    molecule_figure(
        on_page,
        result.resolution,
        result.sigma,
        selected=result.selected,
        judge_water=judge_water,
    ),
    "molecules",
)
selection.table(
    on_page[
        ["chain", "resseq", "resname", "kind", "atoms", "q", "expected", "deviation", "verdict"]
    ],
    "molecule-table",
    {
        "q": st.column_config.NumberColumn("Q", format="%.3f"),
        "expected": st.column_config.NumberColumn("expected (Q_peak)", format="%.3f"),
        "deviation": st.column_config.NumberColumn("Q − Q_peak", format="%+.3f"),
    },
)
result = state.current()
st.subheader("Selected molecule in 3D")
residue_picker(result, pd.Index(shown.index), label="Molecule")
viewer_panel(result, walk_controls=False)
