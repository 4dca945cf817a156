"""Per-atom Q-scores exactly as MapQ computes them (Pintilie et al. 2020; algorithm notes §2).

For each non-hydrogen atom, map values are sampled at the atom centre (counted 8 times) and on 20
shells of radius 0.1…2.0 Å. Each shell uses the points of a fixed spiral of 8, 10, …, 106 points
that no other non-hydrogen atom of the model comes strictly closer to than 0.9·R; the first try
with at least 8 such points is kept whole, and a shell with no such try is left out. Q is the
Pearson correlation of the samples with a Gaussian of width ``sigma``.

The compiled kernel (numba, cached on disk) works atom by atom, so results do not depend on the
number of threads.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numba
import numpy as np
from scipy.spatial import cKDTree

from qscore import defaults
from qscore.errors import NoOverlapError, ParameterError
from qscore.maps import DensityMap
from qscore.models import AtomModel

Progress = Callable[[int, int, str], None]

#: Number of spiral points of each try (8, 10, …, 106) and the minimum accepted per shell.
MIN_POINTS = 8
N_TRIES = 50
CENTRE_WEIGHT = 8
#: Rejection radius as a fraction of the shell radius.
REJECT_FACTOR = 0.9
_CHUNK = 4096


def shell_radii(step: float = 0.1, to_radius: float = 2.0) -> np.ndarray:
    """Shell radii built by repeated addition, as MapQ does (0.1, 0.2, 0.30000000000000004, …)."""
    radii = []
    r = step
    while r < to_radius + 0.001:
        radii.append(r)
        r += step
    return np.array(radii)


def spiral_points(n: int) -> np.ndarray:
    """MapQ's deterministic spiral of ``n`` unit vectors from the −z to the +z pole."""
    k = np.arange(1, n + 1)
    h = -1.0 + 2.0 * (k - 1) / (n - 1)
    phi = np.arccos(h)
    theta = np.zeros(n)
    for i in range(1, n - 1):
        theta[i] = (theta[i - 1] + 3.6 / np.sqrt(n * (1.0 - h[i] * h[i]))) % (2.0 * np.pi)
    return np.stack([np.sin(phi) * np.cos(theta), np.sin(phi) * np.sin(theta), np.cos(phi)], axis=1)


def _spiral_table() -> tuple[np.ndarray, np.ndarray]:
    """All 50 spirals concatenated, with the start offset of each."""
    sets = [spiral_points(MIN_POINTS + 2 * i) for i in range(N_TRIES)]
    offsets = np.cumsum([0] + [len(s) for s in sets]).astype(np.int64)
    return np.ascontiguousarray(np.concatenate(sets)), offsets


_UNIT, _UNIT_OFFSETS = _spiral_table()
_RADII = shell_radii()


@dataclass(frozen=True)
class ScoreResult:
    """Per-atom Q aligned with the model (NaN where not scored) and how it was obtained."""

    q: np.ndarray
    sigma: float
    mode: str
    seconds: float
    atoms_scored: int
    atoms_outside: int
    notes: tuple[str, ...] = field(default=())

    @property
    def model_q(self) -> float:
        """Mean Q over every scored atom, as MapQ reports it."""
        return float(np.nanmean(self.q)) if self.atoms_scored else float("nan")


@dataclass(frozen=True)
class RadialSamples:
    """The exact samples the engine used for one atom (for the radial-profile explorer)."""

    index: int
    points: np.ndarray
    radius: np.ndarray
    values: np.ndarray
    reference: np.ndarray
    q: float


@numba.njit(cache=True, inline="always")
def _trilinear(grid, origin, voxel, x, y, z):
    """Trilinear value at a Cartesian point; 0 outside [0, n−1] on any axis."""
    nz, ny, nx = grid.shape
    fx = (x - origin[0]) / voxel[0]
    fy = (y - origin[1]) / voxel[1]
    fz = (z - origin[2]) / voxel[2]
    if not (0.0 <= fx <= nx - 1 and 0.0 <= fy <= ny - 1 and 0.0 <= fz <= nz - 1):
        return 0.0
    ix = min(int(fx), max(nx - 2, 0))
    iy = min(int(fy), max(ny - 2, 0))
    iz = min(int(fz), max(nz - 2, 0))
    tx = fx - ix
    ty = fy - iy
    tz = fz - iz
    jx = min(ix + 1, nx - 1)
    jy = min(iy + 1, ny - 1)
    jz = min(iz + 1, nz - 1)
    c00 = grid[iz, iy, ix] * (1.0 - tx) + grid[iz, iy, jx] * tx
    c01 = grid[iz, jy, ix] * (1.0 - tx) + grid[iz, jy, jx] * tx
    c10 = grid[jz, iy, ix] * (1.0 - tx) + grid[jz, iy, jx] * tx
    c11 = grid[jz, jy, ix] * (1.0 - tx) + grid[jz, jy, jx] * tx
    c0 = c00 * (1.0 - ty) + c01 * ty
    c1 = c10 * (1.0 - ty) + c11 * ty
    return c0 * (1.0 - tz) + c1 * tz


@numba.njit(cache=True)
def _shell_points(
    cx,
    cy,
    cz,
    radius,
    nb_xyz,
    nb_xyz32,
    single_precision_check,
    nb_idx,
    nb_dist,
    lo,
    hi,
    unit,
    offsets,
    out,
):
    """Accepted points of one shell written to ``out``; returns their count (0 = shell dropped).

    A spiral point is rejected when a neighbour lies strictly within 0.9·R of it. Only neighbours
    closer than 1.9·R to the centre can do that, and the list is sorted by distance. MapQ's
    single-process path finds neighbours in a search structure built on float32 coordinates and
    then checks the distance in float64, so there a neighbour rejects a point only when both
    agree (``single_precision_check``); this decides a few ties at the 10⁻⁶ Å level.
    """
    limit2 = (REJECT_FACTOR * radius) ** 2
    end = lo
    reach = (1.0 + REJECT_FACTOR) * radius + 1e-6
    while end < hi and nb_dist[end] < reach:
        end += 1
    for t in range(offsets.shape[0] - 1):
        count = 0
        for k in range(offsets[t], offsets[t + 1]):
            px = cx + radius * unit[k, 0]
            py = cy + radius * unit[k, 1]
            pz = cz + radius * unit[k, 2]
            ok = True
            for j in range(lo, end):
                a = nb_idx[j]
                dx = px - nb_xyz[a, 0]
                dy = py - nb_xyz[a, 1]
                dz = pz - nb_xyz[a, 2]
                if dx * dx + dy * dy + dz * dz < limit2:
                    if single_precision_check:
                        dx = px - nb_xyz32[a, 0]
                        dy = py - nb_xyz32[a, 1]
                        dz = pz - nb_xyz32[a, 2]
                        if not dx * dx + dy * dy + dz * dz < limit2:
                            continue
                    ok = False
                    break
            if ok:
                out[count, 0] = px
                out[count, 1] = py
                out[count, 2] = pz
                count += 1
        if count >= MIN_POINTS:
            return count
    return 0


@numba.njit(cache=True)
def _pearson(n, sd, sdd, sg, sgg, sdg):
    """Chimera's one-pass correlation about the mean; 0 when undefined."""
    md = sd / n
    mg = sg / n
    prod = (sdd - n * md * md) * (sgg - n * mg * mg)
    if prod < 0.0:
        prod = 0.0
    root = np.sqrt(prod)
    if not root > 0.0:
        return 0.0
    return (sdg - n * md * mg) / root


@numba.njit(cache=True, parallel=True)
def _score_kernel(
    centres,
    nb_xyz,
    nb_xyz32,
    single_precision_check,
    nb_offsets,
    nb_idx,
    nb_dist,
    grid,
    origin,
    voxel,
    radii,
    gvals,
    unit,
    offsets,
):
    """Q of each centre (atoms are independent, so threads never change results).

    Map values are rounded to float32 as Chimera's interpolation returns them.
    """
    m = centres.shape[0]
    q = np.zeros(m)
    for i in numba.prange(m):
        cx = centres[i, 0]
        cy = centres[i, 1]
        cz = centres[i, 2]
        buf = np.empty((unit.shape[0], 3))
        d0 = np.float64(np.float32(_trilinear(grid, origin, voxel, cx, cy, cz)))
        n = float(CENTRE_WEIGHT)
        sd = n * d0
        sdd = n * d0 * d0
        sg = n
        sgg = n
        sdg = n * d0
        lo = nb_offsets[i]
        hi = nb_offsets[i + 1]
        for s in range(radii.shape[0]):
            count = _shell_points(
                cx,
                cy,
                cz,
                radii[s],
                nb_xyz,
                nb_xyz32,
                single_precision_check,
                nb_idx,
                nb_dist,
                lo,
                hi,
                unit,
                offsets,
                buf,
            )
            g = gvals[s]
            for k in range(count):
                d = np.float64(
                    np.float32(_trilinear(grid, origin, voxel, buf[k, 0], buf[k, 1], buf[k, 2]))
                )
                sd += d
                sdd += d * d
                sg += g
                sgg += g * g
                sdg += d * g
            n += count
        q[i] = _pearson(n, sd, sdd, sg, sgg, sdg)
    return q


def _neighbour_lists(
    centres: np.ndarray, neighbours: np.ndarray, reach: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR lists of the neighbours of each centre within ``reach``, sorted by distance.

    A neighbour at the centre's own position (the atom itself, or an exact duplicate) can never
    reject a point (it sits at exactly R) and is left out.
    """
    tree = cKDTree(neighbours)
    pairs = cKDTree(centres).sparse_distance_matrix(tree, reach, output_type="ndarray")
    keep = pairs["v"] > 1e-9
    i, j, d = pairs["i"][keep], pairs["j"][keep], pairs["v"][keep]
    order = np.lexsort((d, i))
    i, j, d = i[order], j[order], d[order]
    offsets = np.zeros(len(centres) + 1, dtype=np.int64)
    np.cumsum(np.bincount(i, minlength=len(centres)), out=offsets[1:])
    return offsets, j.astype(np.int64), d.astype(np.float64)


def resample_to_aligned_lattice(dmap: DensityMap, lo: np.ndarray, hi: np.ndarray) -> DensityMap:
    """The map re-interpolated on nodes at integer multiples of the voxel size (MapQ multi-process).

    MapQ's multi-process path writes each worker a sub-map whose origin is rounded to a multiple
    of the voxel size and whose values are trilinear samples of the original map (0 outside it).
    The box [lo, hi] (Å) is widened to whole voxels; the result is the same for any slab split.
    """
    step = np.asarray(dmap.voxel_size, dtype=np.float64)
    first = np.floor(lo / step).astype(np.int64)
    last = np.ceil(hi / step).astype(np.int64)
    axes = [(np.arange(first[a], last[a] + 1) * step[a]) for a in range(3)]
    values = np.empty((len(axes[2]), len(axes[1]), len(axes[0])), dtype=np.float32)
    grid = np.ascontiguousarray(dmap.values, dtype=np.float32)
    origin = np.asarray(dmap.origin, dtype=np.float64)
    xs, ys = np.meshgrid(axes[0], axes[1], indexing="xy")
    plane = np.empty((xs.size, 3))
    plane[:, 0] = xs.ravel()
    plane[:, 1] = ys.ravel()
    for iz, z in enumerate(axes[2]):
        plane[:, 2] = z
        values[iz] = _sample_points(grid, origin, step, plane).reshape(xs.shape)
    return DensityMap(
        values=values,
        origin=first * step,
        voxel_size=step.copy(),
        source=dmap.source,
        notes=(*dmap.notes, "Resampled on a voxel-aligned lattice (MapQ multi-process)."),
    )


@numba.njit(cache=True, parallel=True)
def _sample_points(grid, origin, voxel, points):
    """Trilinear values at many points (float32, 0 outside)."""
    out = np.empty(points.shape[0], dtype=np.float32)
    for i in numba.prange(points.shape[0]):
        out[i] = _trilinear(grid, origin, voxel, points[i, 0], points[i, 1], points[i, 2])
    return out


def _check(sigma: float, mode: str) -> None:
    """Validate the parameters with sentences a user can act on."""
    if not np.isfinite(sigma) or sigma <= 0:
        raise ParameterError(f"sigma must be a positive width in Å (got {sigma}); EMDB uses 0.4.")
    if mode not in defaults.MODES:
        raise ParameterError(
            f"Unknown sampling mode {mode!r}; use one of {', '.join(defaults.MODES)}."
        )


def _inside(dmap: DensityMap, xyz: np.ndarray) -> np.ndarray:
    """Mask of points inside the map's box."""
    lo = np.asarray(dmap.origin)
    shape_xyz = np.array(dmap.values.shape[::-1])
    hi = lo + (shape_xyz - 1) * np.asarray(dmap.voxel_size)
    return np.all((xyz >= lo) & (xyz <= hi), axis=1)


@dataclass(frozen=True)
class _Prepared:
    """Everything the kernel needs for a set of scored atoms."""

    scored: np.ndarray
    centres: np.ndarray
    nb_xyz: np.ndarray
    nb_xyz32: np.ndarray
    single_precision_check: bool
    nb_offsets: np.ndarray
    nb_idx: np.ndarray
    nb_dist: np.ndarray
    grid: np.ndarray
    origin: np.ndarray
    voxel: np.ndarray
    gvals: np.ndarray


def _prepare(
    dmap: DensityMap, model: AtomModel, sigma: float, mode: str, selection: np.ndarray | None
) -> _Prepared:
    """Neighbour lists, the (possibly resampled) grid and the reference Gaussian."""
    heavy = model.heavy
    scored_mask = heavy.copy()
    if selection is not None:
        sel = np.asarray(selection)
        sel_mask = np.zeros(model.n_atoms, dtype=bool)
        sel_mask[sel] = True
        scored_mask &= sel_mask
    scored = np.flatnonzero(scored_mask)
    nb_xyz = np.ascontiguousarray(model.xyz[heavy], dtype=np.float64)
    centres = np.ascontiguousarray(model.xyz[scored], dtype=np.float64)
    reach = (1.0 + REJECT_FACTOR) * float(_RADII[-1]) + 1e-3
    nb_offsets, nb_idx, nb_dist = _neighbour_lists(centres, nb_xyz, reach)
    if mode == "mapq-multiprocess":
        margin = defaults.CROP_MARGIN
        dmap = resample_to_aligned_lattice(
            dmap, centres.min(axis=0) - margin, centres.max(axis=0) + margin
        )
    gvals = np.exp(-0.5 * (_RADII / sigma) ** 2)
    return _Prepared(
        scored=scored,
        centres=centres,
        nb_xyz=nb_xyz,
        nb_xyz32=nb_xyz.astype(np.float32).astype(np.float64),
        single_precision_check=mode == "direct",
        nb_offsets=nb_offsets,
        nb_idx=nb_idx,
        nb_dist=nb_dist,
        grid=np.ascontiguousarray(dmap.values, dtype=np.float32),
        origin=np.asarray(dmap.origin, dtype=np.float64),
        voxel=np.asarray(dmap.voxel_size, dtype=np.float64),
        gvals=gvals,
    )


def score(
    dmap: DensityMap,
    model: AtomModel,
    *,
    sigma: float = defaults.SIGMA,
    mode: str = defaults.MODE,
    selection: np.ndarray | None = None,
    progress: Progress | None = None,
) -> ScoreResult:
    """Per-atom Q-scores of ``model`` in ``dmap``.

    ``selection`` (indices or a boolean mask) limits which atoms are scored; every non-hydrogen
    atom of the model still acts as a neighbour, as in MapQ. Hydrogens take the Q of the heavy
    atom they are bonded to. Raises :class:`NoOverlapError` when no scored atom lies in the map.
    """
    _check(sigma, mode)
    start = time.perf_counter()
    if selection is not None and np.asarray(selection).dtype == bool:
        selection = np.flatnonzero(selection)
    heavy_selected = (
        model.heavy
        if selection is None
        else np.isin(np.arange(model.n_atoms), selection) & model.heavy
    )
    inside = _inside(dmap, model.xyz)
    outside = int(np.count_nonzero(heavy_selected & ~inside))
    n_selected = int(np.count_nonzero(heavy_selected))
    if n_selected == 0:
        raise ParameterError("The selection holds no non-hydrogen atoms to score.")
    if outside == n_selected:
        raise NoOverlapError(_no_overlap_sentence(dmap, model))
    notes = []
    if outside:
        notes.append(
            f"{outside} of {n_selected} atoms lie outside the map; their samples outside the "
            "map count as 0, so their Q-scores are unreliable."
        )
    prep = _prepare(dmap, model, sigma, mode, selection)
    q_scored = np.empty(len(prep.scored))
    total = len(prep.scored)
    if progress:
        progress(0, total, "scoring atoms")
    for lo in range(0, total, _CHUNK):
        hi = min(lo + _CHUNK, total)
        nb_offsets = prep.nb_offsets[lo : hi + 1]
        q_scored[lo:hi] = _score_kernel(
            prep.centres[lo:hi],
            prep.nb_xyz,
            prep.nb_xyz32,
            prep.single_precision_check,
            nb_offsets - nb_offsets[0],
            prep.nb_idx[nb_offsets[0] : nb_offsets[-1]],
            prep.nb_dist[nb_offsets[0] : nb_offsets[-1]],
            prep.grid,
            prep.origin,
            prep.voxel,
            _RADII,
            prep.gvals,
            _UNIT,
            _UNIT_OFFSETS,
        )
        if progress:
            progress(hi, total, "scoring atoms")
    q = np.full(model.n_atoms, np.nan)
    q[prep.scored] = q_scored
    _copy_to_hydrogens(model, q)
    return ScoreResult(
        q=q,
        sigma=float(sigma),
        mode=mode,
        seconds=time.perf_counter() - start,
        atoms_scored=total,
        atoms_outside=outside,
        notes=(*model.notes, *dmap.notes, *notes),
    )


def _copy_to_hydrogens(model: AtomModel, q: np.ndarray) -> None:
    """Hydrogens take the Q of the heavy atom they are bonded to (in place)."""
    h = np.flatnonzero(model.is_hydrogen & (model.hydrogen_parent >= 0))
    q[h] = q[model.hydrogen_parent[h]]


def _no_overlap_sentence(dmap: DensityMap, model: AtomModel) -> str:
    """Say where the map and the model are, so the user sees which one is off."""
    lo = np.asarray(dmap.origin)
    hi = lo + (np.array(dmap.values.shape[::-1]) - 1) * np.asarray(dmap.voxel_size)
    mlo, mhi = model.xyz.min(axis=0), model.xyz.max(axis=0)

    def fmt(a: np.ndarray) -> str:
        return "(" + ", ".join(f"{v:.1f}" for v in a) + ")"

    return (
        "The model lies entirely outside the map: the map spans "
        f"{fmt(lo)} to {fmt(hi)} Å but the model spans {fmt(mlo)} to {fmt(mhi)} Å. "
        "Check that the map and the model belong together and share one coordinate frame."
    )


def atom_samples(
    dmap: DensityMap,
    model: AtomModel,
    index: int,
    *,
    sigma: float = defaults.SIGMA,
    mode: str = defaults.MODE,
) -> RadialSamples:
    """The points, radii and map values the engine uses for atom ``index``, and its Q."""
    _check(sigma, mode)
    if model.is_hydrogen[index]:
        raise ParameterError("Hydrogen atoms are not scored; pick a heavy atom.")
    prep = _prepare(dmap, model, sigma, mode, np.array([index]))
    c = prep.centres[0]
    buf = np.empty((_UNIT.shape[0], 3))
    points = [c[None, :].repeat(CENTRE_WEIGHT, axis=0)]
    radius = [np.zeros(CENTRE_WEIGHT)]
    for r in _RADII:
        count = _shell_points(
            c[0],
            c[1],
            c[2],
            r,
            prep.nb_xyz,
            prep.nb_xyz32,
            prep.single_precision_check,
            prep.nb_idx,
            prep.nb_dist,
            0,
            len(prep.nb_idx),
            _UNIT,
            _UNIT_OFFSETS,
            buf,
        )
        points.append(buf[:count].copy())
        radius.append(np.full(count, r))
    pts = np.concatenate(points)
    rad = np.concatenate(radius)
    values = _sample_points(prep.grid, prep.origin, prep.voxel, pts).astype(np.float64)
    reference = np.exp(-0.5 * (rad / sigma) ** 2)
    q = _pearson(
        float(len(values)),
        values.sum(),
        (values * values).sum(),
        reference.sum(),
        (reference * reference).sum(),
        (values * reference).sum(),
    )
    return RadialSamples(
        index=index, points=pts, radius=rad, values=values, reference=reference, q=float(q)
    )
