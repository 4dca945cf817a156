"""qscore: per-atom Q-scores of atomic models in cryo-EM maps, reproducing MapQ, in context.

The package is UI-free: plain functions on NumPy arrays, pandas frames and small dataclasses.
Typical use::

    import qscore
    dmap = qscore.read_map("emd_1234.map")
    model = qscore.read_model("model.cif")
    result = qscore.score(dmap, model, sigma=0.4)
    result.model_q, result.q          # the model's Q and one Q per atom

or, reading the map around the model only, :func:`qscore.load_and_score`. The per-residue and
per-chain tables are :func:`qscore.residue_table` and :func:`qscore.chain_table`; the paper's
expected values and verdicts :func:`qscore.expected_q` and :func:`qscore.verdict`; the
percentiles against the archive :func:`qscore.relative_q`.
"""

from __future__ import annotations

__version__ = "0.1.0"

_LAZY = {
    "read_map": "qscore.io.maps",
    "DensityMap": "qscore.io.maps",
    "read_model": "qscore.io.models",
    "AtomModel": "qscore.io.models",
    "write_map": "qscore.io.maps",
    "score": "qscore.engine",
    "ScoreResult": "qscore.engine",
    "load_and_score": "qscore.pipeline",
    "residue_table": "qscore.analysis.aggregate",
    "chain_table": "qscore.analysis.aggregate",
    "expected_q": "qscore.analysis.expected",
    "verdict": "qscore.analysis.expected",
    "relative_q": "qscore.analysis.relative",
}


def __getattr__(name: str):
    """Import public names on first use, so light tools stay light."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'qscore' has no attribute {name!r}")


__all__ = sorted(_LAZY)
