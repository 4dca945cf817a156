"""Per-atom Q-scores exactly as MapQ computes them (Pintilie et al. 2020; algorithm notes §2).

For each non-hydrogen atom, map values are sampled at the atom centre (counted 8 times) and on 20
shells of radius 0.1…2.0 Å. Each shell uses the points of a fixed spiral of 8, 10, …, 106 points
that no other non-hydrogen atom of the model comes strictly closer to than 0.9·R; the first try
with at least 8 such points is kept whole, and a shell with no such try is left out. Q is the
Pearson correlation of the samples with a Gaussian of width ``sigma``.

The compiled kernel (a C extension, ``qscore/engine/_kernel.c``, parallel with OpenMP where the
compiler has it) works atom by atom, so results do not depend on the number of threads. Atoms are
scored in chunks: each chunk's neighbour lists are built from one cell index of the whole model,
used and dropped, so memory stays linear in the atoms with a small constant.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from qscore import defaults
from qscore.engine import compiled
from qscore.engine.correlation import pearson
from qscore.engine.packing import check_packing
from qscore.errors import DenseModelError, NoOverlapError, ParameterError
from qscore.io.maps import DensityMap, inside_map, outside_message
from qscore.io.models import AtomModel
from qscore.progress import Progress

#: Number of spiral points of each try (8, 10, …, 106) and the minimum accepted per shell.
MIN_POINTS = 8
N_TRIES = 50
CENTRE_WEIGHT = 8
#: Rejection radius as a fraction of the shell radius.
REJECT_FACTOR = 0.9
#: Atoms scored per call of the kernel (their neighbour lists exist only for that call).
_CHUNK = 8192
#: Neighbours kept per atom: the nearest ones within reach. A folded protein has at most about
#: 25 heavy atoms within 3.8 Å of any atom, so this only binds in unphysically dense models.
NEIGHBOUR_LIMIT = 128
#: Refuse a model whose atoms would each need more than this many distance tests on average to
#: find their neighbours (about 75 in a folded protein): the work would grow as atoms².
CANDIDATE_LIMIT = 4096


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
    hydrogens carry a copy of their heavy atom's Q and are not in it.
    """

    q: np.ndarray
    sigma: float
    mode: str
    seconds: float
    atoms_scored: int
    atoms_outside: int
    scored: np.ndarray
    notes: tuple[str, ...] = field(default=())
    #: Seconds spent per stage ("neighbour lists", "scoring").
    timings: dict[str, float] = field(default_factory=dict, compare=False)

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


def _reach() -> float:
    """Distance within which an atom can reject a point of the largest shell (1.9·R), plus room."""
    return (1.0 + REJECT_FACTOR) * float(_RADII[-1]) + 1e-3


def _grid(dmap: DensityMap) -> compiled.GridArrays:
    """The map's arrays as the kernel reads them."""
    return compiled.GridArrays.of(dmap.values, dmap.origin, dmap.voxel_size, dmap.to_index)


def sample_points(dmap: DensityMap, points: np.ndarray, threads: int | None = None) -> np.ndarray:
    """Trilinear map values at points (float32 precision, 0 outside), as the engine samples."""
    return compiled.sample(points, _grid(dmap), threads or compiled.default_threads())


def resample_to_aligned_lattice(dmap: DensityMap, lo: np.ndarray, hi: np.ndarray) -> DensityMap:
    """The map re-interpolated on nodes at integer multiples of the voxel size (MapQ multi-process).

    MapQ's multi-process path writes each worker a sub-map whose origin is rounded to a multiple
    of the voxel size and whose values are trilinear samples of the original map (0 outside it).
    The box [lo, hi] (Å) is widened to whole voxels; the result is the same for any slab split.

    For a skewed cell the lattice is taken in the cell's own frame: nodes at
    ``axes @ (m * voxel_size)`` for integer ``m``, anchored at absolute 0, and the sub-map keeps
    the skewed axes. (MapQ rounds the sub-map origin along the Cartesian axes while its nodes run
    along the skewed ones, so its lattice depends on how the atoms were split among processes;
    the skewed-frame lattice is the split-independent one, and the same as MapQ's for 90° cells.)
    """
    step = np.asarray(dmap.voxel_size, dtype=np.float64)
    if dmap.is_orthogonal:
        low, high = np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)
    else:
        corners = lo + np.array(list(np.ndindex(2, 2, 2)), dtype=np.float64) * (hi - lo)
        frame = corners @ dmap.to_index.T
        low, high = frame.min(axis=0), frame.max(axis=0)
    first = np.floor(low / step).astype(np.int64)
    last = np.ceil(high / step).astype(np.int64)
    axes = [(np.arange(first[a], last[a] + 1) * step[a]) for a in range(3)]
    values = np.empty((len(axes[2]), len(axes[1]), len(axes[0])), dtype=np.float32)
    xs, ys = np.meshgrid(axes[0], axes[1], indexing="xy")
    plane = np.empty((xs.size, 3))
    for iz, z in enumerate(axes[2]):
        plane[:, 0] = xs.ravel()
        plane[:, 1] = ys.ravel()
        plane[:, 2] = z
        if not dmap.is_orthogonal:
            plane[:] = plane @ dmap.axes.T
        values[iz] = sample_points(dmap, plane).reshape(xs.shape)
    origin = first * step
    return DensityMap(
        values=values,
        origin=origin if dmap.is_orthogonal else dmap.axes @ origin,
        voxel_size=step.copy(),
        source=dmap.source,
        notes=(*dmap.notes, "Resampled on a voxel-aligned lattice (MapQ multi-process)."),
        axes=dmap.axes,
    )


def _check(sigma: float, mode: str) -> None:
    """Validate the parameters with sentences a user can act on."""
    if not np.isfinite(sigma) or sigma <= 0:
        raise ParameterError(f"sigma must be a positive width in Å (got {sigma}); EMDB uses 0.4.")
    if mode not in defaults.MODES:
        raise ParameterError(
            f"Unknown sampling mode {mode!r}; use one of {', '.join(defaults.MODES)}."
        )


@dataclass(frozen=True)
class _Prepared:
    """Everything the kernel needs for a set of scored atoms."""

    scored: np.ndarray
    centres: np.ndarray
    nb_xyz: np.ndarray
    nb_xyz32: np.ndarray
    single_precision_check: bool
    index: compiled.CellIndex
    dmap: DensityMap
    grid: compiled.GridArrays
    gvals: np.ndarray
    threads: int


def _prepare(
    dmap: DensityMap,
    model: AtomModel,
    sigma: float,
    mode: str,
    selection: np.ndarray | None,
    threads: int | None,
) -> _Prepared:
    """The cell index of the neighbours, the (possibly resampled) grid and the reference Gaussian.

    Raises :class:`DenseModelError` when the atoms are packed so densely that finding the
    neighbours would take time quadratic in the atoms.
    """
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
    index = compiled.cell_index(nb_xyz, _reach())
    _check_density(index, centres, model.source)
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
        nb_xyz32=nb_xyz.astype(np.float32),
        single_precision_check=mode == "direct",
        index=index,
        dmap=dmap,
        grid=_grid(dmap),
        gvals=gvals,
        threads=threads,
    )


def _check_density(index: compiled.CellIndex, centres: np.ndarray, label: str) -> None:
    """Refuse, with a sentence, atoms packed so densely that the neighbour search turns quadratic."""
    n = len(centres)
    total = compiled.candidates(index, centres, _reach())
    if total <= CANDIDATE_LIMIT * n + 1_000_000:
        return
    raise DenseModelError(
        f"The model {label} is far denser than any molecule: the neighbour search would look at "
        f"{total / n:,.0f} atoms per atom on average (about 75 in a folded protein). Are the "
        "coordinates in nm rather than Å, or are copies of the model stacked on top of each "
        "other?"
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
) -> ScoreResult:
    """Per-atom Q-scores of ``model`` in ``dmap``, as MapQ computes them.

    Every non-hydrogen atom of the model acts as a neighbour (sample points closer to another
    atom are rejected), as in MapQ. Hydrogens take the Q of the heavy atom they are bonded to.

    Parameters
    ----------
    dmap : DensityMap
        The map (cropped or whole; any cell).
    model : AtomModel
        The model, in the map's frame.
    sigma : float, optional
        Width (Å) of the reference Gaussian: 0.4 as the EMDB, 0.6 as MapQ in Chimera.
    mode : {"direct", "mapq-multiprocess"}, optional
        MapQ's single-process sampling, or its multi-process path (as the EMDB runs it).
    selection : numpy.ndarray, optional
        Indices or a boolean mask of the atoms to score (all by default).
    progress : callable, optional
        ``progress(done, total, stage)`` as scoring advances.
    threads : int, optional
        Threads of the compiled kernel (``QSCORE_THREADS`` or the machine's cores by default);
        it never changes the result.

    Returns
    -------
    ScoreResult
        ``q`` per atom (NaN where not scored), ``model_q``, and how it was obtained.

    Raises
    ------
    NoOverlapError
        No scored atom lies inside the map.
    DenseModelError
        The atoms are packed far too densely (coordinates in nm, a pile-up).
    ParameterError
        Sigma or the mode is not valid.
    """
    _check(sigma, mode)
    start = time.perf_counter()
    check_packing(model.xyz[model.heavy], label=f"The model {model.source}".rstrip())
    if selection is not None and np.asarray(selection).dtype == bool:
        selection = np.flatnonzero(selection)
    heavy_selected = (
        model.heavy
        if selection is None
        else np.isin(np.arange(model.n_atoms), selection) & model.heavy
    )
    inside = inside_map(dmap, model.xyz)
    outside = int(np.count_nonzero(heavy_selected & ~inside))
    n_selected = int(np.count_nonzero(heavy_selected))
    if n_selected == 0:
        raise ParameterError("The selection holds no non-hydrogen atoms to score.")
    if outside == n_selected:
        raise NoOverlapError(outside_message(dmap, model.xyz, "model"))
    notes = []
    if outside:
        notes.append(
            f"{outside} of {n_selected} atoms lie outside the map; their samples outside the "
            "map count as 0, so their Q-scores are unreliable."
        )
    prep = _prepare(dmap, model, sigma, mode, selection, threads)
    total = len(prep.scored)
    q_scored = np.empty(total)
    timings = {"neighbour lists": 0.0, "scoring": 0.0}
    crowded = 0
    if progress:
        progress(0, total, "scoring atoms")
    for lo in range(0, total, _CHUNK):
        hi = min(lo + _CHUNK, total)
        crowded += _run_kernel(prep, lo, hi, q_scored[lo:hi], timings)
        if progress:
            progress(hi, total, "scoring atoms")
    if crowded:
        notes.append(
            f"{crowded} atoms have more than {NEIGHBOUR_LIMIT} other atoms within "
            f"{_reach():.1f} Å (a folded protein has at most about 25); only the nearest "
            f"{NEIGHBOUR_LIMIT} were used to place their shell points."
        )
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
        timings=timings,
    )


def _run_kernel(
    prep: _Prepared, lo: int, hi: int, out: np.ndarray, timings: dict[str, float]
) -> int:
    """Q of scored atoms ``lo:hi`` into ``out``; returns how many had their neighbours capped."""
    start = time.perf_counter()
    centres = prep.centres[lo:hi]
    idx, dist, count, over = compiled.neighbours(
        prep.index, centres, _reach(), NEIGHBOUR_LIMIT, prep.threads
    )
    middle = time.perf_counter()
    out[:] = compiled.score(
        centres,
        prep.nb_xyz,
        prep.nb_xyz32,
        (idx, dist, count),
        prep.grid,
        single_check=prep.single_precision_check,
        radii=_RADII,
        gvals=prep.gvals,
        unit=_UNIT,
        set_offsets=_UNIT_OFFSETS,
        threads=prep.threads,
    )
    timings["neighbour lists"] += middle - start
    timings["scoring"] += time.perf_counter() - middle
    return over


def _copy_to_hydrogens(model: AtomModel, q: np.ndarray) -> None:
    """Hydrogens take the Q of the heavy atom they are bonded to (in place)."""
    h = np.flatnonzero(model.is_hydrogen & (model.hydrogen_parent >= 0))
    q[h] = q[model.hydrogen_parent[h]]


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
    prep = _prepare(dmap, model, sigma, mode, np.array([index]), None)
    c = prep.centres[0]
    idx, dist, count, _ = compiled.neighbours(
        prep.index, prep.centres, _reach(), NEIGHBOUR_LIMIT, prep.threads
    )
    k = int(count[0])
    points = [c[None, :].repeat(CENTRE_WEIGHT, axis=0)]
    radius = [np.zeros(CENTRE_WEIGHT)]
    for r in _RADII:
        shell = compiled.shell_points(
            c,
            r,
            prep.nb_xyz,
            prep.nb_xyz32,
            idx[0, :k],
            dist[0, :k],
            single_check=prep.single_precision_check,
            unit=_UNIT,
            set_offsets=_UNIT_OFFSETS,
        )
        points.append(shell)
        radius.append(np.full(len(shell), r))
    pts = np.concatenate(points)
    rad = np.concatenate(radius)
    values = sample_points(prep.dmap, pts)
    reference = np.exp(-0.5 * (rad / sigma) ** 2)
    q = pearson(values, reference)
    return RadialSamples(
        index=index, points=pts, radius=rad, values=values, reference=reference, q=float(q)
    )
