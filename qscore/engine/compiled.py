"""The compiled kernel (``qscore/engine/_kernel.c``), loaded on first use, behind typed wrappers.

The kernel is a CPython extension module built when the package is installed, with OpenMP when
the compiler supports it. It is optional: an installation without a C compiler has no kernel, and
:func:`available` says so without raising. Nothing here imports the extension until a function
needs it, so ``import qscore`` and the commands that do not score never load it.

The extension checks every array it is given (dtype, shape, C-contiguity, writability) and raises
``TypeError`` or ``ValueError`` on a mismatch; the wrappers below build arrays of the right kind.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from types import ModuleType

import numpy as np

from qscore.errors import KernelMissingError

_MODULE: ModuleType | None = None
_MISSING: str | None = None


def _load() -> ModuleType | None:
    """Import the extension once; remember why when it cannot be imported."""
    global _MODULE, _MISSING
    if _MODULE is None and _MISSING is None:
        try:
            _MODULE = importlib.import_module("qscore.engine._kernel")
        except ImportError as exc:
            _MISSING = str(exc) or type(exc).__name__
    return _MODULE


def available() -> bool:
    """True when the compiled kernel is installed and importable (imports it on the first call)."""
    return _load() is not None


def kernel() -> ModuleType:
    """The extension module.

    Returns
    -------
    ModuleType
        ``qscore.engine._kernel``.

    Raises
    ------
    KernelMissingError
        When the package was installed without building the kernel (no C compiler).
    """
    module = _load()
    if module is None:
        raise KernelMissingError(
            "The compiled kernel of qscore is not installed (the package was built without a C "
            f"compiler: {_MISSING}); reinstall it with a C compiler available."
        )
    return module


def has_openmp() -> bool:
    """True when the kernel was built with OpenMP (False when it is missing or serial)."""
    return available() and bool(kernel().openmp)


def default_threads() -> int:
    """Threads to use: ``QSCORE_THREADS`` if set, else OpenMP's default (the machine's cores)."""
    value = os.environ.get("QSCORE_THREADS")
    if value and value.isdigit() and int(value) > 0:
        return int(value)
    return max(1, int(kernel().max_threads())) if available() else 1


def _f64(a: np.ndarray, *shape: int) -> np.ndarray:
    """``a`` as a C-contiguous float64 array of the given shape."""
    return np.ascontiguousarray(a, dtype=np.float64).reshape(shape)


@dataclass(frozen=True)
class CellIndex:
    """Atoms sorted into cubic cells, for neighbour searches of a fixed reach.

    Cell ``(cx, cy, cz)`` holds atoms ``order[start[c]:start[c + 1]]``, with
    ``c = (cz·ny + cy)·nx + cx``; cells are at least ``reach`` wide, so a search visits at most
    3 cells per axis.
    """

    xyz: np.ndarray
    lo: np.ndarray
    size: float
    dims: np.ndarray
    start: np.ndarray
    order: np.ndarray


def cell_layout(xyz: np.ndarray, reach: float) -> tuple[np.ndarray, float, np.ndarray]:
    """The cells of :func:`cell_index`: their corner, width and number along x, y, z.

    Parameters
    ----------
    xyz : numpy.ndarray
        Atom coordinates, shape (m, 3), Å.
    reach : float
        The largest search radius the cells will serve.

    Returns
    -------
    lo : numpy.ndarray
        The corner of the first cell (the atoms' smallest coordinates).
    size : float
        The cells' width: ``reach``, doubled until there are at most ``4·m + 1000`` cells.
    dims : numpy.ndarray
        int64 number of cells along x, y, z.
    """
    xyz = _f64(xyz, -1, 3)
    m = len(xyz)
    lo = xyz.min(axis=0) if m else np.zeros(3)
    span = (xyz.max(axis=0) - lo) if m else np.zeros(3)
    size = float(reach)
    while True:
        dims = (np.floor(span / size) + 1).astype(np.int64)
        if float(np.prod(dims.astype(np.float64))) <= 4 * m + 1000:
            return lo, size, dims
        size *= 2.0


def cell_index(xyz: np.ndarray, reach: float) -> CellIndex:
    """Sort atoms into cells at least ``reach`` wide (wider when the atoms are spread thinly).

    Parameters
    ----------
    xyz : numpy.ndarray
        Atom coordinates, shape (m, 3), Å.
    reach : float
        The largest search radius the index will serve.

    Returns
    -------
    CellIndex
        The index; at most ``4·m + 1000`` cells, so memory stays linear in the atoms.
    """
    xyz = _f64(xyz, -1, 3)
    m = len(xyz)
    lo, size, dims = cell_layout(xyz, reach)
    start = np.empty(int(np.prod(dims)) + 1, dtype=np.int64)
    order = np.empty(m, dtype=np.int64)
    kernel().cell_sort(xyz, _f64(lo, 3), size, dims, start, order)
    return CellIndex(xyz=xyz, lo=_f64(lo, 3), size=size, dims=dims, start=start, order=order)


def candidates(index: CellIndex, centres: np.ndarray, reach: float) -> int:
    """How many atoms a search within ``reach`` of every centre would look at (no distances)."""
    return int(
        kernel().candidates(
            _f64(centres, -1, 3),
            index.xyz,
            index.lo,
            index.size,
            index.dims,
            index.start,
            index.order,
            float(reach),
        )
    )


def neighbours(
    index: CellIndex, centres: np.ndarray, reach: float, limit: int, threads: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The nearest (at most ``limit``) atoms within ``reach`` of each centre.

    An atom at the centre's own position (the centre itself, or an exact duplicate) is left out.

    Returns
    -------
    idx, dist : numpy.ndarray
        Shape (n, limit): row ``i`` holds centre ``i``'s neighbours (indices into ``index.xyz``
        and distances), sorted by distance then index; only the first ``count[i]`` are set.
    count : numpy.ndarray
        Number of neighbours stored per centre, int64.
    over : int
        How many centres had more than ``limit`` neighbours (only the nearest were kept).
    """
    centres = _f64(centres, -1, 3)
    n = len(centres)
    idx = np.empty((n, limit), dtype=np.int64)
    dist = np.empty((n, limit), dtype=np.float64)
    count = np.empty(n, dtype=np.int64)
    over = kernel().neighbours(
        centres,
        index.xyz,
        index.lo,
        index.size,
        index.dims,
        index.start,
        index.order,
        float(reach),
        int(threads),
        idx,
        dist,
        count,
    )
    return idx, dist, count, int(over)


@dataclass(frozen=True)
class GridArrays:
    """A density map as the kernel reads it: float32 values [z, y, x] and float64 geometry."""

    values: np.ndarray
    origin: np.ndarray
    voxel: np.ndarray
    to_index: np.ndarray

    @classmethod
    def of(cls, values: np.ndarray, origin, voxel, to_index) -> GridArrays:
        """The arrays of a map, converted once (the values are not copied when already float32)."""
        return cls(
            values=np.ascontiguousarray(values, dtype=np.float32),
            origin=_f64(origin, 3),
            voxel=_f64(voxel, 3),
            to_index=_f64(to_index, 3, 3),
        )


def score(
    centres: np.ndarray,
    nb_xyz: np.ndarray,
    nb_xyz32: np.ndarray,
    lists: tuple[np.ndarray, np.ndarray, np.ndarray],
    grid: GridArrays,
    *,
    single_check: bool,
    radii: np.ndarray,
    gvals: np.ndarray,
    unit: np.ndarray,
    set_offsets: np.ndarray,
    threads: int,
) -> np.ndarray:
    """Q of every centre from its neighbour lists (``idx, dist, count`` of :func:`neighbours`).

    Raises
    ------
    MemoryError
        When a thread cannot allocate its small point buffer.
    """
    centres = _f64(centres, -1, 3)
    idx, dist, count = lists
    q = np.empty(len(centres))
    kernel().score(
        centres,
        nb_xyz,
        nb_xyz32,
        bool(single_check),
        idx,
        dist,
        count,
        grid.values,
        grid.origin,
        grid.voxel,
        grid.to_index,
        radii,
        gvals,
        unit,
        set_offsets,
        int(threads),
        q,
    )
    return q


def shell_points(
    centre: np.ndarray,
    radius: float,
    nb_xyz: np.ndarray,
    nb_xyz32: np.ndarray,
    idx: np.ndarray,
    dist: np.ndarray,
    *,
    single_check: bool,
    unit: np.ndarray,
    set_offsets: np.ndarray,
) -> np.ndarray:
    """The accepted points (k, 3) of the shell of ``radius`` around one centre."""
    out = np.empty((int(np.max(np.diff(set_offsets))), 3))
    k = kernel().shell_points(
        _f64(centre, 3),
        float(radius),
        nb_xyz,
        nb_xyz32,
        bool(single_check),
        np.ascontiguousarray(idx, dtype=np.int64),
        _f64(dist, -1),
        unit,
        set_offsets,
        out,
    )
    return out[:k].copy()


def sample(points: np.ndarray, grid: GridArrays, threads: int) -> np.ndarray:
    """Trilinear values (float32 precision, 0 outside the grid) at points (n, 3)."""
    points = _f64(points, -1, 3)
    out = np.empty(len(points))
    kernel().sample(points, grid.values, grid.origin, grid.voxel, grid.to_index, int(threads), out)
    return out


def splat(
    grid: np.ndarray,
    origin: np.ndarray,
    step: np.ndarray,
    xyz: np.ndarray,
    weight: np.ndarray,
    sigma: float,
    radius: float,
) -> None:
    """Add ``w·exp(−r²/2σ²)`` within ``radius`` of each atom to ``grid`` (float32 [z, y, x])."""
    xyz = _f64(xyz, -1, 3)
    kernel().splat(grid, _f64(origin, 3), _f64(step, 3), xyz, _f64(weight, len(xyz)), sigma, radius)
