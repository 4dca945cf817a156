"""The per-atom Q-score engine: MapQ's algorithm over a compiled kernel."""

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
    "Progress",
    "RadialSamples",
    "ScoreResult",
    "atom_samples",
    "overall_q",
    "sample_points",
    "score",
    "shell_radii",
    "spiral_points",
]
