"""Local resolution from two half maps: a Fourier shell correlation in a sliding window.

Around each centre of a coarse grid (one every ``step`` Å) a cube of ``window`` Å is cut from both
half maps; its mean under a soft spherical mask (flat core, cosine edge) is removed and the mask
applied, the two windows are Fourier transformed and correlated shell by shell (shells one
``1/window`` wide), and the local resolution is where that FSC first drops below ``threshold``
(0.143 by default), interpolated linearly between shells. This is the windowed local FSC that
BlocRes computes; the windows are processed in batches through SciPy's FFT, and only the centres
needed are computed (those around the model's atoms, or inside a mask).

The result is a :class:`~qscore.io.maps.DensityMap` of resolutions in Å on the coarse grid, 0
where nothing was estimated, ready to be sampled at atoms like any local-resolution map.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.fft as sfft
from numpy.lib.stride_tricks import sliding_window_view

from qscore import defaults
from qscore.errors import ParameterError
from qscore.io.maps import DensityMap
from qscore.progress import Progress

__all__ = [
    "DEFAULT_STEP",
    "DEFAULT_THRESHOLD",
    "DEFAULT_WINDOW",
    "SlidingWindows",
    "check_half_maps",
    "crossing_resolution",
    "fsc_curve",
    "local_resolution_from_half_maps",
    "resolution_at",
]

#: Edge of the sliding window (Å): 5–7 times the resolution one expects to measure.
DEFAULT_WINDOW = defaults.LOCAL_FSC_WINDOW
#: Spacing (Å) of the centres at which the local FSC is computed.
DEFAULT_STEP = defaults.LOCAL_FSC_STEP
#: FSC threshold for half maps (Rosenthal & Henderson's 0.143).
DEFAULT_THRESHOLD = defaults.LOCAL_FSC_THRESHOLD
#: Fraction of the mask radius over which the soft edge falls from 1 to 0.
MASK_EDGE = 0.5
#: Windows transformed at once (bounded memory: about 100 MB per 1000 windows of 24³).
BATCH = 1024
_GRID_TOLERANCE = 1e-3


def _voxel_count(length: float, voxel: float, what: str, minimum: int) -> int:
    """``length`` Å in whole voxels (at least ``minimum``)."""
    if not (math.isfinite(length) and length > 0):
        raise ParameterError(f"The {what} must be a positive length in Å; got {length}.")
    return max(minimum, int(round(length / voxel)))


def check_half_maps(half1: DensityMap, half2: DensityMap) -> None:
    """Raise ParameterError unless the two half maps share one orthogonal grid.

    Raises
    ------
    ParameterError
        When the grids differ in size, voxel size or origin, or a cell is not orthogonal.
    """
    names = f"{half1.source or 'half map 1'} and {half2.source or 'half map 2'}"
    if half1.values.shape != half2.values.shape:
        a = "×".join(str(n) for n in half1.shape_xyz)
        b = "×".join(str(n) for n in half2.shape_xyz)
        raise ParameterError(
            f"The half maps {names} have different grids ({a} and {b} voxels); both halves of "
            "one reconstruction are needed, on the same grid."
        )
    if not np.allclose(half1.voxel_size, half2.voxel_size, rtol=_GRID_TOLERANCE, atol=0):
        raise ParameterError(
            f"The half maps {names} have different voxel sizes "
            f"({_xyz(half1.voxel_size)} and {_xyz(half2.voxel_size)} Å)."
        )
    shift = np.abs(half1.origin - half2.origin) / half1.voxel_size
    if np.any(shift > 0.01):
        raise ParameterError(
            f"The half maps {names} have different origins ({_xyz(half1.origin)} and "
            f"{_xyz(half2.origin)} Å); they must lie on the same grid."
        )
    if not (half1.is_orthogonal and half2.is_orthogonal):
        raise ParameterError(
            "Local resolution is estimated for maps with orthogonal cells (90° angles) only."
        )


def _xyz(values: np.ndarray) -> str:
    return ", ".join(f"{v:g}" for v in np.asarray(values, dtype=float))


def _soft_sphere(n: int) -> np.ndarray:
    """(n, n, n) float32 mask: 1 within half the radius n/2, a cosine edge to 0 at n/2."""
    c = n / 2.0
    r = np.sqrt(((np.indices((n, n, n)) - c) ** 2).sum(axis=0))
    radius = n / 2.0
    inner = radius * (1.0 - MASK_EDGE)
    t = np.clip((r - inner) / (radius - inner), 0.0, 1.0)
    return (0.5 * (1.0 + np.cos(np.pi * t))).astype(np.float32)


def _shells(shape_zyx: tuple[int, int, int], voxel: np.ndarray, length: float):
    """Shell index and Friedel weight of each rfft coefficient, and each shell's frequency.

    Shells are ``1/length`` Å⁻¹ wide; shell 0 is the origin. Returns (index, weight, freq) with
    index and weight flattened in the rfftn layout and ``freq`` (1/Å) per shell up to Nyquist.
    """
    nz, ny, nx = shape_zyx
    vx, vy, vz = (float(v) for v in voxel)
    fz = sfft.fftfreq(nz, d=vz)[:, None, None]
    fy = sfft.fftfreq(ny, d=vy)[None, :, None]
    fx = sfft.rfftfreq(nx, d=vx)[None, None, :]
    radius = np.sqrt(fz**2 + fy**2 + fx**2) * length
    index = np.rint(radius).astype(np.int64)
    weight = np.full(index.shape, 2.0)
    weight[..., 0] = 1.0
    if nx % 2 == 0:
        weight[..., -1] = 1.0
    nyquist = int(math.floor(min(nx * vx, ny * vy, nz * vz) / (2.0 * max(vx, vy, vz))))
    n_shells = max(2, min(nyquist, int(index.max())) + 1)
    weight[index >= n_shells] = 0.0
    index = np.minimum(index, n_shells - 1)
    freq = np.arange(n_shells) / length
    return index.ravel(), weight.ravel(), freq


def _shell_matrix(index: np.ndarray, weight: np.ndarray, n_shells: int) -> np.ndarray:
    """(2 × coefficients, shells) float32 matrix summing weighted products per shell.

    It acts on complex spectra viewed as interleaved (real, imaginary) float32 pairs, so that
    ``(a * b) @ matrix`` is the shell sum of Re(A·conj(B)).
    """
    matrix = np.zeros((2 * index.size, n_shells), dtype=np.float32)
    rows = 2 * np.arange(index.size)
    matrix[rows, index] = weight
    matrix[rows + 1, index] = weight
    return matrix


def crossing_resolution(fsc: np.ndarray, freq: np.ndarray, threshold: float) -> np.ndarray:
    """Resolution (Å) where each FSC curve (rows) first falls below ``threshold`` after shell 0
    and stays below at the next shell.

    Linear interpolation between the two shells around the crossing; a curve that never falls
    below gives the last shell's resolution, one below already at shell 1 gives shell 1's.
    """
    curves = fsc[:, 1:]
    f = freq[1:]
    below = curves < threshold
    # a crossing counts when the next shell stays below too (or it is the last shell), so that
    # one noisy shell does not end the curve early
    below[:, :-1] &= below[:, 1:]
    crosses = below.any(axis=1)
    first = np.where(crosses, below.argmax(axis=1), curves.shape[1] - 1)
    rows = np.arange(curves.shape[0])
    prev = np.maximum(first - 1, 0)
    hi, lo = curves[rows, prev], curves[rows, first]
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(hi > lo, (hi - threshold) / (hi - lo), 0.0)
    t = np.clip(np.nan_to_num(t), 0.0, 1.0)
    crossing = np.where(first > 0, f[prev] + t * (f[first] - f[prev]), f[first])
    crossing = np.where(crosses, crossing, f[-1])
    return 1.0 / crossing


def resolution_at(frequency: np.ndarray, fsc: np.ndarray, threshold: float) -> float:
    """Resolution (Å) at which one FSC curve first falls below ``threshold`` (see :func:`fsc_curve`).

    Parameters
    ----------
    frequency
        Shell frequencies in 1/Å, shell 0 first.
    fsc
        The FSC per shell.
    threshold
        The FSC value that defines the resolution (0.143 for half maps).

    Returns
    -------
    float
        Linearly interpolated between the shells around the crossing; the last shell's
        resolution when the curve never falls below ``threshold``.
    """
    curve = np.asarray(fsc, dtype=float)[None, :]
    return float(crossing_resolution(curve, np.asarray(frequency, dtype=float), threshold)[0])


def _fsc_from_sums(cross: np.ndarray, p1: np.ndarray, p2: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        fsc = cross / np.sqrt(p1 * p2)
    return np.nan_to_num(fsc, nan=0.0)


def fsc_curve(
    half1: DensityMap, half2: DensityMap, *, mask: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The FSC between two half maps over the whole box (optionally under a soft ``mask``).

    Parameters
    ----------
    half1, half2
        Half maps on the same orthogonal grid.
    mask
        Optional [z, y, x] weights (0–1) multiplied into both maps before the transform.

    Returns
    -------
    (frequency, fsc)
        Shell frequencies in 1/Å (one shell per ``1/box`` Å⁻¹, up to Nyquist) and the FSC.
    """
    check_half_maps(half1, half2)
    a = half1.values.astype(np.float64)
    b = half2.values.astype(np.float64)
    if mask is not None:
        weights = np.asarray(mask, dtype=np.float64)
        a = (a - np.average(a, weights=weights)) * weights
        b = (b - np.average(b, weights=weights)) * weights
    fa, fb = sfft.rfftn(a), sfft.rfftn(b)
    length = float(min(np.array(half1.shape_xyz) * half1.voxel_size))
    index, weight, freq = _shells(a.shape, half1.voxel_size, length)
    sums = [
        np.bincount(index, weights=weight * v.ravel(), minlength=freq.size)
        for v in (
            (fa * fb.conj()).real,
            np.abs(fa) ** 2,
            np.abs(fb) ** 2,
        )
    ]
    return freq, _fsc_from_sums(*sums)


def _centres(
    shape_xyz: np.ndarray,
    step: int,
    dmap: DensityMap,
    points: np.ndarray | None,
    mask: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """The coarse grid's size (x, y, z) and the (m, 3) coarse indices to compute."""
    coarse = (shape_xyz - 1) // step + 1
    if points is not None:
        g = dmap.index_of(np.asarray(points, dtype=float).reshape(-1, 3)) / step
        base = np.floor(g).astype(np.int64)
        corners = np.array([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)])
        idx = (base[:, None, :] + corners[None, :, :]).reshape(-1, 3)
        idx = idx[np.all((idx >= 0) & (idx < coarse), axis=1)]
        idx = np.unique(idx, axis=0)
    else:
        grids = np.meshgrid(*(np.arange(c) for c in coarse), indexing="ij")
        idx = np.stack([g.ravel() for g in grids], axis=1)
        if mask is not None:
            m = np.asarray(mask, dtype=bool)
            if m.shape != dmap.values.shape:
                raise ParameterError("The mask must have the half maps' grid size.")
            fine = idx * step
            idx = idx[m[fine[:, 2], fine[:, 1], fine[:, 0]]]
    return coarse, idx


class SlidingWindows:
    """Cubic windows of ``window`` Å with the soft spherical mask, cut from maps on one grid.

    ``shell_sums(a, b, centres)`` gives, per window centre (fine-grid indices, x, y, z), the
    shell sums of Re(A·conj(B)) of the masked, mean-removed windows of two [z, y, x] arrays;
    ``freq`` is each shell's frequency (1/Å) and ``counts`` its number of Fourier coefficients
    (Friedel-weighted). The estimator and the known-truth simulations share this one definition.
    """

    def __init__(self, voxel: np.ndarray, window: float, *, workers: int | None = None) -> None:
        self.voxel = np.asarray(voxel, dtype=float)
        mean_voxel = float(np.mean(self.voxel))
        n = _voxel_count(window, mean_voxel, "window", 8)
        self.n = n + n % 2
        self.length = self.n * mean_voxel
        index, weight, self.freq = _shells((self.n,) * 3, self.voxel, self.length)
        self.counts = np.bincount(index, weights=weight, minlength=self.freq.size)
        self.matrix = _shell_matrix(index, weight, self.freq.size)
        self.sphere = _soft_sphere(self.n)
        self._mean_weights = self.sphere.ravel() / float(self.sphere.sum())
        self.threads = workers or -1

    def view(self, values: np.ndarray) -> np.ndarray:
        """A zero-padded sliding-window view of ``values``: ``view[z, y, x]`` is the window
        centred on voxel (x, y, z)."""
        half = self.n // 2
        padded = np.pad(np.asarray(values, dtype=np.float32), [(half, half)] * 3)
        return sliding_window_view(padded, (self.n,) * 3)

    def boxes(self, view: np.ndarray, centres: np.ndarray) -> np.ndarray:
        """The (m, n, n, n) raw windows of ``view`` at ``centres`` (x, y, z voxel indices)."""
        return view[centres[:, 2], centres[:, 1], centres[:, 0]]

    def spectra(self, view: np.ndarray, centres: np.ndarray) -> np.ndarray:
        """(m, 2·coefficients) float32: the masked, mean-removed windows' spectra as
        interleaved (real, imaginary) pairs."""
        boxes = self.boxes(view, centres)
        boxes -= (boxes.reshape(len(centres), -1) @ self._mean_weights)[:, None, None, None]
        boxes *= self.sphere
        spectrum = sfft.rfftn(boxes, axes=(1, 2, 3), workers=self.threads)
        return spectrum.reshape(len(centres), -1).view(np.float32)

    def shell_sums(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Per window (rows), the shell sums of Re(A·conj(B)) of two :meth:`spectra` outputs."""
        return (a * b) @ self.matrix


def local_resolution_from_half_maps(
    half1: DensityMap,
    half2: DensityMap,
    *,
    window: float = DEFAULT_WINDOW,
    step: float = DEFAULT_STEP,
    threshold: float = DEFAULT_THRESHOLD,
    points: np.ndarray | None = None,
    mask: np.ndarray | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> DensityMap:
    """Estimate local resolution (Å) from two half maps with a sliding-window FSC.

    Parameters
    ----------
    half1, half2
        The two independent half maps, on one orthogonal grid.
    window
        Edge of the cubic window in Å (rounded to an even number of voxels, at least 8).
    step
        Spacing of the estimated centres in Å (rounded to whole voxels, at least 1).
    threshold
        FSC value that defines the resolution (0.143 for half maps).
    points
        Optional (n, 3) Cartesian points (e.g. atoms): only the centres needed to interpolate
        at these points are computed.
    mask
        Optional boolean [z, y, x] mask on the half maps' grid: only centres inside it are
        computed (ignored when ``points`` is given). Without either, every centre is.
    workers
        Threads for the FFTs (default: all cores).
    progress
        Optional callback ``(done, total, stage)``.

    Returns
    -------
    DensityMap
        Resolutions in Å on the coarse grid (voxel = step), 0 where not estimated.

    Raises
    ------
    ParameterError
        When the half maps do not share a grid, or a parameter is out of range.
    """
    check_half_maps(half1, half2)
    if not (math.isfinite(threshold) and 0.0 < threshold < 1.0):
        raise ParameterError(f"The FSC threshold must lie between 0 and 1; got {threshold}.")
    windows = SlidingWindows(half1.voxel_size, window, workers=workers)
    s = _voxel_count(step, float(np.mean(half1.voxel_size)), "step", 1)
    coarse, idx = _centres(np.array(half1.shape_xyz), s, half1, points, mask)
    values = np.zeros(tuple(coarse[::-1]), dtype=np.float32)
    report = progress or (lambda done, total, stage: None)
    views = [windows.view(h.values) for h in (half1, half2)]
    fine = idx * s
    result = np.empty(len(idx), dtype=np.float64)
    for start in range(0, len(idx), BATCH):
        chunk = fine[start : start + BATCH]
        f1, f2 = (windows.spectra(view, chunk) for view in views)
        sums = (windows.shell_sums(x, y) for x, y in ((f1, f2), (f1, f1), (f2, f2)))
        result[start : start + len(chunk)] = crossing_resolution(
            _fsc_from_sums(*sums), windows.freq, threshold
        )
        report(min(start + BATCH, len(idx)), len(idx), "Local FSC")
    values[idx[:, 2], idx[:, 1], idx[:, 0]] = result
    mean_voxel = float(np.mean(half1.voxel_size))
    return DensityMap(
        values=values,
        origin=half1.origin,
        voxel_size=half1.voxel_size * s,
        source="local resolution from half maps",
        notes=(
            f"Local resolution from the half maps {half1.source or '1'} and "
            f"{half2.source or '2'}: FSC {threshold:g} in a {windows.length:.3g} Å window "
            f"({windows.n} voxels, soft spherical mask) every {s * mean_voxel:.3g} Å.",
        ),
    )
