"""A contour level that shows a residue's density at any resolution.

A fixed level in σ fails one way or the other: at 1.75 Å the map at a well resolved atom is
5–6σ and falls steeply, so a 4.5σ mesh hugs the atom centres inside the sticks; at 4 Å the same
level shows nothing at all. The level here is read from the map around the selected residue:
for each of its well-scored atoms, the mean map value on a sphere of :data:`ENCLOSE_RADIUS` Å
around it; the level is the value that a chosen fraction of those atoms exceed. The mesh then
passes about that far from most well-scored atoms (visible outside sticks), while atoms the map
does not support (low Q) sit in empty space. A floor of :data:`FLOOR_SIGMA` σ above the mean
keeps the solvent noise out when a residue is weak everywhere.

σ is the standard deviation of the map as given (for the dashboard: the map cropped around the
model), the mean its mean; levels are reported in map units and in σ above the mean.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qscore.io.maps import DensityMap, sample

#: Radius (Å) at which the mesh should pass around a well resolved atom: outside the sticks.
ENCLOSE_RADIUS = 1.0
#: Share of the reference atoms whose shell mean lies above the chosen level.
ENCLOSE_FRACTION = 0.9
#: Lowest default level, in σ above the mean (above ~95% of solvent voxels in simulated maps).
FLOOR_SIGMA = 1.0
#: Fewest well-scored atoms in the residue before the neighbourhood's are used instead.
MIN_REFERENCE_ATOMS = 3
#: Directions of the shell samples: a Fibonacci sphere, fixed so results are deterministic.
SHELL_POINTS = 24


@dataclass(frozen=True)
class MapStats:
    """Mean and standard deviation of a map, the units of σ levels."""

    mean: float
    sd: float

    @classmethod
    def of(cls, dmap: DensityMap) -> MapStats:
        """Statistics of ``dmap``'s values (σ = 1 for a flat map)."""
        values = dmap.values
        mean = float(values.mean(dtype=np.float64))
        sd = float(values.std(dtype=np.float64))
        return cls(mean=mean, sd=sd if sd > 0 else 1.0)

    def to_sigma(self, level: float) -> float:
        """``level`` (map units) in σ above the mean."""
        return (float(level) - self.mean) / self.sd

    def from_sigma(self, sigma_level: float) -> float:
        """A level in σ above the mean, in map units."""
        return self.mean + float(sigma_level) * self.sd


@dataclass(frozen=True)
class ContourChoice:
    """The chosen level (map units and σ) and what it was read from.

    ``reference`` says which atoms set it: ``"residue"`` (its well-scored atoms), ``"neighbours"``
    (the residue has too few, so well-scored atoms nearby), or ``"floor"`` (none anywhere near).
    """

    level: float
    sigma_level: float
    reference: str
    atoms_used: int


def _sphere(n: int = SHELL_POINTS) -> np.ndarray:
    k = np.arange(n) + 0.5
    polar = np.arccos(1.0 - 2.0 * k / n)
    azimuth = np.pi * (1.0 + 5.0**0.5) * k
    return np.column_stack(
        [np.cos(azimuth) * np.sin(polar), np.sin(azimuth) * np.sin(polar), np.cos(polar)]
    )


def shell_values(dmap: DensityMap, xyz: np.ndarray, radius: float) -> np.ndarray:
    """Map values on a sphere of ``radius`` Å around each point: (n_points, SHELL_POINTS)."""
    xyz = np.atleast_2d(np.asarray(xyz, dtype=float))
    points = (xyz[:, None, :] + radius * _sphere()[None, :, :]).reshape(-1, 3)
    return sample(dmap, points).reshape(xyz.shape[0], -1).astype(np.float64)


def residue_contour(
    dmap: DensityMap,
    xyz: np.ndarray,
    q: np.ndarray,
    *,
    q_good: float,
    neighbour_xyz: np.ndarray | None = None,
    neighbour_q: np.ndarray | None = None,
    stats: MapStats | None = None,
    radius: float = ENCLOSE_RADIUS,
    fraction: float = ENCLOSE_FRACTION,
    floor_sigma: float = FLOOR_SIGMA,
) -> ContourChoice:
    """Default contour level for viewing one residue in its map.

    Parameters
    ----------
    dmap : DensityMap
        The map.
    xyz, q : numpy.ndarray
        Coordinates (n, 3) and Q-scores of the residue's scored atoms.
    q_good : float
        Atoms with Q at or above this count as well scored (the dashboard uses Q_low_95% at the
        resolution, or the model's median atom Q without a resolution).
    neighbour_xyz, neighbour_q : numpy.ndarray, optional
        Atoms around the residue, used when it has fewer than
        :data:`MIN_REFERENCE_ATOMS` well-scored atoms of its own.
    stats : MapStats, optional
        The map's mean and σ (computed when not given; pass them to avoid recomputing).
    radius, fraction, floor_sigma : float
        Shell radius (Å), share of reference atoms to enclose, lowest level in σ.

    Returns
    -------
    ContourChoice
        Level in map units and in σ above the mean, and the reference used.
    """
    stats = stats or MapStats.of(dmap)
    xyz = np.atleast_2d(np.asarray(xyz, dtype=float)).reshape(-1, 3)
    q = np.asarray(q, dtype=float).reshape(-1)
    reference, chosen = "residue", xyz[np.isfinite(q) & (q >= q_good)]
    if chosen.shape[0] < MIN_REFERENCE_ATOMS and neighbour_xyz is not None:
        nq = np.asarray(neighbour_q, dtype=float).reshape(-1)
        nxyz = np.atleast_2d(np.asarray(neighbour_xyz, dtype=float)).reshape(-1, 3)
        reference, chosen = "neighbours", nxyz[np.isfinite(nq) & (nq >= q_good)]
    floor = stats.from_sigma(floor_sigma)
    if chosen.shape[0] < MIN_REFERENCE_ATOMS:
        return ContourChoice(floor, float(floor_sigma), "floor", 0)
    shells = shell_values(dmap, chosen, radius).mean(axis=1)
    level = max(float(np.quantile(shells, 1.0 - fraction)), floor)
    return ContourChoice(level, stats.to_sigma(level), reference, int(chosen.shape[0]))


def enclosed_fraction(
    dmap: DensityMap, xyz: np.ndarray, level: float, *, radius: float = 0.7
) -> np.ndarray:
    """Per atom, the share of its shell points at ``radius`` Å that lie inside the ``level``
    surface (map value ≥ level) — 1.0 for an atom wrapped in mesh at least that far out."""
    if np.atleast_2d(xyz).shape[0] == 0:
        return np.zeros(0)
    return (shell_values(dmap, xyz, radius) >= level).mean(axis=1)


#: Most atoms read for a whole-model contour.
MODEL_SAMPLE = 4000


def well_scored_q(q: np.ndarray, resolution: float | None, sigma: float) -> float:
    """Q from which an atom counts as well scored: Q_low_95% at ``resolution`` when the band
    exists, else the median of ``q``."""
    from qscore.analysis.expected import expected_q

    bands = expected_q(resolution, sigma) if resolution else None
    if bands is not None:
        return float(bands.q_low95)
    q = np.asarray(q, dtype=float)
    return float(np.nanmedian(q)) if np.isfinite(q).any() else 0.0


def model_contour(
    dmap: DensityMap,
    xyz: np.ndarray,
    q: np.ndarray,
    *,
    q_good: float,
    stats: MapStats | None = None,
) -> ContourChoice:
    """The :func:`residue_contour` rule applied to a whole model (an even sample of at most
    :data:`MODEL_SAMPLE` atoms), for views without a selected residue."""
    xyz = np.atleast_2d(np.asarray(xyz, dtype=float))
    every = max(1, xyz.shape[0] // MODEL_SAMPLE)
    return residue_contour(
        dmap, xyz[::every], np.asarray(q, dtype=float)[::every], q_good=q_good, stats=stats
    )
