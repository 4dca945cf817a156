"""Known-truth variants of a real or simulated map and model, for testing comparisons.

* :func:`noisy_copies`: "half maps" of one reconstruction: the map plus independent band-limited
  noise, one copy per seed.
* :func:`shift_residues`: a model in which a stretch of residues was built off its density
  (moved sideways, away from the rest of the model).
* :func:`best_stretch`: the best-resolved stretch of consecutive residues, where a misbuilt
  segment is most visible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from qscore.analysis.noise import band_limited_noise, signal_rms
from qscore.errors import ParameterError
from qscore.io.maps import DensityMap
from qscore.io.models import AtomModel

__all__ = ["best_stretch", "noisy_copies", "shift_residues"]


def noisy_copies(
    dmap: DensityMap,
    xyz: np.ndarray,
    resolution: float,
    *,
    noise: float,
    seeds: Sequence[int],
) -> list[DensityMap]:
    """Copies of ``dmap``, each with its own band-limited noise at ``resolution``.

    The noise RMS is ``noise`` times the map's RMS within
    :data:`~qscore.analysis.noise.ENVELOPE` Å of the atoms ``xyz`` (the molecule's signal), and
    it covers the whole box, like the noise of unmasked half maps.
    """
    if noise < 0:
        raise ParameterError(f"The noise level cannot be negative (got {noise}).")
    level = noise * signal_rms(dmap, xyz)
    copies = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        band = band_limited_noise(dmap.values.shape, dmap.voxel_size, resolution, rng)
        copies.append(
            replace(
                dmap,
                values=dmap.values + level * band,
                notes=(*dmap.notes, f"Band-limited noise {noise:g} × signal added (seed {seed})."),
            )
        )
    return copies


def _atoms_of_rows(model: AtomModel, rows: Sequence[int]) -> np.ndarray:
    residues = model.residues
    return np.concatenate(
        [np.arange(residues.at[r, "start"], residues.at[r, "stop"]) for r in rows]
    )


def shift_residues(model: AtomModel, rows: Sequence[int], distance: float) -> AtomModel:
    """``model`` with residue ``rows`` moved ``distance`` Å perpendicular to the stretch's CA
    axis, away from the centre of the model (as if built into the wrong density)."""
    rows = list(rows)
    atoms = _atoms_of_rows(model, rows)
    ca = model.xyz[atoms[model.name[atoms] == "CA"]]
    if len(ca) < 2:
        raise ParameterError("Shifting a stretch needs at least two residues with a CA atom.")
    axis = ca[-1] - ca[0]
    axis /= np.linalg.norm(axis)
    outward = ca.mean(axis=0) - model.xyz[model.heavy].mean(axis=0)
    outward -= np.dot(outward, axis) * axis
    if np.linalg.norm(outward) < 1e-6:
        outward = np.cross(axis, [1.0, 0.0, 0.0] if abs(axis[0]) < 0.9 else [0.0, 1.0, 0.0])
    outward /= np.linalg.norm(outward)
    xyz = model.xyz.copy()
    xyz[atoms] += distance * outward
    return model.with_coordinates(xyz)


def best_stretch(model: AtomModel, residue_q: np.ndarray, length: int = 8) -> list[int]:
    """Rows of ``model.residues``: the ``length`` consecutively numbered protein residues of
    one chain with the highest mean residue Q."""
    residues = model.residues
    q = np.asarray(residue_q, dtype=float)
    best, best_q = None, -np.inf
    for start in range(len(residues) - length + 1):
        window = residues.iloc[start : start + length]
        rows = list(range(start, start + length))
        if (
            (window["kind"] == "protein").all()
            and window["chain"].nunique() == 1
            and (np.diff(window["resseq"].to_numpy()) == 1).all()
            and np.isfinite(q[rows]).all()
            and q[rows].mean() > best_q
        ):
            best, best_q = rows, float(q[rows].mean())
    if best is None:
        raise ParameterError(f"The model has no {length} consecutive protein residues.")
    return best
