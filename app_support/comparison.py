"""The Compare page's helpers: the second model or map set next to the session's result (an
upload, a file on this computer or an alternative of the opened scenario), and comparisons
computed once per content and parameters (:func:`qscore.analysis.compare.compare`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from app_support import state, teaching
from app_support.cache import Source, memo, source_from_path
from app_support.inputs import MAP_TYPES, MODEL_TYPES, local_paths_allowed
from app_support.layout import KEEP, plain, progress_bar
from app_support.state import Current
from app_support.uploads import file_input, source_of
from app_support.viewer_panel import (
    JS_FILE,
    MISSING_JS,
    colour_scale_top,
    focus_of,
    show_view,
)
from qscore.analysis.compare import (
    Comparison,
    Rule,
    atom_pairs,
    compare,
    comparison_margin,
    ligand_table,
    overlay_atoms,
    second_side,
)
from qscore.analysis.contour import MapStats
from qscore.io.maps import read_map
from qscore.io.models import read_model
from qscore.pipeline import Scored
from qscore.plotting.viewer import Overlay

MODEL_UPLOAD = "qs.compare.model_upload"
MAP_UPLOAD = "qs.compare.map_upload"
#: Widget keys of the scenario alternatives (kept across pages, preset by the gallery).
MODEL_CHOICE = KEEP + "compare.model_choice"
MAP_CHOICE = KEEP + "compare.map_choice"
#: What the residue differences compare when both a second model and a second map are set.
AGAINST = KEEP + "compare.against"
NONE = "—"
_FOCUSED = "qs.compare.focused"


@dataclass(frozen=True)
class Second:
    """The second model and/or map (either may be None) and where each came from."""

    model: Source | None = None
    dmap: Source | None = None


@dataclass(frozen=True, eq=False)
class Outcome:
    """A computed comparison, its two sides and the ligand table over every model × map."""

    comparison: Comparison
    a: Scored
    b: Scored
    ligands: pd.DataFrame
    what: str
    key: str


def _opened_scenario():
    key = teaching.chosen_key()
    return next((ex for ex in teaching.scenario_list() if ex.key == key), None) if key else None


def scenario_alternatives(result: Current) -> tuple[dict[str, Path], dict[str, Path]]:
    """Alternative models and maps (name → file) of the scenario shown, when it has some."""
    example = _opened_scenario() if result.is_example else None
    if example is None:
        return {}, {}
    return dict(example.variants), dict(getattr(example, "maps", {}) or {})


def open_comparison(key: str, model: str | None = None, dmap: str | None = None) -> None:
    """Open scenario ``key`` with its alternative ``model`` and/or ``dmap`` preset as side B
    (the gallery's "compare" button; the caller then switches to the Compare page)."""
    teaching.open_scenario(key)
    st.session_state[MODEL_CHOICE] = model or NONE
    st.session_state[MAP_CHOICE] = dmap or NONE


def _choice(place, label: str, options: dict[str, Path], key: str) -> Source | None:
    if not options:
        return None
    names = [NONE, *options]
    if st.session_state.get(key) not in names:
        st.session_state[key] = NONE
    chosen = place.selectbox(label, names, key=key)
    return source_from_path(options[chosen]) if chosen != NONE else None


def _path(place, label: str, key: str) -> tuple[Source | None, str | None]:
    text = place.text_input(label, key=key).strip()
    if not text:
        return None, None
    try:
        return source_from_path(text), None
    except OSError as exc:
        return None, f"The file {exc.filename} cannot be opened ({exc.strerror})."


def choose_second(result: Current) -> tuple[Second, str | None]:
    """Draw the second-model and second-map inputs; return them and an error sentence."""
    models, maps = scenario_alternatives(result)
    left, right = st.columns(2, gap="large")
    left.markdown("**Second model (B)**, scored in the same map")
    model_upload = file_input(
        "Second model",
        types=MODEL_TYPES,
        key=MODEL_UPLOAD,
        container=left,
        label_visibility="collapsed",
    )
    right.markdown("**Second map (B)**, with the same model")
    map_upload = file_input(
        "Second map", types=MAP_TYPES, key=MAP_UPLOAD, container=right, label_visibility="collapsed"
    )
    model = source_of(model_upload) if model_upload is not None else None
    dmap = source_of(map_upload) if map_upload is not None else None
    model = model or _choice(left, "…or one of this scenario's models", models, MODEL_CHOICE)
    dmap = dmap or _choice(right, "…or one of this scenario's maps", maps, MAP_CHOICE)
    error = None
    if local_paths_allowed():
        path_model, error_model = _path(
            left, "…or a model file on this computer", "qs.compare.model_path"
        )
        path_map, error_map = _path(right, "…or a map file on this computer", "qs.compare.map_path")
        model, dmap = model or path_model, dmap or path_map
        error = error_model or error_map
    return Second(model=model, dmap=dmap), error


def _side_b(a: Scored, second: Second, what: str, resolution: float, progress) -> Scored:
    if what == "models":
        model = read_model(second.model.payload, name=second.model.name)
        return second_side(a, model=model, progress=progress)
    margin = comparison_margin(resolution)
    dmap = read_map(second.dmap.payload, crop_to=a.model.xyz, margin=margin, name=second.dmap.name)
    return second_side(a, dmap=dmap, progress=progress)


def _ligand_results(a: Scored, second: Second, resolution: float, progress) -> dict[str, Scored]:
    """Every model × map combination available, named for the pose figure."""
    results = {"model A · map A": a}
    other_model = other_map = None
    if second.model is not None:
        other_model = _side_b(a, second, "models", resolution, progress)
        results["model B · map A"] = other_model
    if second.dmap is not None:
        other_map = _side_b(a, second, "maps", resolution, progress)
        results["model A · map B"] = other_map
    if other_model is not None and other_map is not None:
        results["model B · map B"] = second_side(other_model, dmap=other_map.dmap)
    return results


def outcome(result: Current, second: Second, what: str, rule: Rule) -> Outcome:
    """The comparison of the session's result with side B (``what``: ``models`` or ``maps``),
    computed once per content and parameters, with visible progress the first time."""
    digests = [s.digest[:20] if s else "" for s in (second.model, second.dmap)]
    key = f"compare|{result.key}|{digests}|{what}|{result.resolution}|{rule}"

    def compute() -> Outcome:
        with st.status("Comparing…", expanded=True) as status:
            progress = progress_bar("Scoring side B")
            results = _ligand_results(result.scored, second, result.resolution, progress)
            b = results["model B · map A" if what == "models" else "model A · map B"]
            comparison = compare(
                result.scored,
                b,
                resolution=result.resolution,
                shared_map=what == "models",
                rule=rule,
                progress=progress,
            )
            status.update(label="Compared", state="complete", expanded=False)
        ligands = ligand_table(results, resolution=result.resolution, sigma=result.sigma)
        return Outcome(
            comparison=comparison, a=result.scored, b=b, ligands=ligands, what=what, key=key
        )

    return memo(key, compute)


def _row_of(outcome: Outcome, row_a: int | None) -> pd.Series | None:
    table = outcome.comparison.residues
    hit = table[table["row_a"] == row_a] if row_a is not None else table.iloc[:0]
    return None if hit.empty else hit.iloc[0]


def focus_first_change(result: Current, outcome: Outcome) -> None:
    """Select the most significant change once per comparison when nothing is selected, so the
    3D view opens on it."""
    seen: set = st.session_state.setdefault(_FOCUSED, set())
    key = (result.key, outcome.key)
    if key in seen:
        return
    seen.add(key)
    changed = outcome.comparison.residues.query("significant")
    if result.selected is None and not changed.empty:
        state.select_residue(int(changed.sort_values("p")["row_a"].iloc[0]))


def superposed_panel(result: Current, outcome: Outcome, *, height: int = 480) -> None:
    """Both sides at the selected residue in one 3D view (model B, or map B's mesh, in the
    overlay colour) and the residue's numbers on both sides."""
    if not JS_FILE.is_file():
        st.error(MISSING_JS, icon=":material/view_in_ar:")
        return
    focus = focus_of(result, result.selected)
    row = _row_of(outcome, result.selected)
    view_col, info_col = st.columns([3, 2])
    with view_col:
        models = outcome.what == "models"
        atoms = None
        if models and row is not None:
            atoms = overlay_atoms(
                outcome.a.model,
                outcome.b.model,
                outcome.comparison.residues,
                int(row["row_a"]),
                int(row["row_b"]),
            )
        overlay = Overlay(
            model=outcome.b.model if models else None,
            atoms=atoms,
            q=outcome.b.result.q if models else None,
            dmap=None if models else outcome.b.dmap,
            stats=None
            if models
            else memo(f"stats-b|{outcome.key}", lambda: MapStats.of(outcome.b.dmap)),
        )
        show_view(
            result,
            focus,
            height,
            overlay=overlay,
            overlay_key=f"{outcome.key}|{result.selected}",
        )
        _, scale_text = colour_scale_top(result)
        st.caption(
            f"Model A coloured by Q (red at Q ≤ 0, white halfway, blue at {scale_text}); "
            + (
                "model B's residues that differ near the selection in magenta (hover an atom "
                "for its Q in B)."
                if models
                else "map A's mesh in green, map B's in orange at the same σ level (each map's "
                "own σ)."
            )
        )
    with info_col:
        if row is None or focus is None:
            st.caption("No residue selected: pick one above, in the plot or in the table.")
            return
        st.markdown(f"#### {plain(focus.label)}")
        a, b = st.columns(2)
        a.metric("Q, A", f"{row['q_a']:.3f}")
        b.metric("Q, B", f"{row['q_b']:.3f}", delta=f"{row['dq']:+.3f}")
        verdict = {"worse": "significantly worse in B", "better": "significantly better in B"}
        st.markdown(
            f"dq = {row['dq']:+.3f} ± {row['dq_se']:.3f} (p = {row['p']:.2g}): "
            f"**{verdict.get(row['change'], 'within the noise')}**"
        )
        st.dataframe(
            atom_pairs(outcome.a, outcome.b, int(row["row_a"]), int(row["row_b"])),
            hide_index=True,
            column_config={
                "Q A": st.column_config.NumberColumn(format="%.3f"),
                "Q B": st.column_config.NumberColumn(format="%.3f"),
                "dq": st.column_config.NumberColumn(format="%+.3f"),
            },
        )
