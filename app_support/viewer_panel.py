"""The 3D panel: residue picker, contour control, the py3Dmol view and the selected residue's
atoms. Shared by the per-residue, structure and ligand pages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from app_support import state
from app_support.cache import _Store
from app_support.layout import KEEP, kept, plain
from app_support.state import Current
from qscore.analysis.expected import expected_q
from qscore.plotting.figures import residue_label
from qscore.plotting.viewer import Focus, contour_default, viewer_html

JS_FILE = Path(__file__).resolve().parents[1] / "static" / "vendor" / "3Dmol-min.js"
MISSING_JS = (
    "The 3D view needs 3Dmol.js, which is served from this computer (never from the internet), "
    "but `static/vendor/3Dmol-min.js` is missing. Run `make assets` in the project folder and "
    "reload the page."
)


def colour_scale_top(result: Current) -> tuple[float, str]:
    """Q at which the colour scale turns fully blue: Q_peak at the resolution, or the 95th
    percentile of residue Q when there are no bands (no resolution, or sigma not 0.4/0.6)."""
    bands = expected_q(result.resolution, result.sigma) if result.resolution else None
    if bands is not None:
        return bands.q_peak, f"Q_peak at {result.resolution:g} Å"
    values = result.analysis.residues["q"].to_numpy(dtype=float)
    top = float(np.nanpercentile(values, 95)) if np.isfinite(values).any() else 1.0
    return max(top, 0.05), "95th percentile of residue Q (no expected Q-scores available)"


def focus_of(result: Current, row: int | None) -> Focus | None:
    """The atoms and Q-scores of residue ``row``, or None."""
    if row is None or row not in result.analysis.residues.index:
        return None
    residues = result.scored.model.residues
    start, stop = int(residues.at[row, "start"]), int(residues.at[row, "stop"])
    atoms = np.arange(start, stop)
    atoms = atoms[result.scored.model.heavy[atoms]]
    label = residue_label(result.analysis.residues.loc[row])
    return Focus(label=label, atoms=atoms, q=result.scored.result.q[atoms])


def residue_picker(result: Current, rows: pd.Index | None = None, label: str = "Residue") -> None:
    """A searchable residue list synced with the session selection."""
    table = result.analysis.residues
    options = list(table.index if rows is None else rows)
    key = f"qs.picker.{result.key[:16]}.{label}"
    selected = result.selected if result.selected in options else None
    st.session_state[key] = selected
    labels = {r: residue_label(table.loc[r]) for r in options}
    st.selectbox(
        label,
        options,
        format_func=lambda r: labels[r],
        key=key,
        placeholder="Pick a residue, or click a point in a plot",
        on_change=lambda: state.select_residue(st.session_state[key]),
    )


def contour_control(result: Current) -> tuple[float, bool]:
    """Map toggle and contour slider (in RMS units above the mean); returns (level, show)."""
    values = result.scored.dmap.values
    mean, rms = float(values.mean()), float(values.std()) or 1.0
    default = (contour_default(result.scored.dmap, result.scored.model) - mean) / rms
    default = float(np.clip(round(default, 1), -2.0, 15.0))
    left, right = st.columns([1, 3])
    show = left.toggle("Map mesh", key=kept("mesh", True))
    sigma_level = right.slider(
        "Contour level (σ above the mean)",
        min_value=-2.0,
        max_value=15.0,
        step=0.1,
        key=kept(f"contour.{result.key[:16]}", default),
        disabled=not show,
        help="Map value of the mesh, in standard deviations of the map around the model.",
    )
    level = mean + sigma_level * rms
    right.caption(f"= {level:.4g} in map units")
    return level, show


@st.cache_resource(show_spinner=False)
def _html_store() -> _Store:
    return _Store(32)


def _viewer_html(
    result: Current, focus: Focus | None, contour: float, show: bool, height: int
) -> str:
    q_top, _ = colour_scale_top(result)
    key = f"{result.key}|{focus.label if focus else ''}|{contour:.6g}|{show}|{q_top:.6g}|{height}"
    store = _html_store()
    html = store.get(key)
    if html is None:
        html = viewer_html(
            result.scored.model,
            result.analysis.residues["q"].to_numpy(dtype=float),
            result.scored.result.q,
            q_top,
            focus=focus,
            dmap=result.scored.dmap,
            contour=contour,
            show_map=show,
            height=height,
        )
        store.put(key, html)
    return html


def atom_table(result: Current, focus: Focus) -> pd.DataFrame:
    """Per-atom Q of the focus residue."""
    model = result.scored.model
    return pd.DataFrame(
        {
            "atom": model.name[focus.atoms],
            "element": model.element[focus.atoms],
            "subset": model.subset[focus.atoms],
            "Q": focus.q,
        }
    )


def details(result: Current, focus: Focus | None) -> None:
    """The selected residue: label, residue and subset Q, expected value and per-atom Q."""
    if focus is None:
        st.caption("No residue selected: the view shows the whole model.")
        return
    row = result.analysis.residues.loc[result.selected]
    bands = expected_q(result.resolution, result.sigma) if result.resolution else None
    st.markdown(f"#### {plain(focus.label)}")
    st.metric("Residue Q", f"{row['q']:.3f}", help="Mean Q over the residue's heavy atoms")
    if bands is not None:
        verdict = (
            "below Q_low_95%"
            if row["q"] < bands.q_low95
            else "above Q_high_95%"
            if row["q"] > bands.q_high95
            else "within the 95% band"
        )
        colour = "red" if row["q"] < bands.q_low95 else "blue"
        st.markdown(f"Expected (Q_peak) **{bands.q_peak:.3f}** — :{colour}[{verdict}]")
    subsets = {
        name: row[f"q_{name}"]
        for name in ("backbone", "sidechain", "phosphate", "sugar", "base")
        if np.isfinite(row[f"q_{name}"])
    }
    if subsets:
        st.caption(" · ".join(f"{k} {v:.3f}" for k, v in subsets.items()))
    st.dataframe(
        atom_table(result, focus),
        hide_index=True,
        column_config={
            "Q": st.column_config.ProgressColumn("Q", min_value=0.0, max_value=1.0, format="%.3f")
        },
        height=min(38 + 35 * len(focus.atoms), 320),
    )


def viewer_panel(result: Current, *, height: int = 480, controls: bool = True) -> None:
    """The 3D view of the current selection with its details beside it."""
    if not JS_FILE.is_file():
        st.error(MISSING_JS, icon=":material/view_in_ar:")
        return
    focus = focus_of(result, result.selected)
    view_col, info_col = st.columns([3, 2])
    with view_col:
        if controls:
            contour, show = contour_control(result)
        else:
            contour, show = contour_control_defaults(result)
        st.iframe(_viewer_html(result, focus, contour, show, height), height=height + 60)
        _, scale_text = colour_scale_top(result)
        st.caption(f"Colour: red at Q ≤ 0, blue at {scale_text}. Drag to rotate, scroll to zoom.")
    with info_col:
        details(result, focus)


def contour_control_defaults(result: Current) -> tuple[float, bool]:
    """The contour level and mesh switch without drawing controls (last values, else defaults)."""
    values = result.scored.dmap.values
    mean, rms = float(values.mean()), float(values.std()) or 1.0
    key = f"{KEEP}contour.{result.key[:16]}"
    if key in st.session_state:
        level = mean + float(st.session_state[key]) * rms
    else:
        level = contour_default(result.scored.dmap, result.scored.model)
    return level, bool(st.session_state.get(f"{KEEP}mesh", True))
