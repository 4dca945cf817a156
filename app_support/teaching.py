"""Streamlit helpers of the teaching pages: scenarios, their cached scores, the scenario switch,
workshop mode and large fonts.

Switching the dashboard's dataset to a scenario goes through :func:`chosen_example`: the sidebar
(``app_support.inputs.sidebar``) asks it for the example to show instead of the built-in one,
so every page then reads the scenario through the usual session-state contract.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import streamlit as st

from app_support.example import ExampleInfo, info_from
from qscore.errors import QscoreError
from qscore.pipeline import Scored, load_and_score
from qscore.plotting.teaching import residue_atoms, showcase_residue

logger = logging.getLogger(__name__)

#: Session key of the scenario opened in this session (None: the built-in example).
SCENARIO = "qs.teach.scenario"
#: Widget keys of the teaching switches (the ``qs.keep.`` prefix keeps them across pages).
WORKSHOP = "qs.keep.teach.workshop"
LARGE = "qs.keep.teach.large"
FONT_SIZE = 14
LARGE_FONT_SIZE = 19

_MODEL_TEXT = {
    "near_peak": "The model's Q should lie near Q_peak for its resolution.",
    "within": "The model's Q should lie within the 95% band for its resolution.",
    "above_high95": "The model's Q should lie above Q_high_95% for its resolution.",
    "below_low95": "The model's Q should lie below Q_low_95% for its resolution.",
}
_LARGE_CSS = """
<style>
html { font-size: 19px; }
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li {
  font-size: 1.25rem; line-height: 1.55;
}
[data-testid="stCaptionContainer"] p { font-size: 1.05rem; }
[data-testid="stMetricValue"] { font-size: 2.6rem; }
[data-testid="stMetricLabel"] p { font-size: 1.1rem; }
[data-testid="stSidebar"] [data-testid="stMarkdownContainer"] p { font-size: 1.05rem; }
.stButton button p { font-size: 1.15rem; }
.katex { font-size: 1.45em; }
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
    """The teaching scenarios (``qscore.synthetic.examples.Example``) in workshop order; [] if unavailable."""
    return _load_scenarios()[0]


def scenario_problem() -> str | None:
    """Why there are no scenarios, as a sentence, or None."""
    return _load_scenarios()[1]


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


def score_example(example) -> Scored | None:
    """The scored scenario, or None (with the error shown) when its files cannot be scored."""
    try:
        return scored(example.map_path, example.model_path, example.sigma)
    except (QscoreError, OSError) as exc:
        st.error(f"{example.title}: {exc}", icon=":material/error:")
        return None


def expectation_text(expectation: object) -> str:
    """What a Q-score analysis of the scenario should find, in sentences."""
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
    resseq = list(group.get("resseq") or [])
    chain = group.get("chain", "")
    where = f"{chain}{resseq[0]}" if len(resseq) == 1 else f"{chain}{resseq[0]}–{resseq[-1]}"
    what = " (side chain)" if group.get("atoms") == "sidechain" else ""
    return f"{group.get('label', 'group')} {where}{what}" if resseq else str(group.get("label"))


def example_info(example) -> ExampleInfo:
    """The dashboard's description of a scenario (what the sidebar loads)."""
    return info_from(example, expectation_text)


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


def _position(keys: Sequence[str], key: str | None) -> int:
    return keys.index(key) if key in keys else -1


def step(delta: int) -> None:
    """Open the next (``+1``) or previous (``-1``) scenario in workshop order."""
    keys = [ex.key for ex in scenario_list()]
    if not keys:
        return
    at = _position(keys, chosen_key())
    target = 0 if at < 0 and delta > 0 else min(max(at + delta, 0), len(keys) - 1)
    open_scenario(keys[target])


def chosen_example() -> ExampleInfo | None:
    """The scenario this session opened, or None when the built-in example is in use."""
    key = chosen_key()
    found = next((ex for ex in scenario_list() if ex.key == key), None) if key else None
    return None if found is None else example_info(found)


def sidebar_example() -> ExampleInfo | None:
    """The example the sidebar should load instead of the built-in one (None: the built-in one).

    Called once per run by ``app_support.inputs.sidebar``; it also draws the teaching furniture
    every page shares: large fonts and, in workshop mode, the scenario bar on top of the page.
    """
    apply_fonts()
    if workshop_on():
        workshop_bar()
    return chosen_example()


# ---------------------------------------------------------------------------------------------
# Workshop mode and fonts


def workshop_on() -> bool:
    """True when workshop mode is switched on."""
    return bool(st.session_state.get(WORKSHOP, False))


def large_fonts() -> bool:
    """True when large fonts are switched on."""
    return bool(st.session_state.get(LARGE, False))


def font_size() -> int:
    """Base font size for figures (larger in large-font mode)."""
    return LARGE_FONT_SIZE if large_fonts() else FONT_SIZE


def apply_fonts() -> None:
    """Inject the large-font style sheet when large fonts are on."""
    if large_fonts():
        st.html(_LARGE_CSS)


def _end_workshop() -> None:
    st.session_state[WORKSHOP] = False


def workshop_bar() -> None:
    """◀ Previous / Next ▶ and the current scenario's story, on top of the page."""
    examples = scenario_list()
    if not examples:
        st.warning(scenario_problem() or "No teaching scenarios are available.")
        return
    at = _position([ex.key for ex in examples], chosen_key())
    with st.container(border=True, key="qs-teach-workshop-bar"):
        back, forward, where, close = st.columns([2, 2.6, 4.4, 1.8], vertical_alignment="center")
        back.button(
            "◀ Previous",
            key="qs.teach.previous",
            on_click=step,
            args=(-1,),
            disabled=at <= 0,
            width="stretch",
        )
        forward.button(
            "Next scenario ▶" if at >= 0 else "Start ▶",
            key="qs.teach.next",
            on_click=step,
            args=(1,),
            disabled=at >= len(examples) - 1,
            type="primary",
            width="stretch",
        )
        close.button(
            "End",
            key="qs.teach.end",
            on_click=_end_workshop,
            icon=":material/close:",
            help="Leave workshop mode",
            width="stretch",
        )
        if at < 0:
            where.markdown(f"**Workshop** · {len(examples)} scenarios whose truth is known")
            st.markdown("Press **Start ▶** to load the first scenario; every page then shows it.")
            return
        example = examples[at]
        where.markdown(
            f"**Scenario {at + 1} of {len(examples)}** · the paper's {example.figure} · "
            f"{example.resolution:g} Å"
        )
        st.markdown(f"#### {example.title}")
        st.markdown(example.explanation)


def text_and_figure() -> list:
    """The teaching pages' two columns: text on the left (2/5), a figure on the right (3/5)."""
    return st.columns([2, 3], gap="large")


def metric_row(values: dict[str, str]) -> None:
    """One ``st.metric`` per label and formatted value, side by side."""
    for column, (label, value) in zip(st.columns(len(values)), values.items(), strict=True):
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
_PREFERRED_ATOMS = ("CA", "P", "C1'", "C1")


def _default_atom(model, atoms: np.ndarray) -> int:
    names = [str(n) for n in model.name[atoms]]
    for wanted in _PREFERRED_ATOMS:
        if wanted in names:
            return int(atoms[names.index(wanted)])
    return int(atoms[0])


def _point_picker_at(model, row: int) -> None:
    st.session_state[PICK_CHAIN] = str(model.residues.iloc[row]["chain"])
    st.session_state[PICK_RESIDUE] = int(row)
    st.session_state[PICK_ATOM] = _default_atom(model, residue_atoms(model, row))


def atom_picker(result) -> int:
    """Chain, residue and atom selectboxes; returns the chosen atom index.

    Follows the dashboard's selected residue whenever that selection (or the dataset) changes.
    """
    model = result.scored.model
    residues = model.residues
    heavy_count = np.array([len(residue_atoms(model, r)) for r in range(len(residues))])
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
    atoms = [int(a) for a in residue_atoms(model, row)]
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


def example_atom(result) -> int | None:
    """An atom to illustrate the Q definition: the preferred atom of the selected residue, else
    of the first residue with a scored heavy atom."""
    model, q = result.scored.model, result.scored.result.q
    rows = [result.selected] if result.selected is not None else []
    rows += list(range(len(model.residues)))
    for row in rows:
        atoms = residue_atoms(model, row)
        atoms = atoms[np.isfinite(q[atoms])]
        if atoms.size:
            return _default_atom(model, atoms)
    return None
