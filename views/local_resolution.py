"""Local resolution: each residue judged at its own local resolution as well as at the reported
one, to tell a possible misfit from a poorly resolved region."""

from __future__ import annotations

import streamlit as st

from app_support import selection
from app_support.layout import download, file_stem, kept, plain, require_result
from app_support.local_resolution import inputs, local_result
from app_support.report import report_button
from app_support.viewer_panel import (
    JS_FILE,
    MISSING_JS,
    colour_scale_top,
    contour_for,
    focus_of,
    map_stats,
)
from qscore.analysis.local_resolution import READINGS
from qscore.errors import QscoreError
from qscore.plotting.local_resolution import (
    local_residue_figure,
    reading_colours,
    reading_legend_html,
)
from qscore.plotting.viewer import build_scene, viewer_html

result = require_result()
st.title("Local resolution")
st.markdown(
    "The band of commonly observed Q-scores depends on resolution, and maps are rarely equally "
    "resolved everywhere. Here every residue is also compared with the band at **its own local "
    "resolution**: below that band is a **possible misfit**; below the band at the reported "
    "resolution but typical locally is a **poorly resolved region**."
)
chosen = inputs(result)
if not chosen.ready:
    st.info(
        "Upload a local-resolution map (in Å) or the two half maps of this reconstruction; "
        "from half maps the local resolution is estimated with a local FSC.",
        icon=":material/upload:",
    )
    st.stop()
try:
    with st.spinner("Local resolution at the model's atoms…"):
        local = local_result(result, chosen)
except QscoreError as exc:
    st.error(plain(exc), icon=":material/error:")
    st.stop()
for note in local.notes:
    st.caption(plain(note))

summary = local.summary
readings = summary["local_reading_counts"]
a, b, c, d = st.columns(4)
median = summary["median_local_resolution"]
a.metric("Median local resolution", f"{median:.2f} Å" if median is not None else "n/a")
b.metric("Possible misfit", readings["possible misfit"], help=READINGS["possible misfit"])
c.metric(
    "Poorly resolved region",
    readings["poorly resolved region"],
    help=READINGS["poorly resolved region"],
)
d.metric("Above the local band", readings["above local band"], help=READINGS["above local band"])

table = local.table
polymer = table[table["kind"].isin(["protein", "nucleic"])]
if not polymer.empty:
    chains = list(dict.fromkeys(polymer["chain"]))
    chain = st.selectbox("Chain", chains, key=kept("localres.chain", chains[0]))
    shown = polymer[polymer["chain"] == chain]
    selection.plot(
        local_residue_figure(
            shown,
            result.resolution,
            result.sigma,
            title=f"Chain {chain}: residue Q against the local and the reported-resolution bands",
            selected=result.selected,
        ),
        f"localres-{chain}",
    )
    st.caption(
        "Shaded: the 95% band at each residue's local resolution; dotted lines: the band at the "
        "reported resolution. Lower panel: local resolution and the resolution at which each "
        "residue's Q would be Q_peak. Click a point to select the residue."
    )

st.subheader("3D view coloured by local reading")
if not JS_FILE.is_file():
    st.error(MISSING_JS, icon=":material/view_in_ar:")
else:
    focus = focus_of(result, result.selected)
    q_top, _ = colour_scale_top(result)
    scene = build_scene(
        result.scored.model,
        result.scored.result.q,
        table["q"].to_numpy(dtype=float),
        q_top,
        focus=focus,
        dmap=result.scored.dmap,
        contour=contour_for(result, focus) if focus is not None else None,
        stats=map_stats(result),
        residue_colours=reading_colours(table["local_reading"]),
    )
    st.iframe(viewer_html(scene, height=460, legend=reading_legend_html()), height=570)
    st.caption(
        "Cartoon coloured by local reading; the selected residue's atoms by their Q "
        f"(blue at {q_top:.2f})."
    )

st.subheader("Residues")
choices = [r for r in READINGS if readings.get(r)]
picked = st.multiselect(
    "Local reading",
    list(READINGS),
    default=[r for r in ("possible misfit", "poorly resolved region") if r in choices],
    key="qs.localres.readings",
    placeholder="All",
)
verdicts = st.multiselect(
    "Local verdict",
    ["below", "typical", "above"],
    key="qs.localres.verdicts",
    placeholder="All",
)
rows = table
if picked:
    rows = rows[rows["local_reading"].isin(picked)]
if verdicts:
    rows = rows[rows["local_verdict"].isin(verdicts)]
columns = ["chain", "resseq", "resname", "q", "local_resolution", "q_peak_local", "q_low95_local",
           "q_high95_local", "local_verdict", "q_resolution", "local_reading"]  # fmt: skip
number = {c: st.column_config.NumberColumn(format="%.3f") for c in columns if c.startswith("q")}
number["local_resolution"] = st.column_config.NumberColumn("local resolution (Å)", format="%.2f")
number["q_resolution"] = st.column_config.NumberColumn("Q-implied resolution (Å)", format="%.2f")
st.caption(f"{len(rows):,} of {len(table):,} residues. Select a row to show it in 3D above.")
selection.table(rows[columns], "localres-table", number)
download(
    st,
    "Per-residue CSV with local columns",
    lambda: table.to_csv(index=False, float_format="%.6f"),
    f"{file_stem(result.scored.model)}_residues_local.csv",
)

st.subheader("Report")
st.caption("The report with this page's local-resolution section.")
report_button(result, local=(local, chosen))
