"""qscore: per-atom Q-scores of atomic models in cryo-EM maps, reproducing MapQ, in context.

The package is UI-free: plain functions on NumPy arrays, pandas frames and small dataclasses.
Typical use::

    import qscore
    dmap = qscore.read_map("emd_1234.map")
    model = qscore.read_model("model.cif")
    q = qscore.score(dmap, model, sigma=0.4)
"""

from __future__ import annotations

__version__ = "0.1.0"

_LAZY = {
    "read_map": "qscore.io.maps",
    "DensityMap": "qscore.io.maps",
    "read_model": "qscore.io.models",
    "AtomModel": "qscore.io.models",
    "score": "qscore.engine",
    "ScoreResult": "qscore.engine",
}


def __getattr__(name: str):
    """Import public names on first use, so light tools stay light."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'qscore' has no attribute {name!r}")


__all__ = sorted(_LAZY)
