"""Per-atom Q-scores exactly as MapQ computes them (Pintilie et al. 2020; algorithm notes §2).

For each non-hydrogen atom, map values are sampled at the atom centre (counted 8 times) and on 20
shells of radius 0.1…2.0 Å. Each shell uses the points of a fixed spiral of 8, 10, …, 106 points
that no other non-hydrogen atom of the model comes strictly closer to than 0.9·R; the first try
with at least 8 such points is kept whole, and a shell with no such try is left out. Q is the
Pearson correlation of the samples with a Gaussian of width ``sigma``.

Two engines compute the same numbers: the compiled kernel (C with OpenMP,
``qscore/engine/_kernel.c``), which works atom by atom, so results do not depend on the number of
threads, and the NumPy reference (:mod:`qscore.engine.numpy_engine`), vectorized over atoms and
points. :func:`qscore.engine.choice.choose_engine` picks one (``QSCORE_ENGINE``, or the NumPy
engine when the kernel was not built); :func:`score` and :func:`atom_samples` take an ``engine``
argument that overrides it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from qscore import defaults
from qscore.engine import compiled, numpy_engine
from qscore.engine.choice import choose_engine
from qscore.engine.shells import (
    CENTRE_WEIGHT,
    REJECT_FACTOR,
    reference_values,
    shell_radii,
    spiral_points,
)
from qscore.engine.shells import RADII as _RADII
from qscore.engine.shells import UNIT as _UNIT
from qscore.engine.shells import UNIT_OFFSETS as _UNIT_OFFSETS
from qscore.errors import NoOverlapError, ParameterError
from qscore.io.maps import DensityMap, sample
from qscore.io.models import AtomModel

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

Progress = Callable[[int, int, str], None]

_CHUNK = 4096


def overall_q(q: np.ndarray, scored: np.ndarray) -> float:
    """The model's Q-score as MapQ reports it: the mean Q over the scored non-hydrogen atoms.

    This is the one definition of model Q: every face (dashboard, CLI, batch, figures) reads it
    through :attr:`ScoreResult.model_q` or
    :func:`qscore.analysis.aggregate.model_summary`, both of which call this function.

    Parameters
    ----------
    q : numpy.ndarray
        Per-atom Q aligned with the model; hydrogens may carry the Q copied from their heavy
        atom, atoms left out of the scoring are NaN.
    scored : numpy.ndarray
        Boolean mask of the atoms whose own Q counts: the non-hydrogen atoms.

    Returns
    -------
    float
        The mean of the finite Q values in ``scored``; NaN when there is none.
    """
    values = np.asarray(q, dtype=np.float64)[np.asarray(scored, dtype=bool)]
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else float("nan")


@dataclass(frozen=True)
class ScoreResult:
    """Per-atom Q aligned with the model (NaN where not scored) and how it was obtained.

    ``scored`` marks the atoms whose Q the engine computed (non-hydrogen atoms of the selection);
    hydrogens carry a copy of their heavy atom's Q and are not in it. ``engine`` names the engine
    that computed it: ``"compiled"`` or ``"numpy"``.
    """

    q: np.ndarray
    sigma: float
    mode: str
    seconds: float
    atoms_scored: int
    atoms_outside: int
    scored: np.ndarray
    notes: tuple[str, ...] = field(default=())
    engine: str = "compiled"

    @property
    def model_q(self) -> float:
        """Mean Q over the scored non-hydrogen atoms, as MapQ reports it (:func:`overall_q`)."""
        return overall_q(self.q, self.scored)


@dataclass(frozen=True)
class RadialSamples:
    """The exact samples the engine used for one atom (for the radial-profile explorer)."""

    index: int
    points: np.ndarray
    radius: np.ndarray
    values: np.ndarray
    reference: np.ndarray
    q: float


def _neighbour_lists(
    centres: np.ndarray, neighbours: np.ndarray, reach: float, threads: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR lists of the neighbours of each centre within ``reach``, sorted by distance.

    A neighbour at the centre's own position (the atom itself, or an exact duplicate) can never
    reject a point (it sits at exactly R) and is left out.
    """
    lib = compiled.load()
    n = len(centres)
    counts = np.zeros(n, dtype=np.int64)
    total = lib.qs_neighbour_counts(n, centres, len(neighbours), neighbours, reach, threads, counts)
    if total < 0:
        raise MemoryError("not enough memory for the neighbour lists")
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    idx = np.empty(max(total, 1), dtype=np.int64)
    dist = np.empty(max(total, 1), dtype=np.float64)
    if lib.qs_neighbour_lists(
        n, centres, len(neighbours), neighbours, reach, threads, offsets, idx, dist
    ):
        raise MemoryError("not enough memory for the neighbour lists")
    return offsets, idx, dist


def sample_points(
    dmap: DensityMap,
    points: np.ndarray,
    threads: int | None = None,
    *,
    engine: str | None = None,
) -> np.ndarray:
    """Trilinear map values at points (float32 precision, 0 outside), as the engines sample.

    Parameters
    ----------
    dmap : DensityMap
        The map.
    points : numpy.ndarray
        ``(n, 3)`` Cartesian points (Å).
    threads : int, optional
        Threads of the compiled kernel (default ``QSCORE_THREADS`` or the machine's cores).
    engine : str, optional
        ``"compiled"``, ``"numpy"`` or ``"auto"``; default ``QSCORE_ENGINE`` (auto).

    Returns
    -------
    numpy.ndarray
        ``(n,)`` float64 values, the same from both engines.
    """
    points = np.ascontiguousarray(points, dtype=np.float64).reshape(-1, 3)
    if choose_engine(engine) == "numpy":
        return sample(dmap, points).astype(np.float64)
    grid = np.ascontiguousarray(dmap.values, dtype=np.float32)
    out = np.empty(len(points))
    nz, ny, nx = grid.shape
    compiled.load().qs_sample(
        len(points),
        points,
        grid,
        nz,
        ny,
        nx,
        np.ascontiguousarray(dmap.origin, dtype=np.float64),
        np.ascontiguousarray(dmap.voxel_size, dtype=np.float64),
        np.ascontiguousarray(dmap.to_index, dtype=np.float64),
        threads or compiled.default_threads(),
        out,
    )
    return out


def resample_to_aligned_lattice(
    dmap: DensityMap, lo: np.ndarray, hi: np.ndarray, *, engine: str | None = None
) -> DensityMap:
    """The map re-interpolated on nodes at integer multiples of the voxel size (MapQ multi-process).

    MapQ's multi-process path writes each worker a sub-map whose origin is rounded to a multiple
    of the voxel size and whose values are trilinear samples of the original map (0 outside it).
    The box [lo, hi] (Å) is widened to whole voxels; the result is the same for any slab split
    and for either ``engine`` (see :func:`sample_points`).
    """
    engine = choose_engine(engine)
    step = np.asarray(dmap.voxel_size, dtype=np.float64)
    first = np.floor(lo / step).astype(np.int64)
    last = np.ceil(hi / step).astype(np.int64)
    axes = [(np.arange(first[a], last[a] + 1) * step[a]) for a in range(3)]
    values = np.empty((len(axes[2]), len(axes[1]), len(axes[0])), dtype=np.float32)
    xs, ys = np.meshgrid(axes[0], axes[1], indexing="xy")
    plane = np.empty((xs.size, 3))
    plane[:, 0] = xs.ravel()
    plane[:, 1] = ys.ravel()
    for iz, z in enumerate(axes[2]):
        plane[:, 2] = z
        values[iz] = sample_points(dmap, plane, engine=engine).reshape(xs.shape)
    return DensityMap(
        values=values,
        origin=first * step,
        voxel_size=step.copy(),
        source=dmap.source,
        notes=(*dmap.notes, "Resampled on a voxel-aligned lattice (MapQ multi-process)."),
    )


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
    """Everything an engine needs for a set of scored atoms (neighbour lists: compiled only)."""

    engine: str
    scored: np.ndarray
    centres: np.ndarray
    nb_xyz: np.ndarray
    nb_xyz32: np.ndarray
    single_precision_check: bool
    nb_offsets: np.ndarray | None
    nb_idx: np.ndarray | None
    nb_dist: np.ndarray | None
    dmap: DensityMap
    grid: np.ndarray
    gvals: np.ndarray
    threads: int


def _prepare(
    dmap: DensityMap,
    model: AtomModel,
    sigma: float,
    mode: str,
    selection: np.ndarray | None,
    threads: int | None,
    engine: str,
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
    threads = threads or compiled.default_threads()
    nb_offsets = nb_idx = nb_dist = None
    if engine == "compiled":
        reach = (1.0 + REJECT_FACTOR) * float(_RADII[-1]) + 1e-3
        nb_offsets, nb_idx, nb_dist = _neighbour_lists(centres, nb_xyz, reach, threads)
    if mode == "mapq-multiprocess":
        margin = defaults.CROP_MARGIN
        dmap = resample_to_aligned_lattice(
            dmap, centres.min(axis=0) - margin, centres.max(axis=0) + margin, engine=engine
        )
    return _Prepared(
        engine=engine,
        scored=scored,
        centres=centres,
        nb_xyz=nb_xyz,
        nb_xyz32=nb_xyz.astype(np.float32).astype(np.float64),
        single_precision_check=mode == "direct",
        nb_offsets=nb_offsets,
        nb_idx=nb_idx,
        nb_dist=nb_dist,
        dmap=dmap,
        grid=np.ascontiguousarray(dmap.values, dtype=np.float32),
        gvals=reference_values(sigma),
        threads=threads,
    )


def score(
    dmap: DensityMap,
    model: AtomModel,
    *,
    sigma: float = defaults.SIGMA,
    mode: str = defaults.MODE,
    selection: np.ndarray | None = None,
    progress: Progress | None = None,
    threads: int | None = None,
    engine: str | None = None,
) -> ScoreResult:
    """Per-atom Q-scores of ``model`` in ``dmap``.

    Parameters
    ----------
    dmap : DensityMap
        The map.
    model : AtomModel
        The model; every non-hydrogen atom is a neighbour, as in MapQ.
    sigma : float
        Width of the reference Gaussian (Å).
    mode : str
        ``"direct"`` (MapQ's single-process path) or ``"mapq-multiprocess"``.
    selection : numpy.ndarray, optional
        Indices or a boolean mask of the atoms to score (default: all).
    progress : callable, optional
        Called as ``progress(done, total, stage)``.
    threads : int, optional
        Threads of the compiled kernel (``QSCORE_THREADS`` or the machine's cores); it never
        changes the result, and the NumPy engine ignores it.
    engine : str, optional
        ``"compiled"``, ``"numpy"`` or ``"auto"``; default ``QSCORE_ENGINE`` (auto: the compiled
        kernel if it was built, else the NumPy engine). Both give the same numbers.

    Returns
    -------
    ScoreResult
        Per-atom Q aligned with the model (NaN where not scored; hydrogens take the Q of the
        heavy atom they are bonded to), and the engine that computed it.

    Raises
    ------
    ParameterError
        For a bad sigma, mode or an empty selection.
    NoOverlapError
        When no scored atom lies in the map.
    EngineError
        For an unknown engine, or ``compiled`` when the kernel was not built.
    """
    _check(sigma, mode)
    chosen = choose_engine(engine)
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
    prep = _prepare(dmap, model, sigma, mode, selection, threads, chosen)
    total = len(prep.scored)
    if progress:
        progress(0, total, "scoring atoms")
    if chosen == "numpy":
        q_scored = numpy_engine.q_scores(
            prep.dmap,
            prep.centres,
            prep.nb_xyz,
            prep.gvals,
            single_precision_check=prep.single_precision_check,
            progress=progress,
        )
    else:
        q_scored = np.empty(total)
        for lo in range(0, total, _CHUNK):
            hi = min(lo + _CHUNK, total)
            _run_kernel(prep, lo, hi, q_scored[lo:hi])
            if progress:
                progress(hi, total, "scoring atoms")
    q = np.full(model.n_atoms, np.nan)
    q[prep.scored] = q_scored
    _copy_to_hydrogens(model, q)
    scored = np.zeros(model.n_atoms, dtype=bool)
    scored[prep.scored] = True
    return ScoreResult(
        q=q,
        sigma=float(sigma),
        mode=mode,
        seconds=time.perf_counter() - start,
        atoms_scored=total,
        atoms_outside=outside,
        scored=scored,
        notes=(*model.notes, *dmap.notes, *notes),
        engine=chosen,
    )


def _run_kernel(prep: _Prepared, lo: int, hi: int, out: np.ndarray) -> None:
    """Q of scored atoms ``lo:hi`` into ``out`` (a contiguous float64 view)."""
    offsets = prep.nb_offsets[lo : hi + 1]
    first, last = int(offsets[0]), int(offsets[-1])
    nz, ny, nx = prep.grid.shape
    result = np.empty(hi - lo)
    status = compiled.load().qs_score(
        hi - lo,
        prep.centres[lo:hi],
        prep.nb_xyz,
        prep.nb_xyz32,
        int(prep.single_precision_check),
        np.ascontiguousarray(offsets - first),
        prep.nb_idx[first:last] if last > first else prep.nb_idx[:1],
        prep.nb_dist[first:last] if last > first else prep.nb_dist[:1],
        prep.grid,
        nz,
        ny,
        nx,
        np.ascontiguousarray(prep.dmap.origin, dtype=np.float64),
        np.ascontiguousarray(prep.dmap.voxel_size, dtype=np.float64),
        np.ascontiguousarray(prep.dmap.to_index, dtype=np.float64),
        len(_RADII),
        _RADII,
        prep.gvals,
        _UNIT,
        _UNIT_OFFSETS,
        len(_UNIT_OFFSETS) - 1,
        prep.threads,
        result,
    )
    if status:
        raise MemoryError("not enough memory to score the atoms")
    out[:] = result


def _pearson(d: np.ndarray, g: np.ndarray) -> float:
    """Chimera's one-pass correlation about the mean, as the engines compute it; 0 if undefined."""
    sums = (d.sum(), np.dot(d, d), g.sum(), np.dot(g, g), np.dot(d, g))
    return float(numpy_engine.correlation_from_sums(np.float64(len(d)), *sums))


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


def _shells_of_one_atom(prep: _Prepared) -> list[np.ndarray]:
    """The accepted points of every shell of the one prepared atom, from the chosen engine."""
    if prep.engine == "numpy":
        near = numpy_engine.find_neighbours(
            prep.centres, prep.nb_xyz, single_precision_check=prep.single_precision_check
        )
        shells = [numpy_engine.shell_points(prep.centres, float(r), near) for r in _RADII]
        return [points[0, : count[0]] for points, count in shells]
    lib = compiled.load()
    c = prep.centres[0]
    buf = np.empty((_UNIT.shape[0], 3))
    shells = []
    for r in _RADII:
        count = lib.qs_shell_points(
            c, r, prep.nb_xyz, prep.nb_xyz32, int(prep.single_precision_check),
            prep.nb_idx, prep.nb_dist, len(prep.nb_idx) if prep.nb_offsets[-1] else 0,
            _UNIT, _UNIT_OFFSETS, len(_UNIT_OFFSETS) - 1, buf,
        )  # fmt: skip
        shells.append(buf[:count].copy())
    return shells


def atom_samples(
    dmap: DensityMap,
    model: AtomModel,
    index: int,
    *,
    sigma: float = defaults.SIGMA,
    mode: str = defaults.MODE,
    engine: str | None = None,
) -> RadialSamples:
    """The points, radii and map values the engine uses for atom ``index``, and its Q.

    Parameters
    ----------
    dmap : DensityMap
        The map.
    model : AtomModel
        The model (every non-hydrogen atom is a neighbour).
    index : int
        The atom, a heavy atom of ``model``.
    sigma : float
        Width of the reference Gaussian (Å).
    mode : str
        ``"direct"`` or ``"mapq-multiprocess"``.
    engine : str, optional
        As for :func:`score`; both engines give the same samples.

    Returns
    -------
    RadialSamples
        The centre 8 times and every accepted shell point, their radii, map and reference values.

    Raises
    ------
    ParameterError
        For a bad sigma or mode, or a hydrogen atom.
    """
    _check(sigma, mode)
    if model.is_hydrogen[index]:
        raise ParameterError("Hydrogen atoms are not scored; pick a heavy atom.")
    chosen = choose_engine(engine)
    prep = _prepare(dmap, model, sigma, mode, np.array([index]), None, chosen)
    c = prep.centres[0]
    points = [c[None, :].repeat(CENTRE_WEIGHT, axis=0)]
    radius = [np.zeros(CENTRE_WEIGHT)]
    for r, shell in zip(_RADII, _shells_of_one_atom(prep), strict=True):
        points.append(shell)
        radius.append(np.full(len(shell), r))
    pts = np.concatenate(points)
    rad = np.concatenate(radius)
    values = sample_points(prep.dmap, pts, engine=chosen)
    reference = np.exp(-0.5 * (rad / sigma) ** 2)
    q = _pearson(values, reference)
    return RadialSamples(
        index=index, points=pts, radius=rad, values=values, reference=reference, q=float(q)
    )
