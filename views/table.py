"""The residue table (sortable, filterable, with expected Q and verdict) and all downloads."""

from __future__ import annotations

import streamlit as st

from app_support import selection, state
from app_support.cache import memo
from app_support.layout import download, file_stem, kept, require_result
from app_support.report import report_button
from app_support.viewer_panel import viewer_panel
from qscore.analysis.outliers import without_water_verdicts
from qscore.io.export import atoms_frame, mmcif_text, pdb_text
from qscore.plotting.figures import annotate_residues, residue_label, verdict_word

VERDICTS = ["below Q_low_95%", "as commonly observed", "above Q_high_95%"]

result = require_result()
model, q = result.scored.model, result.scored.result.q
st.title("Residue table & downloads")

table = annotate_residues(result.analysis.residues, result.resolution, result.sigma)
judge_water = st.toggle(
    "Judge waters against the band",
    key=kept("judge-water", False),
    help="Off: waters are listed without expected value or verdict, so they do not crowd the "
    "lowest residues at the top.",
)
if not judge_water:
    table = without_water_verdicts(table)
table["verdict"] = table["verdict"].map(verdict_word)
c1, c2, c3 = st.columns(3)
chains = list(dict.fromkeys(table["chain"]))
kinds = list(dict.fromkeys(table["kind"]))
pick_chains = c1.multiselect("Chains", chains, key=kept("table-chains", chains))
pick_kinds = c2.multiselect("Types", kinds, key=kept("table-kinds", kinds))
pick_verdicts = c3.multiselect(
    "Verdict",
    VERDICTS,
    key=kept("table-verdicts", []),
    placeholder="All",
    help="Filter on the residue's mean Q against the 95% band at the resolution.",
)
shown = table[table["chain"].isin(pick_chains) & table["kind"].isin(pick_kinds)]
if pick_verdicts:
    shown = shown[shown["verdict"].isin(pick_verdicts)]
shown = shown.sort_values("deviation", na_position="last")
columns = [
    "chain",
    "resseq",
    "icode",
    "resname",
    "kind",
    "atoms",
    "q",
    "q_backbone",
    "q_sidechain",
    "q_phosphate",
    "q_sugar",
    "q_base",
    "expected",
    "deviation",
    "verdict",
]
number = {c: st.column_config.NumberColumn(format="%.3f") for c in columns if c.startswith("q")}
st.caption(
    f"{len(shown):,} of {len(table):,} residues, lowest Q relative to Q_peak first. "
    "Click a column header to sort; select a row to show the residue in 3D."
)
selection.table(
    shown[columns],
    "residue-table",
    {
        **number,
        "q": st.column_config.NumberColumn("Q", format="%.3f"),
        "expected": st.column_config.NumberColumn("expected (Q_peak)", format="%.3f"),
        "deviation": st.column_config.NumberColumn("Q − Q_peak", format="%+.3f"),
    },
)
result = state.current()
if result.selected is not None and result.selected in table.index:
    row = table.loc[result.selected]
    q_text = f"Q {row['q']:.3f}" if row["q"] == row["q"] else "not scored"
    st.markdown(
        f"**Selected: {residue_label(row)}** — {q_text}"
        + (f", {row['verdict']}" if row["verdict"] else "")
    )
with st.expander("Selected residue in 3D", expanded=result.selected is not None):
    viewer_panel(result, height=480)

st.subheader("Downloads")
stem = file_stem(model)
d1, d2, d3, d4 = st.columns(4)
download(
    d1,
    "Per-atom CSV",
    lambda: memo(
        f"atoms|{result.key}",
        lambda: atoms_frame(model, q).to_csv(index=False, float_format="%.6f"),
    ),
    f"{stem}_atoms_qscore.csv",
)
download(
    d2,
    "Per-residue CSV",
    lambda: result.analysis.residues.to_csv(index=False, float_format="%.6f"),
    f"{stem}_residues_qscore.csv",
)
download(
    d3,
    "mmCIF with Q-score",
    lambda: memo(f"cif|{result.key}", lambda: mmcif_text(model, q)),
    f"{stem}_qscore.cif",
    help="The original file with _atom_site.Q_score added, as MapQ writes it.",
)
remark = f"Q-scores (sigma {result.sigma:g}) in the B-factor column"
download(
    d4,
    "PDB, Q as B-factor",
    lambda: memo(f"pdb|{result.key}", lambda: pdb_text(model, q, remarks=(remark,))),
    f"{stem}_qscore.pdb",
)
st.radio(
    "Figure format",
    ["png", "svg"],
    horizontal=True,
    key=kept("figure-format", "png"),
    help="Format of the camera button in every plot's toolbar (all pages).",
)
st.caption("Figures: the camera icon in each plot's toolbar saves the figure in this format.")

st.subheader("Report")
report_button(result)
