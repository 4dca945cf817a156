"""The per-atom Q-score engine: MapQ's algorithm, in a compiled kernel and in NumPy.

``QSCORE_ENGINE`` (``compiled``, ``numpy`` or ``auto``) or the ``engine`` argument of
:func:`score` picks the engine; both give the same numbers (see :mod:`qscore.engine.choice`).
"""

from qscore.engine.choice import ENGINES, choose_engine
from qscore.engine.scoring import (
    Progress,
    RadialSamples,
    ScoreResult,
    atom_samples,
    overall_q,
    sample_points,
    score,
    shell_radii,
    spiral_points,
)

__all__ = [
    "ENGINES",
    "Progress",
    "RadialSamples",
    "ScoreResult",
    "atom_samples",
    "choose_engine",
    "overall_q",
    "sample_points",
    "score",
    "shell_radii",
    "spiral_points",
]
