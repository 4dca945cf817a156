"""Archive statistics: the paper's Figs 1 and 2, fit quality, residuals and the window analysis."""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pandas as pd
import streamlit as st

from app_support import state, workshop
from app_support.layout import chart_config, kept, plain
from app_support.uploads import file_input
from qscore.analysis import archive
from qscore.analysis.context import archive_note
from qscore.analysis.reference import ReferenceTable, load_reference
from qscore.errors import QscoreError
from qscore.plotting.figures import (
    archive_figure,
    cross_validation_figure,
    residual_figure,
    window_figure,
)


@st.cache_data(show_spinner="Fitting the archive…")
def statistics(key: str, resolution_range: tuple[float, float], _table: ReferenceTable) -> dict:
    """Fits, cross-validation, offsets and window statistics of the entries of a table within
    ``resolution_range`` (cached by ``key`` and the range)."""
    selected = archive.select_resolution(_table, resolution_range)
    fits = archive.polynomial_fits(selected)
    cubic = np.asarray(fits.loc[fits["degree"] == 3, "coefficients"].iloc[0])
    cv = {d: archive.cross_validate(selected, d) for d in archive.DEGREES}
    return {
        "selected": selected,
        "fits": fits,
        "cubic": cubic,
        "equation_1": archive.equation_1_comparison(selected, cubic),
        "cv": {d: c.per_fold for d, c in cv.items()},
        "cv_mean": {d: (c.r2, c.rmse, c.mae) for d, c in cv.items()},
        "residuals": archive.residuals(selected, cubic),
        "offsets": archive.offsets(selected, cubic),
        "windows": archive.window_statistics(selected, resolution_range=resolution_range),
    }


st.title("Archive statistics")
st.markdown(
    "How Q-scores of deposited map–model pairs depend on resolution, and how the expected "
    "values (Q_peak and the 95% band) were derived from them (paper §2–3 and §7)."
)
upload = file_input(
    "Reference table (CSV with columns id, resolution, qscore)",
    types=["csv"],
    key="qs.reference_upload",
    help="Leave empty to use the default EMDB table. The table is also used for Q_relative on "
    "the overview page.",
)
if upload is not None:
    try:
        state.set_reference(load_reference(upload.path, name=upload.name))
    except QscoreError as exc:
        st.error(plain(exc), icon=":material/error:")
elif st.session_state.get(state.REFERENCE) is not None:
    state.set_reference(None)
table = state.reference()
if table is None:
    st.warning("No reference table is available: upload one above.")
    st.stop()
key = hashlib.sha256(
    pd.util.hash_pandas_object(table.data, index=False).to_numpy().tobytes()
).hexdigest()
low, high = archive.RESOLUTION_RANGE
top = max(60.0, math.ceil(float(table.data["resolution"].max())))
chosen = st.slider(
    "Resolution range of the entries fitted (Å)",
    min_value=0.0,
    max_value=top,
    step=0.1,
    key=kept("archive.resolution_range", (low, high)),
    help=f"The paper fits the maps of {low:g}–{high:g} Å, the range its equations 1–4 are valid "
    "on; that is the default. Widen it to the whole table to see how the fit changes.",
)
selection = (float(chosen[0]), float(chosen[1]))
try:
    stats = statistics(key, selection, table)
except QscoreError as exc:
    st.error(plain(exc), icon=":material/error:")
    st.stop()
selected = stats["selected"]
st.caption(
    f"Reference: {plain(table.describe())}. Fitted: "
    f"{archive.describe_selection(selected.entries, table.entries, selection)}."
)

st.subheader("Q-score against resolution (Fig. 1)")
result = state.current()
st.plotly_chart(
    archive_figure(selected.data, fits=stats["fits"], show_bands=False, equation_1=True),
    key="archive-fits",
    config=chart_config(),
)
st.markdown("**Equation 1 of the paper beside the cubic refitted on these entries**")
st.dataframe(
    stats["equation_1"],
    hide_index=True,
    column_config={
        "curve": "curve",
        **{
            c: st.column_config.NumberColumn(label, format="%.4f")
            for c, label in (("a3", "a3 (d³)"), ("a2", "a2 (d²)"), ("a1", "a1 (d)"), ("a0", "a0"))
        },
        "r2": st.column_config.NumberColumn("R² on these entries", format="%.4f"),
    },
)
st.caption(
    "Q_mean = a3·d³ + a2·d² + a1·d + a0 (d: resolution in Å). Equation 1 was fitted on the "
    "paper's 10,188 entries of 1.15–10 Å; both curves are drawn above (equation 1 dotted)."
)
fits = stats["fits"].assign(
    cv_r2=[stats["cv_mean"][d][0] for d in stats["fits"]["degree"]],
    cv_rmse=[stats["cv_mean"][d][1] for d in stats["fits"]["degree"]],
    coefficients=[
        ", ".join(f"{c:+.4f}" for c in coeffs) for coeffs in stats["fits"]["coefficients"]
    ],
)
st.dataframe(
    fits[["degree", "r2", "rmse", "cv_r2", "cv_rmse", "coefficients"]],
    hide_index=True,
    column_config={
        "r2": st.column_config.NumberColumn("R²", format="%.4f"),
        "rmse": st.column_config.NumberColumn("RMSE", format="%.4f"),
        "cv_r2": st.column_config.NumberColumn("R² (10-fold CV)", format="%.4f"),
        "cv_rmse": st.column_config.NumberColumn("RMSE (10-fold CV)", format="%.4f"),
        "coefficients": st.column_config.TextColumn("coefficients (highest power first)"),
    },
)
st.caption(
    "The paper reports R² = 0.5959, 0.6999, 0.7039 and 0.7061 for degrees 1–4 on 10,189 entries "
    "and chose degree 3: better than degrees 1–2, and degree 4 adds almost nothing."
)

st.subheader("Q_peak and the 95% band (Fig. 2)")
show_model = result is not None and result.resolution is not None and not workshop.withheld()
if show_model and archive_note(result.sigma):
    st.caption(f"The current model is not drawn: {archive_note(result.sigma)}")
    show_model = False
st.plotly_chart(
    archive_figure(
        selected.data,
        model_q=result.scored.result.model_q if show_model else None,
        resolution=result.resolution if show_model else None,
        label="Current model",
    ),
    key="archive-bands",
    config=chart_config(),
)
off = stats["offsets"]
o1, o2, o3 = st.columns(3)
o1.metric("Peak offset", f"{off.peak:+.3f}", help="Paper eq. 2: +0.024")
o2.metric("Low 95% offset", f"{off.low95:+.3f}", help="Paper eq. 3: −0.126")
o3.metric("High 95% offset", f"{off.high95:+.3f}", help="Paper eq. 4: +0.109")
st.caption(
    "Offsets of this table's cubic fit, found as in the paper: the fullest 0.01-wide residual "
    "bin for Q_peak; means over rolling 1 Å windows of the 5th and 95th percentiles for the band. "
    "The curves drawn are the paper's equations 1–4."
)

st.subheader("Cross-validation")
st.plotly_chart(cross_validation_figure(stats["cv"]), key="archive-cv", config=chart_config())
st.caption("Each fold holds out 10% of the entries; R² is measured on the held-out part.")

st.subheader("Residuals of the cubic fit")
st.plotly_chart(
    residual_figure(
        selected.data["resolution"].to_numpy(),
        stats["residuals"],
        offsets=[("peak", off.peak), ("low 95%", off.low95), ("high 95%", off.high95)],
    ),
    key="archive-residuals",
    config=chart_config(),
)

st.subheader("Resolution window for Q_relative_resolution (Table 1, Fig. S5)")
st.plotly_chart(window_figure(stats["windows"]), key="archive-windows", config=chart_config())
st.dataframe(
    stats["windows"],
    hide_index=True,
    column_config={
        "window": st.column_config.NumberColumn("w (Å)", format="%.1f"),
        "entries_mean": st.column_config.NumberColumn("mean entries", format="%.0f"),
        "entries_min": "min entries",
        "entries_max": "max entries",
        "r_below_split": st.column_config.NumberColumn("r (< 5 Å)", format="%.3f"),
        "r_from_split": st.column_config.NumberColumn("r (≥ 5 Å)", format="%.3f"),
    },
)
st.caption(
    "Wider windows hold more entries but make Q_relative_resolution correlate with resolution; "
    "the paper recommends w ≤ 0.5 Å, where the correlation stays weak."
)
