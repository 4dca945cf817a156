"""Per-atom Q-scores exactly as MapQ computes them (Pintilie et al. 2020; algorithm notes §2).

For each non-hydrogen atom, map values are sampled at the atom centre (counted 8 times) and on 20
shells of radius 0.1…2.0 Å. Each shell uses the points of a fixed spiral of 8, 10, …, 106 points
that no other non-hydrogen atom of the model comes strictly closer to than 0.9·R; the first try
with at least 8 such points is kept whole, and a shell with no such try is left out. Q is the
Pearson correlation of the samples with a Gaussian of width ``sigma``.

Two engines compute the same numbers. The compiled kernel (a C extension,
``qscore/engine/_kernel.c``, parallel with OpenMP where the compiler has it) works atom by atom,
so results do not depend on the number of threads. Atoms are scored in chunks: each chunk's
neighbour lists are built from one cell index of the whole model, used and dropped, so memory
stays linear in the atoms with a small constant. The NumPy reference
(:mod:`qscore.engine.numpy_engine`) is vectorized over atoms and points.
:func:`qscore.engine.choice.choose_engine` picks one (``QSCORE_ENGINE``, or the NumPy engine when
the kernel was not built); :func:`score` and :func:`atom_samples` take an ``engine`` argument
that overrides it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from qscore import defaults
from qscore.engine import compiled
from qscore.engine.choice import choose_engine
from qscore.engine.correlation import pearson
from qscore.engine.packing import check_packing
from qscore.engine.shells import (
    CENTRE_WEIGHT,
    NEIGHBOUR_LIMIT,
    REACH,
    reference_values,
    shell_radii,
    spiral_points,
)
from qscore.engine.shells import RADII as _RADII
from qscore.engine.shells import UNIT as _UNIT
from qscore.engine.shells import UNIT_OFFSETS as _UNIT_OFFSETS
from qscore.errors import DenseModelError, NoOverlapError, ParameterError
from qscore.io.maps import DensityMap, inside_map, outside_message, sample
from qscore.io.models import AtomModel
from qscore.progress import Progress

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

#: Atoms scored per call of the kernel (their neighbour lists exist only for that call).
_CHUNK = 8192
#: Refuse a model whose atoms would each need more than this many distance tests on average to
#: find their neighbours (about 75 in a folded protein): the work would grow as atoms².
CANDIDATE_LIMIT = 4096


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
    #: Seconds spent per stage ("neighbour lists", "scoring").
    timings: dict[str, float] = field(default_factory=dict, compare=False)
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


def _grid(dmap: DensityMap) -> compiled.GridArrays:
    """The map's arrays as the kernel reads them."""
    return compiled.GridArrays.of(dmap.values, dmap.origin, dmap.voxel_size, dmap.to_index)


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
    if choose_engine(engine) == "numpy":
        return sample(dmap, points).astype(np.float64)
    return compiled.sample(points, _grid(dmap), threads or compiled.default_threads())


def resample_to_aligned_lattice(
    dmap: DensityMap, lo: np.ndarray, hi: np.ndarray, *, engine: str | None = None
) -> DensityMap:
    """The map re-interpolated on nodes at integer multiples of the voxel size (MapQ multi-process).

    MapQ's multi-process path writes each worker a sub-map whose origin is rounded to a multiple
    of the voxel size and whose values are trilinear samples of the original map (0 outside it).
    The box [lo, hi] (Å) is widened to whole voxels; the result is the same for any slab split.

    For a skewed cell the lattice is taken in the cell's own frame: nodes at
    ``axes @ (m * voxel_size)`` for integer ``m``, anchored at absolute 0, and the sub-map keeps
    the skewed axes. (MapQ rounds the sub-map origin along the Cartesian axes while its nodes run
    along the skewed ones, so its lattice depends on how the atoms were split among processes;
    the skewed-frame lattice is the split-independent one, and the same as MapQ's for 90° cells.)
    Either ``engine`` gives the same values (see :func:`sample_points`).
    """
    engine = choose_engine(engine)
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
        values[iz] = sample_points(dmap, plane, engine=engine).reshape(xs.shape)
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
    """Everything an engine needs for a set of scored atoms (the cell index: compiled only)."""

    engine: str
    scored: np.ndarray
    centres: np.ndarray
    nb_xyz: np.ndarray
    nb_xyz32: np.ndarray
    single_precision_check: bool
    index: compiled.CellIndex | None
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
    engine: str,
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
    if engine == "compiled":
        index = compiled.cell_index(nb_xyz, REACH)
        _check_density(compiled.candidates(index, centres, REACH), len(centres), model.source)
    else:
        from qscore.engine import numpy_engine  # SciPy's k-d tree only when this engine runs

        index = None
        _check_density(numpy_engine.candidates(centres, nb_xyz), len(centres), model.source)
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
        nb_xyz32=nb_xyz.astype(np.float32),
        single_precision_check=mode == "direct",
        index=index,
        dmap=dmap,
        grid=_grid(dmap),
        gvals=reference_values(sigma),
        threads=threads,
    )


def _check_density(total: int, n: int, label: str) -> None:
    """Refuse, with a sentence, atoms packed so densely that the neighbour search turns quadratic.

    ``total`` is how many atoms the search would look at for the ``n`` scored atoms.
    """
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
    engine: str | None = None,
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
        it never changes the result, and the NumPy engine ignores it.
    engine : {"compiled", "numpy", "auto"}, optional
        The engine; ``QSCORE_ENGINE`` by default (auto: the compiled kernel if it was built,
        else the NumPy engine). Both give the same numbers.

    Returns
    -------
    ScoreResult
        ``q`` per atom (NaN where not scored), ``model_q``, and how it was obtained
        (``engine``: the engine that computed it).

    Raises
    ------
    NoOverlapError
        No scored atom lies inside the map.
    DenseModelError
        The atoms are packed far too densely (coordinates in nm, a pile-up).
    ParameterError
        Sigma or the mode is not valid.
    EngineError
        The engine is unknown, or ``compiled`` was asked for but not built.
    """
    _check(sigma, mode)
    chosen = choose_engine(engine)
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
    prep = _prepare(dmap, model, sigma, mode, selection, threads, chosen)
    total = len(prep.scored)
    timings = {"neighbour lists": 0.0, "scoring": 0.0}
    if progress:
        progress(0, total, "scoring atoms")
    if chosen == "numpy":
        from qscore.engine import numpy_engine

        middle = time.perf_counter()
        q_scored, crowded = numpy_engine.q_scores(
            prep.dmap,
            prep.centres,
            prep.nb_xyz,
            prep.gvals,
            single_precision_check=prep.single_precision_check,
            progress=progress,
        )
        timings["scoring"] = time.perf_counter() - middle
    else:
        q_scored = np.empty(total)
        crowded = 0
        for lo in range(0, total, _CHUNK):
            hi = min(lo + _CHUNK, total)
            crowded += _run_kernel(prep, lo, hi, q_scored[lo:hi], timings)
            if progress:
                progress(hi, total, "scoring atoms")
    if crowded:
        notes.append(
            f"{crowded} atoms have more than {NEIGHBOUR_LIMIT} other atoms within "
            f"{REACH:.1f} Å (a folded protein has at most about 25); only the nearest "
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
        engine=chosen,
    )


def _run_kernel(
    prep: _Prepared, lo: int, hi: int, out: np.ndarray, timings: dict[str, float]
) -> int:
    """Q of scored atoms ``lo:hi`` into ``out``; returns how many had their neighbours capped."""
    assert prep.index is not None, "the compiled engine's cell index"
    start = time.perf_counter()
    centres = prep.centres[lo:hi]
    idx, dist, count, over = compiled.neighbours(
        prep.index, centres, REACH, NEIGHBOUR_LIMIT, prep.threads
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


def _shells_of_one_atom(prep: _Prepared) -> list[np.ndarray]:
    """The accepted points of every shell of the one prepared atom, from the chosen engine."""
    if prep.engine == "numpy":
        from qscore.engine import numpy_engine

        near, _ = numpy_engine.find_neighbours(
            prep.centres, prep.nb_xyz, single_precision_check=prep.single_precision_check
        )
        shells = [numpy_engine.shell_points(prep.centres, float(r), near) for r in _RADII]
        return [points[0, : count[0]] for points, count in shells]
    assert prep.index is not None, "the compiled engine's cell index"
    idx, dist, count, _ = compiled.neighbours(
        prep.index, prep.centres, REACH, NEIGHBOUR_LIMIT, prep.threads
    )
    k = int(count[0])
    return [
        compiled.shell_points(
            prep.centres[0],
            r,
            prep.nb_xyz,
            prep.nb_xyz32,
            idx[0, :k],
            dist[0, :k],
            single_check=prep.single_precision_check,
            unit=_UNIT,
            set_offsets=_UNIT_OFFSETS,
        )
        for r in _RADII
    ]


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
    q = pearson(values, reference)
    return RadialSamples(
        index=index, points=pts, radius=rad, values=values, reference=reference, q=float(q)
    )
