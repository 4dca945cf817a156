"""B-factors from Q-scores (paper §6, Fig. 5): the f scan, model maps beside the map, CC tables."""

from __future__ import annotations

import numpy as np
import streamlit as st

from app_support import selection, state
from app_support.cache import memo
from app_support.layout import chart_config, download, file_stem, require_result
from qscore.analysis.bfactor import report
from qscore.analysis.modelmap import ElectronMapper, residue_slices
from qscore.errors import QscoreError
from qscore.io.export import mmcif_text, pdb_text
from qscore.plotting.bfactor import (
    f_scan_figure,
    residue_label,
    residue_slices_figure,
    worst_residues,
)

result = require_result()
scored = result.scored
dmap, model, q = scored.dmap, scored.model, scored.result.q
st.title("B-factors from Q-scores")
st.caption(
    "B = f·(1 − Q) for every atom. For each scale factor f the model's electron-scattering map "
    "is compared with the map by CC-mean; the f with the highest CC-mean gives the B-factors "
    "(paper §6). CC and CC-mean of the molmap-style model map are shown as well (A1.4)."
)
if result.resolution is None:
    st.warning("Enter the map's resolution in the sidebar: the model maps are built at it.")
    st.stop()
resolution = float(result.resolution)
base = f"bfactor|{result.key}|{resolution:g}"

try:
    with st.spinner("Building 16 model maps and comparing them with the map…"):
        rep = memo(base, lambda: report(dmap, model, q, resolution))
except QscoreError as exc:
    st.error(str(exc))
    st.stop()
bf = rep.result

c1, c2, c3, c4, c5, c6 = st.columns(6)
c1.metric("Best f", f"{bf.best_f:g}")
c2.metric("CC-mean, B from Q", f"{bf.cc_mean_best:.4f}")
c3.metric("CC-mean, B = 0", f"{bf.cc_mean_b0:.4f}", delta=f"{bf.cc_mean_b0 - bf.cc_mean_best:+.4f}")
c4.metric(
    "CC-mean, deposited B",
    f"{bf.cc_mean_deposited:.4f}",
    delta=f"{bf.cc_mean_deposited - bf.cc_mean_best:+.4f}",
)
c5.metric("Molmap CC", f"{rep.correlations['cc']:.4f}")
c6.metric("Molmap CC-mean", f"{rep.correlations['cc_mean']:.4f}")
st.plotly_chart(f_scan_figure(bf.scan, bf.best_f), config=chart_config(), key="bf-scan")
for note in bf.notes:
    st.caption(f"Note: {note}")

st.subheader("Model maps beside the map")
residues = rep.residues
worst = worst_residues(residues)
polymer = model.residues["kind"].isin(["protein", "nucleic"]).to_numpy()
candidates = worst_residues(residues[polymer]) if polymer.any() else worst
default = result.selected if result.selected is not None else int(candidates.index[0])
rows = list(range(len(residues)))
row = st.selectbox(
    "Residue",
    rows,
    index=min(default, len(rows) - 1),
    format_func=lambda r: residue_label(residues.iloc[r]),
    help="Any residue; the worst residues below and the other pages select one as well.",
)
if row != result.selected:
    state.select_residue(row)


def _model_maps():
    mapper = ElectronMapper(model, resolution, dmap)
    return mapper(np.zeros(model.n_atoms)), mapper(bf.b_iso)


b0_map, bq_map = memo(f"{base}|maps", _model_maps)
slices = residue_slices(
    {"Map": dmap, "Model map, B = 0": b0_map, f"Model map, B from Q (f = {bf.best_f:g})": bq_map},
    model,
    row,
)
info = residues.iloc[row]
st.plotly_chart(
    residue_slices_figure(
        slices,
        title=f"{residue_label(info)}: CC-mean {info['cc_mean_b']:.3f} with B from Q, "
        f"mean B {info['mean_b']:.0f} Å²",
    ),
    config=chart_config(),
    key="bf-slices",
)
st.caption(
    "Slices through the residue's centre in the plane of its two main axes; filled dots are "
    "atoms within 1.5 Å of the plane. The map has its own grey scale; the two model maps share "
    "one."
)

st.subheader("Correlation per chain")
chains = [
    {"chain": chain, "CC": v["cc"], "CC-mean": v["cc_mean"]}
    for chain, v in rep.correlations["chains"].items()
]
st.dataframe(
    chains,
    hide_index=True,
    column_config={
        "CC": st.column_config.NumberColumn(format="%.4f"),
        "CC-mean": st.column_config.NumberColumn(format="%.4f"),
    },
)

st.subheader("Worst residues")
st.caption(
    "Lowest CC-mean of the molmap-style map; each residue owns the model-map points nearest "
    "its atoms. Select a row to show it above."
)
shown = worst[
    ["chain", "resseq", "icode", "resname", "cc", "cc_mean", "cc_mean_b", "mean_b", "n_points"]
]
selection.table(
    shown,
    "bf-worst",
    {
        "cc": st.column_config.NumberColumn("CC", format="%.3f"),
        "cc_mean": st.column_config.NumberColumn("CC-mean", format="%.3f"),
        "cc_mean_b": st.column_config.NumberColumn("CC-mean, B from Q", format="%.3f"),
        "mean_b": st.column_config.NumberColumn("mean B (Å²)", format="%.1f"),
        "n_points": st.column_config.NumberColumn("points"),
    },
)
picked = state.current()
if picked is not None and picked.selected is not None and picked.selected != row:
    st.rerun()

st.subheader("Downloads")
stem = file_stem(model)
d1, d2, d3 = st.columns(3)
download(
    d1,
    "mmCIF with B from Q",
    lambda: memo(f"{base}|cif", lambda: mmcif_text(model, None, b_iso=bf.b_iso)),
    f"{stem}_B{bf.best_f:g}.cif",
    help="The original file with B_iso_or_equiv replaced by the new B-factors.",
)
remark = f"B-factors from Q-scores: B = {bf.best_f:g} * (1 - Q) (sigma {result.sigma:g})"
download(
    d2,
    "PDB with B from Q",
    lambda: memo(f"{base}|pdb", lambda: pdb_text(model, bf.b_iso, remarks=(remark,))),
    f"{stem}_B{bf.best_f:g}.pdb",
)
download(
    d3,
    "Per-residue CC CSV",
    lambda: residues.to_csv(index=False, float_format="%.6f"),
    f"{stem}_residues_cc.csv",
)
