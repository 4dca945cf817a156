"""Simulated maps whose resolution varies from region to region, with their known truth.

Each atom is given the resolution of its region (say 3 Å for a rigid domain and 6 Å for a
flexible one). Every region's atoms carry the calibrated B-factors of their resolution
(:mod:`qscore.synthetic.calibration`), scaled per region until the true model's mean Q over the
region sits at Q_peak of its resolution, and their density is low-pass filtered at it; space is
shared between regions by the nearest atom, with soft (Gaussian-blended) borders. From that one
truth come:

* the map to score: signal plus band-limited noise of each region's resolution, as
  :func:`~qscore.synthetic.simulate.simulate_map` makes it;
* two half maps: the signal (reaching a little past each region's resolution, so that the FSC
  declines through it as in real data) plus independent white noise, whose level per region is
  set so that the expected local FSC (noise-free signal against the known noise variance) in
  windows centred on the region's atoms crosses 0.143 at the region's resolution;
* the true local-resolution map (Å), blended across borders like the regions.

Everything is deterministic for a given ``seed``.
"""

from __future__ import annotations

from dataclasses import dataclass

import gemmi
import numpy as np
import scipy.fft as sfft
from scipy.ndimage import gaussian_filter
from scipy.spatial import cKDTree

from qscore.analysis.expected import expected_q
from qscore.analysis.local_fsc import (
    BATCH,
    DEFAULT_THRESHOLD,
    DEFAULT_WINDOW,
    SlidingWindows,
    crossing_resolution,
)
from qscore.analysis.noise import lowpass_filter
from qscore.errors import ParameterError
from qscore.io.maps import DensityMap
from qscore.synthetic.calibration import NOISE, b_profile, base_b
from qscore.synthetic.simulate import box_for, envelope_mask, model_density

__all__ = ["RegionMaps", "simulate_regions"]

#: Atoms sampled per region (at most about this many) to set the half maps' noise.
WINDOW_SAMPLES = 400
#: The half maps' signal reaches HALF_MAP_REACH × d (the map's stops at d), so that their FSC
#: declines through 1/d as in real half maps rather than stopping at a sharp edge.
HALF_MAP_REACH = 0.75
#: Calibration: at most this many rounds of scoring, stopping when every region's mean Q is
#: within the tolerance of Q_peak; the first step assumes this slope of mean Q per unit log B.
CALIBRATION_ROUNDS = 6
CALIBRATION_TOLERANCE = 0.005
CALIBRATION_SLOPE = -0.15
#: Bisection steps on each region's half-map noise level.
NOISE_STEPS = 12


@dataclass(frozen=True, eq=False)
class RegionMaps:
    """A map, its two half maps and the true local resolution, on one grid.

    ``atom_resolution`` is the resolution (Å) each heavy atom (file order) was simulated at and
    ``b_factors`` its B-factor (Å²).
    """

    map: DensityMap
    half1: DensityMap
    half2: DensityMap
    local_resolution: DensityMap
    atom_resolution: np.ndarray
    b_factors: np.ndarray


def _heavy_atoms(st: gemmi.Structure) -> list[gemmi.Atom]:
    return [a for ch in st[0] for r in ch for a in r if a.element.name not in ("H", "D")]


def _part(st: gemmi.Structure, keep: np.ndarray) -> gemmi.Structure:
    """Copy of ``st`` in which only the heavy atoms flagged in ``keep`` have occupancy."""
    out = st.clone()
    for atom, flag in zip(_heavy_atoms(out), keep, strict=True):
        if not flag:
            atom.occ = 0.0
    return out


def _filtered(field: np.ndarray, voxel: float, resolution: float) -> np.ndarray:
    multiplier = lowpass_filter(field.shape, voxel, resolution)
    return sfft.irfftn(sfft.rfftn(field) * multiplier, s=field.shape)


def _half_map_noise(
    signal: np.ndarray, box: _Box, window: float, threshold: float = DEFAULT_THRESHOLD
) -> np.ndarray:
    """Per-region RMS of the half maps' white noise at which the expected local FSC, in windows
    centred on the region's atoms, crosses ``threshold`` at the region's resolution (median).

    The expected FSC of a window uses the noise-free signal and the known noise variance: per
    shell, S / (S + N), with S the signal's shell power and N the windowed noise variance times
    the shell's number of coefficients. Bisection on each region's log noise level, twice over
    the regions (they interact only near their borders).
    """
    windows = SlidingWindows(np.full(3, box.voxel), window)
    view = windows.view(signal)
    mask2 = (windows.sphere**2).ravel()
    n_parts = len(box.levels)
    samples = []
    for p in range(n_parts):
        atoms = np.flatnonzero(box.labels == p)
        atoms = atoms[:: max(1, atoms.size // WINDOW_SAMPLES)]
        centres = np.rint((box.xyz[atoms] - box.origin) / box.voxel).astype(np.int64)
        power = np.concatenate(
            [
                windows.shell_sums(f, f)
                for f in (
                    windows.spectra(view, centres[i : i + BATCH])
                    for i in range(0, len(centres), BATCH)
                )
            ]
        )
        overlap = np.empty((len(centres), n_parts, n_parts))
        for q in range(n_parts):
            for r in range(q, n_parts):
                field = windows.view(box.weights[q] * box.weights[r])
                overlap[:, q, r] = overlap[:, r, q] = (
                    windows.boxes(field, centres).reshape(len(centres), -1) @ mask2
                )
        samples.append((power, overlap))
    scales = np.full(n_parts, _rms(signal))

    def resolution(p: int) -> float:
        power, overlap = samples[p]
        noise = np.einsum("q,cqr,r->c", scales, overlap, scales)[:, None] * windows.counts
        with np.errstate(invalid="ignore", divide="ignore"):
            fsc = np.nan_to_num(power / (power + noise))
        return float(np.median(crossing_resolution(fsc, windows.freq, threshold)))

    for _ in range(2):
        for p, d in enumerate(box.levels):
            lo, hi = np.log(scales[p]) - 5.0, np.log(scales[p]) + 5.0
            for _ in range(NOISE_STEPS):
                scales[p] = np.exp(0.5 * (lo + hi))
                lo, hi = (0.5 * (lo + hi), hi) if resolution(p) < d else (lo, 0.5 * (lo + hi))
            scales[p] = np.exp(0.5 * (lo + hi))
    return scales


def _rms(values: np.ndarray) -> float:
    return float(np.sqrt(np.mean(values**2)))


def _weights(
    xyz: np.ndarray, labels: np.ndarray, n_parts: int, origin, shape_zyx, voxel, blend
) -> np.ndarray:
    """(parts, z, y, x) soft partition of space: nearest atom's part, blurred by ``blend`` Å."""
    nz, ny, nx = shape_zyx
    grid = np.stack(
        np.meshgrid(
            origin[0] + voxel * np.arange(nx),
            origin[1] + voxel * np.arange(ny),
            origin[2] + voxel * np.arange(nz),
            indexing="ij",
        ),
        axis=-1,
    ).reshape(-1, 3)
    _, nearest = cKDTree(xyz).query(grid)
    owner = labels[nearest].reshape(nx, ny, nz).transpose(2, 1, 0)
    weights = np.stack([(owner == p).astype(float) for p in range(n_parts)])
    if blend > 0:
        weights = np.stack([gaussian_filter(w, blend / voxel, mode="nearest") for w in weights])
    return weights / weights.sum(axis=0, keepdims=True)


def _truth_model(st: gemmi.Structure):
    """The structure as an :class:`~qscore.io.models.AtomModel` (through mmCIF text)."""
    from qscore.io.models import read_model

    copy = st.clone()
    copy.setup_entities()
    return read_model(copy.make_mmcif_document().as_string().encode(), name="truth.cif")


class _Box:
    """The simulation grid and the per-region pieces that do not depend on B-factors."""

    def __init__(self, xyz, labels, levels, voxel, padding, blend):
        self.xyz, self.labels, self.levels, self.voxel = xyz, labels, levels, voxel
        self.origin, self.shape_xyz = box_for(xyz, voxel, padding)
        self.shape_zyx = tuple(int(n) for n in self.shape_xyz[::-1])
        self.weights = _weights(xyz, labels, len(levels), self.origin, self.shape_zyx, voxel, blend)

    def envelope(self, p: int, distance: float | None = None) -> np.ndarray:
        extra = () if distance is None else (distance,)
        return envelope_mask(
            self.xyz[self.labels == p], self.origin, self.shape_zyx, self.voxel, *extra
        )

    def densities(self, truth: gemmi.Structure) -> list[np.ndarray]:
        return [
            model_density(_part(truth, self.labels == p), self.origin, self.shape_xyz, self.voxel)
            for p in range(len(self.levels))
        ]

    def signal(self, densities: list[np.ndarray], reach: float = 1.0) -> np.ndarray:
        return np.sum(
            [
                _filtered(v, self.voxel, reach * d)
                for v, d in zip(densities, self.levels, strict=True)
            ],
            axis=0,
        )

    def as_map(self, values: np.ndarray, source: str, notes: tuple[str, ...] = ()) -> DensityMap:
        return DensityMap(
            values=values.astype(np.float32),
            origin=self.origin,
            voxel_size=np.array([self.voxel] * 3),
            source=source,
            notes=notes,
        )


def _with_b(st: gemmi.Structure, b: np.ndarray) -> gemmi.Structure:
    out = st.clone()
    for atom, value in zip(_heavy_atoms(out), b, strict=True):
        atom.b_iso = float(value)
    return out


def _scored_map(box: _Box, truth: gemmi.Structure, band: list[np.ndarray], noise: float):
    """The map to score: each region's signal plus its band-limited noise (``band[p]`` has unit
    RMS), scaled to ``noise`` × the signal RMS within 2 Å of the region's atoms."""
    signal = box.signal(box.densities(truth))
    full = signal.copy()
    for p in range(len(box.levels)):
        full += box.weights[p] * band[p] * (noise * _rms(signal[box.envelope(p)]))
    return full


def simulate_regions(
    st: gemmi.Structure,
    atom_resolution: np.ndarray,
    *,
    noise: float = NOISE,
    blend: float = 2.0,
    seed: int = 0,
    padding: float = 8.0,
    voxel: float | None = None,
    calibrate: bool = True,
    window: float = DEFAULT_WINDOW,
    source: str = "simulated",
) -> RegionMaps:
    """Simulate a map, two half maps and the true local resolution of ``st``.

    Parameters
    ----------
    st
        The true structure (its first model; hydrogens are ignored).
    atom_resolution
        Resolution (Å) of each heavy atom's region, in file order; a few distinct values.
    noise
        RMS of each region's band-limited noise in the map, relative to the signal RMS within
        2 Å of the region's atoms (the calibration's level by default).
    blend
        Width (Å) of the Gaussian blending the regions (and the truth map) at their borders.
    seed
        Seed of every noise field.
    padding
        Margin (Å) of the box around the model.
    voxel
        Voxel size (Å); default min(1, finest resolution / 3).
    calibrate
        Scale each region's B-factors so that the true model's mean Q (sigma 0.4) over the
        region lies within :data:`CALIBRATION_TOLERANCE` of Q_peak at its resolution (a few
        rounds of scoring); otherwise the calibration table's B-factors are used as they are.
    window
        Window (Å) of the local FSC that defines the half maps' local resolution: their noise
        is set so that, in windows of this size centred on a region's atoms, the expected FSC
        crosses 0.143 at the region's resolution (median over the atoms).
    source
        Label stored in the maps.

    Returns
    -------
    RegionMaps
        The map, the half maps and the local-resolution truth on one grid.

    Raises
    ------
    ParameterError
        When the resolutions do not match the heavy atoms or are not positive.
    """
    atoms = _heavy_atoms(st)
    d_atom = np.asarray(atom_resolution, dtype=float)
    if d_atom.shape != (len(atoms),):
        raise ParameterError(f"Expected {len(atoms)} resolutions (one per heavy atom).")
    if not np.all(np.isfinite(d_atom) & (d_atom > 0)):
        raise ParameterError("Every region's resolution must be a positive number of Å.")
    levels, labels = np.unique(d_atom, return_inverse=True)
    step = float(voxel) if voxel else min(1.0, float(levels.min()) / 3.0)
    xyz = np.array([a.pos.tolist() for a in atoms])
    box = _Box(xyz, labels, levels, step, padding, blend)
    rng = np.random.default_rng(seed)
    white = [rng.standard_normal(box.shape_zyx) for _ in range(3)]
    band = []
    for d in levels:
        filtered = _filtered(white[0], step, d)
        band.append(filtered / _rms(filtered))
    b_table = np.array([base_b(d) for d in d_atom]) * b_profile(st)
    factors = np.ones(len(levels))
    truth = _with_b(st, b_table)
    full = _scored_map(box, truth, band, noise)
    if calibrate:
        factors, truth, full = _calibrate(box, st, b_table, band, noise, labels, full)
    densities = box.densities(truth)
    extended = box.signal(densities, HALF_MAP_REACH)
    scales = _half_map_noise(extended, box, window)
    halves = [extended + np.tensordot(scales, box.weights, axes=1) * w for w in white[1:]]
    truth_map = np.tensordot(levels, box.weights, axes=1)
    note = (
        f"Simulated at {', '.join(f'{d:g}' for d in levels)} Å by region (voxel {step:g} Å), "
        f"B-factors × {', '.join(f'{f:.2f}' for f in factors)}, noise {noise:g}, seed {seed}.",
    )
    return RegionMaps(
        map=box.as_map(full, f"{source} map", note),
        half1=box.as_map(halves[0], f"{source} half map 1", note),
        half2=box.as_map(halves[1], f"{source} half map 2", note),
        local_resolution=box.as_map(truth_map, f"{source} local resolution", note),
        atom_resolution=d_atom,
        b_factors=np.array([a.b_iso for a in _heavy_atoms(truth)]),
    )


def _calibrate(box, st, b_table, band, noise, labels, full):
    """Per-region B multipliers putting each region's mean Q at Q_peak (secant on log B)."""
    from qscore.engine import score

    model = _truth_model(st)
    heavy = model.heavy
    targets = np.array([expected_q(float(d), 0.4).q_peak for d in box.levels])
    logs = np.zeros(len(box.levels))
    history: list[tuple[np.ndarray, np.ndarray]] = []
    truth = _with_b(st, b_table)
    for _ in range(CALIBRATION_ROUNDS):
        q = score(box.as_map(full, "calibration"), model, sigma=0.4).q[heavy]
        means = np.array([float(np.nanmean(q[labels == p])) for p in range(len(box.levels))])
        history.append((logs.copy(), means))
        if np.all(np.abs(means - targets) <= CALIBRATION_TOLERANCE):
            break
        if len(history) == 1:
            slope = np.full(len(logs), CALIBRATION_SLOPE)
        else:
            (l0, m0), (l1, m1) = history[-2], history[-1]
            with np.errstate(invalid="ignore", divide="ignore"):
                slope = np.where(np.abs(l1 - l0) > 1e-9, (m1 - m0) / (l1 - l0), CALIBRATION_SLOPE)
            slope = np.where(slope < -1e-3, slope, CALIBRATION_SLOPE)
        logs = logs + np.clip((targets - means) / slope, -1.0, 1.0)
        truth = _with_b(st, b_table * np.exp(logs[labels]))
        full = _scored_map(box, truth, band, noise)
    return np.exp(logs), truth, full
