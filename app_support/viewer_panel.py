"""The 3D panel shared by the per-residue, structure, ligand and table pages: the residue view,
the outlier walk, the selected residue's details and the ChimeraX hand-off.

The panel is a fragment: its own widgets rerun it alone. The view's controls (contour, mesh,
neighbours, waters, ions) live in the browser, so moving them sends nothing to the server. The
viewer page is the same for every residue of a result (a few kilobytes; the browser keeps it and
its WebGL context); a hidden marker element names the current residue's scene, a JSON file on the
static file server (``static/scenes/``, content-addressed, the oldest pruned), which the viewer
fetches and draws in place. Walking to another residue reruns the whole app, so the plot and the
table follow.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from app_support import state
from app_support.cache import memo
from app_support.layout import kept, plain
from app_support.state import Current
from qscore.analysis.contour import (
    ContourChoice,
    MapStats,
    model_contour,
    residue_contour,
    well_scored_q,
)
from qscore.analysis.expected import expected_q
from qscore.analysis.outliers import ORDERS, outlier_rows, step
from qscore.errors import QscoreError
from qscore.io.chimerax import cxc_text, defattr_text, residue_spec
from qscore.plotting.figures import residue_label
from qscore.plotting.viewer import (
    Focus,
    Overlay,
    build_scene,
    scale_top,
    scene_json,
    viewer_html,
    viewer_script,
)

ROOT = Path(__file__).resolve().parents[1]
JS_FILE = ROOT / "static" / "vendor" / "3Dmol-min.js"
SCENES_DIR = ROOT / "static" / "scenes"
SCENES_URL = "/app/static/scenes"
#: Scene files kept on disk (the oldest are removed beyond this).
MAX_SCENES = 400
MISSING_JS = (
    "The 3D view needs 3Dmol.js, which is served from this computer (never from the internet), "
    "but `static/vendor/3Dmol-min.js` is missing. Run `make assets` in the project folder and "
    "reload the page."
)
NEIGHBOUR_SAMPLE = 8.0


def colour_scale_top(result: Current) -> tuple[float, str]:
    """Q at which the colour scale turns fully blue, and how it was chosen."""
    return scale_top(
        result.analysis.residues["q"].to_numpy(dtype=float), result.resolution, result.sigma
    )


def good_q(result: Current) -> float:
    """Q from which an atom counts as well scored (Q_low_95%, else the median atom Q)."""
    return well_scored_q(result.scored.result.q, result.resolution, result.sigma)


def map_stats(result: Current) -> MapStats:
    """Mean and σ of the (cropped) map, once per result."""
    return memo(f"stats|{result.key}", lambda: MapStats.of(result.scored.dmap))


def focus_of(result: Current, row: int | None) -> Focus | None:
    """The atoms and Q-scores of residue ``row``, or None."""
    if row is None or row not in result.analysis.residues.index:
        return None
    atoms = result.scored.model.residue_atoms(row)
    label = residue_label(result.analysis.residues.loc[row])
    return Focus(label=label, atoms=atoms, q=result.scored.result.q[atoms])


def contour_for(result: Current, focus: Focus | None) -> ContourChoice:
    """Default contour for the focus residue (or for the whole model, from a sample of atoms)."""
    model, q = result.scored.model, result.scored.result.q

    def compute() -> ContourChoice:
        if focus is not None and focus.atoms.size:
            centre = model.xyz[focus.atoms]
            lo, hi = centre.min(axis=0) - NEIGHBOUR_SAMPLE, centre.max(axis=0) + NEIGHBOUR_SAMPLE
            near = np.flatnonzero(np.all((model.xyz >= lo) & (model.xyz <= hi), axis=1))
            near = near[model.heavy[near]]
            return residue_contour(
                result.scored.dmap,
                centre,
                focus.q,
                q_good=good_q(result),
                neighbour_xyz=model.xyz[near],
                neighbour_q=q[near],
                stats=map_stats(result),
            )
        heavy = np.flatnonzero(model.heavy)
        return model_contour(
            result.scored.dmap,
            model.xyz[heavy],
            q[heavy],
            q_good=good_q(result),
            stats=map_stats(result),
        )

    return memo(f"contour|{result.key}|{focus.label if focus else ''}", compute)


def _publish(text: str, suffix: str = ".json") -> str | None:
    """Write ``text`` as a content-addressed file under ``static/scenes``; its URL, or None when
    the folder cannot be written (the page then embeds everything)."""
    digest = hashlib.sha256(text.encode()).hexdigest()[:40]
    path = SCENES_DIR / f"{digest}{suffix}"
    try:
        if not path.exists():
            SCENES_DIR.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("w", dir=SCENES_DIR, delete=False) as handle:
                handle.write(text)
            os.replace(handle.name, path)
            _prune()
        else:
            path.touch()
    except OSError:
        return None
    return f"{SCENES_URL}/{path.name}"


def _prune() -> None:
    files = sorted(SCENES_DIR.glob("*.*"), key=lambda p: p.stat().st_mtime)
    for old in files[: max(0, len(files) - MAX_SCENES)]:
        old.unlink(missing_ok=True)


#: The element of the page whose ``data-qs-scene`` the viewer follows.
FOLLOW = "[data-qs-scene]"


def _scene_url(
    result: Current, focus: Focus | None, overlay: Overlay | None = None, overlay_key: str = ""
) -> str | dict:
    """The URL of the focus's scene (built and published once per result, residue, scale and
    overlay, which ``overlay_key`` names), or the scene itself when the static folder cannot be
    written."""
    q_top, _ = colour_scale_top(result)
    key = f"scene|{result.key}|{focus.label if focus else ''}|{q_top:.6g}|{overlay_key}"

    def compute() -> str | dict:
        scene = build_scene(
            result.scored.model,
            result.scored.result.q,
            result.analysis.residues["q"].to_numpy(dtype=float),
            q_top,
            focus=focus,
            dmap=result.scored.dmap,
            contour=contour_for(result, focus) if focus is not None else None,
            stats=map_stats(result),
            overlay=overlay,
        )
        scene["viewKey"] = hashlib.sha256(key.encode()).hexdigest()[:16]
        return _publish(scene_json(scene)) or scene

    return memo(key, compute)


def show_view(
    result: Current,
    focus: Focus | None,
    height: int,
    *,
    overlay: Overlay | None = None,
    overlay_key: str = "",
) -> None:
    """The viewer page (the same for every residue of a result, so the browser keeps it and its
    WebGL context) and a tiny marker naming the scene it loads; ``overlay`` (named by
    ``overlay_key``) draws a second model and/or map over the result's."""
    q_top, _ = colour_scale_top(result)
    scene = _scene_url(result, focus, overlay, overlay_key)
    if isinstance(scene, dict):
        st.iframe(viewer_html(scene, height=height), height=height + 110)
        return
    script = memo("viewer-script", lambda: _publish(viewer_script(), ".js"))
    page = viewer_html(follow=FOLLOW, q_peak=q_top, height=height, script_url=script)
    st.iframe(page, height=height + 110)
    st.html(f'<div data-qs-scene="{scene}" style="display:none"></div>')


def residue_picker(result: Current, rows: pd.Index | None = None, label: str = "Residue") -> None:
    """A searchable residue list synced with the session selection."""
    table = result.analysis.residues
    options = list(table.index if rows is None else rows)
    key = f"qs.picker.{result.key[:16]}.{label}"
    selected = result.selected if result.selected in options else None
    st.session_state[key] = selected
    every = memo(f"labels|{result.key}", lambda: residue_labels(table))
    labels = every[options].to_dict()
    st.selectbox(
        label,
        options,
        format_func=lambda r: labels[r],
        key=key,
        placeholder="Pick a residue, or click a point in a plot",
        on_change=lambda: state.select_residue(st.session_state[key]),
    )


def residue_labels(table: pd.DataFrame) -> pd.Series:
    """:func:`~qscore.plotting.figures.residue_label` of every row, vectorised."""
    number = table["resseq"].astype(int).astype(str) + table["icode"].fillna("").astype(str)
    return table["chain"].astype(str) + " " + number + " " + table["resname"].astype(str)


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


def walk(result: Current) -> None:
    """Previous / next outlier buttons (keys P and N) and the walking order."""
    left, middle, right = st.columns([2, 2, 3], vertical_alignment="bottom")
    order = right.radio(
        "Walk outliers by", ORDERS, horizontal=True, key=kept("walk-order", ORDERS[0])
    )
    with right:
        include_water = st.checkbox(
            "Include waters",
            key=kept("walk-water", False),
            help="Waters are not judged against the model's band unless asked.",
        )
    rows = outlier_rows(
        result.analysis.residues,
        result.resolution,
        result.sigma,
        order=order,
        include_water=include_water,
    )
    if not rows:
        message = (
            "No residue lies below Q_low_95%."
            if result.resolution
            else "Enter the resolution to walk through the residues below the expected band."
        )
        left.caption(message)
        return
    position = rows.index(result.selected) + 1 if result.selected in rows else 0
    target = None
    if left.button("◀ Previous outlier", shortcut="P", width="stretch"):
        target = step(rows, result.selected, -1)
    if middle.button("Next outlier ▶", shortcut="N", width="stretch"):
        target = step(rows, result.selected, +1)
    st.caption(f"Outlier {position} of {len(rows)}" if position else f"{len(rows)} outliers")
    if target is not None:
        state.select_residue(target)
        st.rerun()


def chimerax_files(result: Current, focus: Focus | None) -> tuple[str, str, str, str]:
    """The ``.cxc`` and ``.defattr`` texts and file names for the current view."""
    model = result.scored.model
    stem = (model.source or "model").rsplit("/", 1)[-1].split(".")[0] or "model"
    defattr_name = f"{stem}_qscore.defattr"
    q_top, _ = colour_scale_top(result)
    defattr = memo(
        f"defattr|{result.key}",
        lambda: defattr_text(
            model,
            result.scored.result.q,
            result.analysis.residues["q"].to_numpy(dtype=float),
            source=f"{model.source} in {result.scored.dmap.source}, sigma {result.sigma:g}",
        ),
    )
    spec = None
    if focus is not None:
        row = result.analysis.residues.loc[result.selected]
        spec = residue_spec(row["chain"], row["resseq"], row["icode"])
    contour = contour_for(result, focus)
    script = cxc_text(
        model.source or "model.cif",
        result.scored.dmap.source or "map.mrc",
        defattr_name,
        q_top,
        focus=spec,
        level=contour.level,
        notes=(
            "Save this script, the .defattr file, the map and the model in one folder.",
            f"Colours: red at Q <= 0, white at {q_top / 2:.3f}, blue at {q_top:.3f}.",
            f"Contour {contour.level:.4g} (map units) = {contour.sigma_level:.2f} sigma "
            "of the map around the model.",
        ),
    )
    name = f"{stem}_{focus.label.replace(' ', '_')}.cxc" if focus else f"{stem}_qscore.cxc"
    return script, name, defattr, defattr_name


def chimerax_downloads(result: Current, focus: Focus | None) -> None:
    """Download buttons for the ChimeraX command script and attribute file."""
    try:
        script, name, defattr, defattr_name = chimerax_files(result, focus)
    except QscoreError as exc:
        st.caption(plain(exc))
        return
    st.caption("Open in ChimeraX: save both files next to your map and model, then open the .cxc.")
    a, b = st.columns(2)
    # The texts are handed over on click (a callable): a file registered on every run of the
    # panel would be replaced by the next run while the browser still checks the old one.
    a.download_button(
        "ChimeraX script (.cxc)",
        lambda: script,
        file_name=name,
        mime="text/plain",
        icon=":material/download:",
        on_click="ignore",
        key="qs-cxc",
    )
    b.download_button(
        "Q attribute file (.defattr)",
        lambda: defattr,
        file_name=defattr_name,
        mime="text/plain",
        icon=":material/download:",
        on_click="ignore",
        key="qs-defattr",
    )


@st.fragment
def _panel(height: int, walk_controls: bool) -> None:
    result = state.current()
    if result is None:
        return
    focus = focus_of(result, result.selected)
    if walk_controls:
        walk(result)
    view_col, info_col = st.columns([7, 3])
    with view_col:
        show_view(result, focus, height)
        _, scale_text = colour_scale_top(result)
        st.caption(
            f"Colour: red at Q ≤ 0, white halfway, blue at {scale_text}. The contour starts "
            "where most well-scored atoms of the residue sit inside the mesh; 'auto' returns to it."
        )
    with info_col:
        details(result, focus)
        chimerax_downloads(result, focus)


def viewer_panel(result: Current, *, height: int = 620, walk_controls: bool = True) -> None:
    """The 3D view of the current selection with the outlier walk and its details beside it."""
    if not JS_FILE.is_file():
        st.error(MISSING_JS, icon=":material/view_in_ar:")
        return
    _panel(height, walk_controls)
