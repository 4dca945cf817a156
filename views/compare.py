"""Compare: a second model or a second map next to the current result, per-residue differences
that exceed the maps' noise, ligand poses against the band, and both models in 3D."""

from __future__ import annotations

import numpy as np
import streamlit as st

from app_support import comparison, selection, state
from app_support.layout import chart_config, download, file_stem, kept, plain, require_result
from app_support.viewer_panel import residue_picker
from qscore.analysis.compare import Rule
from qscore.errors import QscoreError
from qscore.plotting.compare import delta_figure, pose_figure
from qscore.plotting.figures import residue_label

result = require_result()
st.title("Compare")
st.markdown(
    "Add a second model (a refinement round, a rebuilt loop, another ligand pose) to compare "
    "in the same map, or a second map (a sharpened map, another dataset) to compare with the "
    "same model. Residues, ligands and glycans are matched by chain, number, insertion code and "
    "name; **dq = Q_B − Q_A** per residue. A difference is **significant** when it exceeds what "
    "the maps' noise can produce: the noise is measured in the map's solvent (or assumed "
    "typical when the map is masked), added again 20 times, and the residue (or the three "
    "residues around it) must stand out at p < 0.01 with |dq| ≥ 0.05."
)
second, problem = comparison.choose_second(result)
if problem:
    st.error(problem, icon=":material/error:")
if second.model is None and second.dmap is None:
    st.info("Add a second model or a second map above to compare them with the current result.")
    st.stop()
if result.resolution is None:
    st.warning(
        "Enter the map's resolution in the sidebar: the significance test adds noise limited "
        "to that resolution."
    )
    st.stop()
choices = [w for w, s in (("models", second.model), ("maps", second.dmap)) if s is not None]
what = choices[0]
if len(choices) == 2:
    what = st.radio(
        "Residue differences between",
        choices,
        format_func={
            "models": "the two models (in map A)",
            "maps": "the two maps (with model A)",
        }.get,
        horizontal=True,
        key=kept("compare.against", "models"),
    )
names = {
    "models": (result.scored.model.source, second.model.name if second.model else ""),
    "maps": (result.scored.dmap.source, second.dmap.name if second.dmap else ""),
}[what]
try:
    outcome = comparison.outcome(result, second, what, Rule())
except QscoreError as exc:
    st.error(plain(exc), icon=":material/error:")
    st.stop()
found = outcome.comparison
summary = found.summary()
st.caption(f"**A** = {plain(names[0])} · **B** = {plain(names[1])}")
cols = st.columns(5)
cols[0].metric("Model Q, A", f"{summary['model_q_a']:.3f}")
cols[1].metric("Model Q, B", f"{summary['model_q_b']:.3f}", delta=f"{summary['dq_model']:+.3f}")
cols[2].metric("Residues compared", f"{summary['residues_compared']:,}")
cols[3].metric(
    "Better / worse in B",
    f"{summary['residues_better']} / {summary['residues_worse']}",
    help="Residues whose dq exceeds the maps' noise (see the rule above).",
)
cols[4].metric("Unmatched", summary["unmatched"], help="Residues present in only one model.")
for note in found.notes:
    st.caption(plain(note))

table = found.residues
polymer = table[table["kind"].isin(["protein", "nucleic"]) & np.isfinite(table["dq"])]
if not polymer.empty:
    chains = list(dict.fromkeys(polymer["chain"]))
    selected_chain = None
    if result.selected is not None:
        hit = polymer[polymer["row_a"] == result.selected]
        selected_chain = hit["chain"].iloc[0] if not hit.empty else None
    if (
        selected_chain is not None
        and st.session_state.get(kept("compare.chain", chains[0])) != selected_chain
    ):
        st.session_state[kept("compare.chain", chains[0])] = selected_chain
    chain = chains[0]
    if len(chains) > 1:
        chain = st.selectbox("Chain", chains, key=kept("compare.chain", chains[0]))
    selection.plot(
        delta_figure(table, chain=chain, min_dq=found.rule.min_dq, selected=result.selected),
        f"compare-delta-{chain}",
    )
    st.caption(
        "Red: significantly worse in B; blue: significantly better; grey bars: ±2 standard "
        "errors from the noise; dotted lines: the smallest |dq| that can count. Click a point "
        "to see both sides in 3D below."
    )

st.subheader("Residues sorted by dq")
shown = table[np.isfinite(table["dq"])].sort_values("dq").set_index("row_a", drop=False)
selection.table(
    shown[
        ["chain", "resseq", "icode", "resname", "kind", "q_a", "q_b", "dq", "dq_se", "p", "change"]
    ],
    key="compare-table",
    column_config={
        "q_a": st.column_config.NumberColumn("Q A", format="%.3f"),
        "q_b": st.column_config.NumberColumn("Q B", format="%.3f"),
        "dq": st.column_config.NumberColumn("dq", format="%+.3f"),
        "dq_se": st.column_config.NumberColumn("± s.e.", format="%.3f"),
        "p": st.column_config.NumberColumn("p", format="%.2g"),
        "change": st.column_config.TextColumn("significant"),
    },
)
download(
    st,
    "Download the comparison (CSV)",
    lambda: table.drop(columns=["row_a", "row_b"]).to_csv(index=False, float_format="%.6f"),
    f"{file_stem(result.scored.model)}_compare_{what}.csv",
)

if not outcome.ligands.empty:
    st.subheader("Ligands and glycans side by side")
    st.markdown(
        "As in the paper's pose comparison (Fig. 4 e–j): the Q of each molecule in each model "
        "and map against Q_peak and the 95% band of the EMDB archive at this resolution. A pose "
        "near Q_peak is supported by the map; one near or below Q_low_95% is unlikely."
    )
    st.plotly_chart(
        pose_figure(outcome.ligands, result.resolution, result.sigma),
        key="compare-poses",
        config=chart_config(),
    )
    grid = outcome.ligands.assign(
        molecule=[residue_label(r) for _, r in outcome.ligands.iterrows()]
    ).pivot_table(index="molecule", columns="result", values="q", sort=False)
    st.dataframe(grid.style.format("{:.3f}"))

st.subheader("Both sides in 3D")
comparison.focus_first_change(result, outcome)
result = state.current()
residue_picker(result, shown["row_a"].to_list(), label="Residue (sorted by dq)")
comparison.superposed_panel(result, outcome)
