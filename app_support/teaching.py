"""Streamlit helpers of the teaching pages: scenarios, their cached scores, the scenario switch,
the teaching switches (workshop mode, predict first, large fonts) and the large-font style.

Switching the dashboard's dataset to a scenario goes through :func:`chosen_example`: the sidebar
(``app_support.inputs.sidebar``) asks it for the example to show instead of the built-in one,
so every page then reads the scenario through the usual session-state contract. When the
visitor's own files are shown, opening a scenario first asks (:func:`request_scenario`,
:func:`confirm_switch`); once they agree, their uploads are set aside
(:func:`uploads_set_aside`) until they go back to them or upload something else.

Workshop mode and predict-first live in :mod:`app_support.workshop`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import streamlit as st

from app_support import state
from app_support.example import ExampleInfo, info_from
from qscore.errors import QscoreError
from qscore.pipeline import Scored, load_and_score
from qscore.plotting.teaching import PREFERRED_ATOMS, showcase_residue
from qscore.synthetic.lessons.facts import group_where

logger = logging.getLogger(__name__)

#: Session key of the scenario opened in this session (None: the built-in example).
SCENARIO = "qs.teach.scenario"
#: Widget keys of the teaching switches (the ``qs.keep.`` prefix keeps them across pages).
WORKSHOP = "qs.keep.teach.workshop"
PREDICT = "qs.keep.teach.predict"
LARGE = "qs.keep.teach.large"
#: A scenario waiting for the visitor to agree to set their files aside.
PENDING = "qs.teach.pending"
#: The uploads set aside for a scenario: "pending" until the sidebar records their identities.
SET_ASIDE = "qs.teach.set_aside"
FONT_SIZE = 14
LARGE_FONT_SIZE = 19

_MODEL_TEXT = {
    "near_peak": "The model's Q should lie near Q_peak for its resolution.",
    "within": "The model's Q should lie within the 95% band for its resolution.",
    "above_high95": "The model's Q should lie above Q_high_95% for its resolution.",
    "below_low95": "The model's Q should lie below Q_low_95% for its resolution.",
}
#: Large fonts for a projector: text, metric values, equations, tabs and buttons grow; the
#: tab strip wraps instead of scrolling; equations scroll rather than being cut off.
_LARGE_CSS = """
<style>
html { font-size: 19px; }
[data-testid="stMainBlockContainer"] {
  padding-top: 3.2rem; padding-left: 1.6rem; padding-right: 1.6rem;
}
h1 { font-size: 2rem !important; padding-top: 0.6rem !important; }
[data-testid="stRadio"] [role="radiogroup"] { column-gap: 1.1rem; row-gap: 0.1rem; }
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li {
  font-size: 1.2rem; line-height: 1.5;
}
[data-testid="stCaptionContainer"] p { font-size: 1.05rem; }
[data-testid="stMetricValue"], [data-testid="stMetricValue"] * {
  font-size: 2.5rem !important; line-height: 1.15 !important;
}
[data-testid="stMetricLabel"] p { font-size: 1.1rem !important; }
[data-testid="stMetricDelta"], [data-testid="stMetricDelta"] * {
  font-size: 1rem !important; white-space: normal !important; overflow: visible !important;
  text-overflow: clip !important; height: auto !important;
}
[data-testid="stSidebar"] [data-testid="stMarkdownContainer"] p { font-size: 1.05rem; }
.stButton button p, [data-testid="stBaseButton-primary"] p { font-size: 1.1rem; }
.katex { font-size: 1.3em; }
.katex-display { overflow-x: auto; overflow-y: hidden; padding: 0.15em 0; }
[data-testid="stTabs"] [role="tablist"] { flex-wrap: wrap; row-gap: 0.2rem; }
[data-testid="stTabs"] [role="tab"] p { font-size: 1.1rem !important; }
[data-testid="stTabs"] button[aria-label="Scroll left"],
[data-testid="stTabs"] button[aria-label="Scroll right"] { display: none; }
</style>
"""
#: Workshop mode: the scenario bar starts right under the toolbar.
_WORKSHOP_CSS = """
<style>
[data-testid="stMainBlockContainer"] { padding-top: 3.2rem; }
</style>
"""


@st.cache_resource(show_spinner="Preparing the teaching scenarios…")
def _load_scenarios() -> tuple[list, str | None]:
    try:
        from qscore.synthetic.examples import scenarios
    except ImportError:
        return [], "The scenario generator (qscore.synthetic.examples) is not installed."
    try:
        return list(scenarios()), None
    except Exception as exc:  # a broken generator must not take the teaching pages down
        logger.exception("The teaching scenarios could not be generated.")
        return [], f"The teaching scenarios could not be generated ({exc.__class__.__name__})."


def scenario_list() -> list:
    """The teaching scenarios (``qscore.synthetic.examples.Example``) in workshop order; [] if
    unavailable."""
    return _load_scenarios()[0]


def scenario_problem() -> str | None:
    """Why there are no scenarios, as a sentence, or None."""
    return _load_scenarios()[1]


def scenario(key: str | None):
    """The scenario with this key, or None."""
    return next((ex for ex in scenario_list() if ex.key == key), None) if key else None


def _stamp(path: str | Path) -> str:
    """Path, size and modification time: changes when the file is regenerated."""
    stat = Path(path).stat()
    return f"{Path(path).resolve()}|{stat.st_size}|{stat.st_mtime_ns}"


@st.cache_resource(show_spinner=False, max_entries=48)
def _scored(map_stamp: str, model_stamp: str, sigma: float) -> Scored:
    map_path, model_path = map_stamp.split("|")[0], model_stamp.split("|")[0]
    return load_and_score(map_path, model_path, sigma=sigma)


def scored(map_path: str | Path, model_path: str | Path, sigma: float) -> Scored:
    """Model scored in the map, cached per process by file path, size, mtime and sigma."""
    return _scored(_stamp(map_path), _stamp(model_path), float(sigma))


@st.cache_resource(show_spinner=False, max_entries=8)
def _local_atoms(map_stamp: str, model_stamp: str, local_stamp: str, sigma: float) -> np.ndarray:
    from qscore.pipeline import load_local_resolution

    model = _scored(map_stamp, model_stamp, sigma).model
    return load_local_resolution(model, local_map=local_stamp.split("|")[0]).atoms


def local_atoms(example) -> np.ndarray | None:
    """The local resolution (Å) at every atom of a scenario's model, when the scenario has a
    local-resolution map (cached per process like :func:`scored`)."""
    path = getattr(example, "local_resolution_path", None)
    if path is None:
        return None
    return _local_atoms(
        _stamp(example.map_path), _stamp(example.model_path), _stamp(path), float(example.sigma)
    )


def score_example(example) -> Scored | None:
    """The scored scenario, or None (with the error shown) when its files cannot be scored."""
    try:
        return scored(example.map_path, example.model_path, example.sigma)
    except (QscoreError, OSError) as exc:
        st.error(f"{example.title}: {exc}", icon=":material/error:")
        return None


def expectation_text(expectation: object) -> str:
    """What a Q-score analysis of the scenario finds, in sentences (an answer: show it only
    after the reveal)."""
    if not isinstance(expectation, dict):
        return str(expectation or "")
    parts = [_MODEL_TEXT.get(str(expectation.get("model")), "")]
    groups = expectation.get("below_low95") or []
    if groups:
        names = "; ".join(_group_text(g) for g in groups)
        parts.append(f"Below Q_low_95%: {names}.")
    higher = expectation.get("higher")
    if isinstance(higher, dict):
        parts.append(
            f"The '{higher.get('better')}' pose should score higher than the "
            f"'{higher.get('worse')}' one."
        )
    return " ".join(p for p in parts if p)


def _group_text(group: dict) -> str:
    what = " (side chain)" if group.get("atoms") == "sidechain" else ""
    return f"{group.get('label', 'group')} {group_where(group)}{what}"


def example_info(example) -> ExampleInfo:
    """The dashboard's description of a scenario (what the sidebar loads)."""
    return info_from(example, lambda _: "")


# ---------------------------------------------------------------------------------------------
# The scenario switch


def open_scenario(key: str | None) -> None:
    """Make scenario ``key`` (None: the built-in example) the dataset of the whole app.

    Use as a button callback: the next run's sidebar then loads it through :func:`chosen_example`.
    """
    st.session_state[SCENARIO] = key


def chosen_key() -> str | None:
    """Key of the scenario opened in this session, or None."""
    return st.session_state.get(SCENARIO)


def user_files_shown() -> bool:
    """True when the dashboard shows the visitor's own files (not an example)."""
    current = state.current()
    return current is not None and not current.is_example


def request_scenario(key: str | None) -> None:
    """Open scenario ``key``, or, while the visitor's own files are shown, ask first
    (:func:`confirm_switch` draws the question). A button callback."""
    if key is not None and user_files_shown():
        st.session_state[PENDING] = key
    else:
        st.session_state[PENDING] = None
        open_scenario(key)


def pending_scenario() -> str | None:
    """The scenario waiting for the visitor's answer, or None."""
    return st.session_state.get(PENDING)


def _switch(key: str) -> None:
    st.session_state[PENDING] = None
    st.session_state[SET_ASIDE] = "pending"
    open_scenario(key)


def _keep_files() -> None:
    st.session_state[PENDING] = None


def confirm_switch(place=None) -> None:
    """The question asked before the visitor's files are set aside for a scenario, with
    "Switch" and "Keep my files" buttons (nothing when no scenario waits)."""
    key = pending_scenario()
    example = scenario(key)
    if example is None:
        return
    place = place or st
    with place.container(border=True, key="qs-teach-switch-question"):
        st.markdown(
            f"**Switch to the scenario “{example.title}”?** The dashboard now shows your own "
            "files. They stay uploaded and come back with *Back to my files* in the sidebar."
        )
        yes, no = st.columns(2)
        yes.button(
            "Switch",
            key="qs.teach.confirm",
            on_click=_switch,
            args=(key,),
            type="primary",
            icon=":material/swap_horiz:",
            width="stretch",
        )
        no.button("Keep my files", key="qs.teach.keep", on_click=_keep_files, width="stretch")


def _identity(upload) -> str:
    return str(getattr(upload, "file_id", None) or getattr(upload, "digest", None) or id(upload))


def uploads_set_aside(*uploads) -> bool:
    """True when the visitor chose a scenario over these uploads (the sidebar then ignores
    them). Uploading anything else ends it."""
    marker = st.session_state.get(SET_ASIDE)
    if marker is None or any(u is None for u in uploads):
        return False
    identities = [_identity(u) for u in uploads]
    if marker == "pending":
        st.session_state[SET_ASIDE] = identities
        return True
    if marker == identities:
        return True
    st.session_state[SET_ASIDE] = None
    return False


def back_to_my_files() -> None:
    """Show the visitor's uploads again (a button callback)."""
    st.session_state[SET_ASIDE] = None
    st.session_state[PENDING] = None
    open_scenario(None)


def _position(keys: Sequence[str], key: str | None) -> int:
    return keys.index(key) if key in keys else -1


def step(delta: int) -> None:
    """Open the next (``+1``) or previous (``-1``) scenario in workshop order (asking first
    when the visitor's own files are shown)."""
    keys = [ex.key for ex in scenario_list()]
    if not keys:
        return
    at = _position(keys, chosen_key())
    target = 0 if at < 0 and delta > 0 else min(max(at + delta, 0), len(keys) - 1)
    request_scenario(keys[target])


def position() -> int:
    """Index of the opened scenario in workshop order, or -1."""
    return _position([ex.key for ex in scenario_list()], chosen_key())


def chosen_example() -> ExampleInfo | None:
    """The scenario this session opened, or None when the built-in example is in use."""
    found = scenario(chosen_key())
    return None if found is None else example_info(found)


def sidebar_example() -> ExampleInfo | None:
    """The example the sidebar should load instead of the built-in one (None: the built-in one).

    Called once per run by ``app_support.inputs.sidebar``, whatever is shown; it also draws the
    teaching furniture every page shares: large fonts, the way back to files set aside and, in
    workshop mode, the scenario bar on top of the page.
    """
    from app_support import workshop  # the bar uses this module's helpers

    apply_fonts()
    if st.session_state.get(SET_ASIDE):
        with st.sidebar.container(border=True):
            st.caption(
                ":material/folder_open: Your uploaded files are set aside while the "
                "scenario is shown."
            )
            st.button(
                "Back to my files",
                key="qs.teach.back",
                on_click=back_to_my_files,
                icon=":material/undo:",
                width="stretch",
            )
    if workshop_on():
        workshop.bar()
    return chosen_example()


# ---------------------------------------------------------------------------------------------
# Switches and fonts


def workshop_on() -> bool:
    """True when workshop mode is switched on."""
    return bool(st.session_state.get(WORKSHOP, False))


def predict_first() -> bool:
    """True when scenarios hide their verdict and numbers until a guess is committed."""
    return bool(st.session_state.get(PREDICT, False))


def large_fonts() -> bool:
    """True when large fonts are switched on."""
    return bool(st.session_state.get(LARGE, False))


def font_size() -> int:
    """Base font size for figures (larger in large-font mode)."""
    return LARGE_FONT_SIZE if large_fonts() else FONT_SIZE


def apply_fonts() -> None:
    """Inject the large-font style sheet when large fonts are on (and the workshop layout in
    workshop mode)."""
    if large_fonts():
        st.html(_LARGE_CSS)
    elif workshop_on():
        st.html(_WORKSHOP_CSS)


def projector(fig):
    """``fig`` enlarged for a projector when large fonts are on (unchanged otherwise)."""
    from qscore.plotting.teaching import enlarge

    return enlarge(fig, LARGE_FONT_SIZE) if large_fonts() else fig


def switches() -> None:
    """The three teaching switches side by side (on the gallery and the instructor's page)."""
    left, middle, right = st.columns(3)
    left.toggle(
        "Workshop mode",
        key=WORKSHOP,
        help="Shows ◀ Previous / Next ▶ and the scenario's story on top of every page.",
    )
    middle.toggle(
        "Predict first",
        key=PREDICT,
        help="Hides a scenario's verdict and numbers until the class commits to a guess.",
    )
    right.toggle("Large fonts", key=LARGE, help="Bigger text and figures for a projector.")


def text_and_figure() -> list:
    """The teaching pages' two columns: text on the left (2/5), a figure on the right (3/5)."""
    return st.columns([2, 3], gap="large")


def metric_row(values: dict[str, str]) -> None:
    """One ``st.metric`` per label and formatted value, side by side (two to a row with large
    fonts, where three large values do not fit in a text column)."""
    items = list(values.items())
    per_row = 2 if large_fonts() else len(items) or 1
    for start in range(0, len(items), per_row):
        row = items[start : start + per_row]
        for column, (label, value) in zip(st.columns(per_row), row, strict=False):
            column.metric(label, value)


def q_of(scored: Scored, mask: np.ndarray) -> float:
    """Mean Q over the atoms in ``mask`` (NaN when none is scored)."""
    values = scored.result.q[mask]
    return float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")


# ---------------------------------------------------------------------------------------------
# Atom picker of the radial-profile explorer

PICK_CHAIN = "qs.keep.radial.chain"
PICK_RESIDUE = "qs.keep.radial.residue"
PICK_ATOM = "qs.keep.radial.atom"
_PICK_SEEN = "qs.teach.radial.seen"


def _default_atom(model, atoms: np.ndarray) -> int:
    names = [str(n) for n in model.name[atoms]]
    for wanted in PREFERRED_ATOMS:
        if wanted in names:
            return int(atoms[names.index(wanted)])
    return int(atoms[0])


def _point_picker_at(model, row: int) -> None:
    st.session_state[PICK_CHAIN] = str(model.residues.iloc[row]["chain"])
    st.session_state[PICK_RESIDUE] = int(row)
    st.session_state[PICK_ATOM] = _default_atom(model, model.residue_atoms(row))


def atom_picker(result) -> int:
    """Chain, residue and atom selectboxes; returns the chosen atom index.

    Follows the dashboard's selected residue whenever that selection (or the dataset) changes.
    """
    model = result.scored.model
    residues = model.residues
    heavy_count = np.bincount(model.residue_index[model.heavy], minlength=len(residues))
    rows = np.flatnonzero(heavy_count > 0)
    seen = (result.key, result.selected)
    if st.session_state.get(_PICK_SEEN) != seen:
        st.session_state[_PICK_SEEN] = seen
        if result.selected in set(rows.tolist()):
            _point_picker_at(model, int(result.selected))
        elif st.session_state.get(PICK_RESIDUE) not in set(rows.tolist()):
            best = showcase_residue(model, result.scored.result.q)
            _point_picker_at(model, best if best in set(rows.tolist()) else int(rows[0]))
    chains = list(dict.fromkeys(residues["chain"].to_numpy()[rows].tolist()))
    if st.session_state.get(PICK_CHAIN) not in chains:
        st.session_state[PICK_CHAIN] = chains[0]
    chain_col, residue_col, atom_col = st.columns([1, 2, 1])
    chain = chain_col.selectbox("Chain", chains, key=PICK_CHAIN)
    in_chain = [int(r) for r in rows if residues.iloc[r]["chain"] == chain]
    if st.session_state.get(PICK_RESIDUE) not in in_chain:
        _point_picker_at(model, in_chain[0])
    row = residue_col.selectbox(
        "Residue",
        in_chain,
        key=PICK_RESIDUE,
        format_func=lambda r: (
            f"{residues.iloc[r]['resseq']}{residues.iloc[r]['icode']} "
            f"{residues.iloc[r]['resname']} ({residues.iloc[r]['kind']})"
        ),
    )
    atoms = [int(a) for a in model.residue_atoms(row)]
    if st.session_state.get(PICK_ATOM) not in atoms:
        st.session_state[PICK_ATOM] = _default_atom(model, np.array(atoms))
    return int(
        atom_col.selectbox("Atom", atoms, key=PICK_ATOM, format_func=lambda a: str(model.name[a]))
    )


@st.cache_resource(show_spinner=False, max_entries=64)
def _sweep(key: str, index: int, mode: str, _dmap, _model) -> tuple[np.ndarray, np.ndarray]:
    from qscore.engine import atom_samples

    sigmas = np.round(np.arange(0.2, 1.0 + 1e-9, 0.05), 2)
    qs = np.array([atom_samples(_dmap, _model, index, sigma=s, mode=mode).q for s in sigmas])
    return sigmas, qs


def sigma_sweep(result, index: int) -> tuple[np.ndarray, np.ndarray]:
    """Q of atom ``index`` for sigma 0.2, 0.25, …, 1.0 Å (cached per dataset and atom)."""
    return _sweep(result.key, int(index), result.mode, result.scored.dmap, result.scored.model)


def ladder_items() -> list[tuple[float, object, object, np.ndarray]]:
    """(resolution, map, model, per-atom Q) of the well-fitted ladder scenarios, best first."""
    items = []
    for example in scenario_list():
        if example.key.startswith("ladder-"):
            done = score_example(example)
            if done is not None:
                items.append((example.resolution, done.dmap, done.model, done.result.q))
    return sorted(items, key=lambda item: item[0])
