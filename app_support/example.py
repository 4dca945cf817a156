"""The built-in example a first-time visitor sees: ``qscore.synthetic.examples`` when available, else the
EMD-30342 chain A data shipped next to the project."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

logger = logging.getLogger(__name__)
SHARED_EMD30342 = Path(__file__).resolve().parents[2] / "shared" / "data" / "emd-30342"


@dataclass(frozen=True)
class ExampleInfo:
    """What the dashboard needs from an example: files, parameters and the story around them."""

    title: str
    explanation: str
    map_path: str
    model_path: str
    resolution: float
    sigma: float
    expectation: str


EXPECTATIONS = {
    "near_peak": "The model's Q-score should lie near Q_peak for its resolution.",
    "above_high95": "The model's Q-score should lie above Q_high_95% for its resolution.",
    "below_low95": "The model's Q-score should lie below Q_low_95% for its resolution.",
}


def _expectation_text(expectation: object) -> str:
    """A sentence from the example's machine-readable expectation."""
    if not isinstance(expectation, dict):
        return str(expectation or "")
    parts = [EXPECTATIONS.get(str(expectation.get("model")), "")]
    groups = expectation.get("below_low95") or []
    if groups:
        names = ", ".join(str(g.get("label", g.get("resseq", ""))) for g in groups)
        parts.append(f"These parts should fall below Q_low_95%: {names}.")
    return " ".join(p for p in parts if p)


def info_from(example, expectation: Callable[[object], str] = _expectation_text) -> ExampleInfo:
    """The dashboard's description of a ``qscore.synthetic.examples.Example``; ``expectation`` turns its
    machine-readable expectation into sentences."""
    return ExampleInfo(
        title=str(example.title),
        explanation=str(example.explanation),
        map_path=str(example.map_path),
        model_path=str(example.model_path),
        resolution=float(example.resolution),
        sigma=float(example.sigma),
        expectation=expectation(example.expectation),
    )


def _from_library() -> ExampleInfo | None:
    try:
        from qscore.synthetic.examples import builtin_example
    except ImportError:
        return None
    try:
        example = builtin_example()
    except Exception:  # a broken generator must not take the dashboard down
        logger.exception("The built-in example could not be generated; using the fallback.")
        return None
    return info_from(example)


def _from_shared() -> ExampleInfo | None:
    map_path = SHARED_EMD30342 / "emd_30342_chainA_zone.mrc"
    model_path = SHARED_EMD30342 / "7cec_chainA.cif"
    if not (map_path.is_file() and model_path.is_file()):
        return None
    return ExampleInfo(
        title="EMD-30342 / PDB 7cec, chain A at 3.9 Å",
        explanation=(
            "A 3.9 Å cryo-EM map zoned around chain A of its deposited model. Each atom's Q-score "
            "measures how closely the map around it resembles a Gaussian centred on the atom."
        ),
        map_path=str(map_path),
        model_path=str(model_path),
        resolution=3.9,
        sigma=0.4,
        expectation=(
            "Most residues score near Q_peak for 3.9 Å; side chains score lower than the "
            "backbone, and a few exposed side chains fall below Q_low_95%."
        ),
    )


@st.cache_resource(show_spinner="Preparing the built-in example…")
def builtin() -> ExampleInfo | None:
    """The built-in example, or None when neither source is available."""
    return _from_library() or _from_shared()
