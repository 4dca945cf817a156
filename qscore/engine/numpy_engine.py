"""MapQ's per-atom Q in NumPy: the readable reference of the compiled kernel.

The whole algorithm (algorithm notes §2, ``docs/algorithm.md``) on arrays, vectorized over the
atoms of a chunk and the points of a spiral:

1. the neighbours of every atom (all non-hydrogen atoms of the model within 1.9·2.0 Å), nearest
   first and at most 128 of them, from a k-d tree;
2. shell by shell, spiral tries of 8, 10, …, 106 points for every atom still unresolved; a point
   is rejected when a neighbour is strictly closer than 0.9·R (in ``direct`` mode only when the
   neighbour's float32-rounded coordinates are too); the first try with at least 8 accepted
   points is kept whole, and a shell with no such try contributes nothing;
3. trilinear map values (:func:`qscore.io.maps.sample`: float32 precision, 0 outside the box);
4. the running sums of the samples and of the reference Gaussian, the centre counted 8 times,
   added in the kernel's order, and Chimera's one-pass Pearson correlation of them.

Every floating-point operation is the kernel's, in the kernel's order (no fused multiply-add),
so the two engines give the same numbers. Memory is bounded: atoms go in chunks (smaller when
they have many neighbours), and a distance test holds at most one chunk's points of one try.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from qscore.engine.compiled import cell_layout
from qscore.engine.shells import (
    CENTRE_WEIGHT,
    MIN_POINTS,
    N_TRIES,
    NEIGHBOUR_LIMIT,
    RADII,
    REACH,
    REJECT_FACTOR,
    UNIT,
    UNIT_OFFSETS,
)
from qscore.io.maps import DensityMap, sample

#: Atoms scored together (the neighbour arrays and one shell's points of a chunk stay small).
_ATOMS = 2048
#: Neighbours tested one at a time against every point; farther ones (crowded atoms only) are
#: tested ``_BLOCK`` at a time against the points still standing, at most ``_ELEMENTS`` pairs.
_COLUMNS = 32
_BLOCK = 16
_ELEMENTS = 1 << 19
#: Largest atoms × neighbours of a chunk's padded neighbour arrays (about 8 MB each), and most
#: atom pairs within reach a chunk's search may find, so that crowded models (many atoms within
#: 3.8 Å of one another) go in smaller chunks.
_PAIRS = 1 << 20
_FOUND = 1 << 21
#: Neighbours closer than this (Å) sit at the centre itself (the atom, or an exact duplicate):
#: they lie at exactly R from every shell point and can never reject one, so they are left out.
_SELF = 1e-9
#: Only neighbours within (1 + 0.9)·R of the centre can come closer than 0.9·R to a shell point.
_REACH_SLACK = 1e-6
#: No pairs (an empty index array).
_NONE = np.empty(0, dtype=np.int64)


@dataclass(frozen=True)
class Neighbours:
    """The neighbours of a set of centres, nearest first, as padded arrays.

    ``xyz[a, i, k]`` is coordinate ``a`` (x, y, z) of the ``k``-th nearest neighbour of centre
    ``i`` and ``dist[i, k]`` its distance; rows are padded with ``inf``, which rejects nothing.
    ``xyz32`` holds the same coordinates rounded to float32 (``direct`` mode), else ``None``,
    and ``rounding`` the largest distance (Å) between a neighbour and its float32 position.
    """

    xyz: np.ndarray
    xyz32: np.ndarray | None
    dist: np.ndarray
    rounding: float = 0.0


def candidates(centres: np.ndarray, neighbours: np.ndarray) -> int:
    """How many atoms the neighbour search would look at, counted as the compiled kernel counts.

    The atoms are binned into the kernel's cells (:func:`qscore.engine.compiled.cell_layout`);
    for each centre, the atoms of the cells that overlap the cube of half-side ``REACH`` around
    it are added up from a table of running sums, without a single distance, so the count stays
    linear in the atoms however densely they are packed.

    Parameters
    ----------
    centres : numpy.ndarray
        ``(n, 3)`` positions of the scored atoms (Å).
    neighbours : numpy.ndarray
        ``(m, 3)`` positions of every non-hydrogen atom of the model (Å).

    Returns
    -------
    int
        The same number as :func:`qscore.engine.compiled.candidates`.
    """
    xyz = np.asarray(neighbours, dtype=np.float64).reshape(-1, 3)
    points = np.asarray(centres, dtype=np.float64).reshape(-1, 3)
    lo, size, dims = cell_layout(xyz, REACH)
    last = dims - 1
    cell = np.floor((xyz - lo) / size)
    cell = np.where(cell >= 0.0, np.minimum(cell, last), 0).astype(np.int64)
    table = np.zeros((dims[2] + 1, dims[1] + 1, dims[0] + 1), dtype=np.int64)
    np.add.at(table, (cell[:, 2] + 1, cell[:, 1] + 1, cell[:, 0] + 1), 1)
    for axis in range(3):
        np.cumsum(table, axis=axis, out=table)
    first = np.floor((points - REACH - lo) / size)
    final = np.floor((points + REACH - lo) / size)
    hit = np.all((final >= 0.0) & (first <= last), axis=1)
    a = np.maximum(first[hit], 0).astype(np.int64)
    b = np.minimum(final[hit], last).astype(np.int64) + 1
    total = 0
    for corner in np.ndindex(2, 2, 2):
        x, y, z = (np.where(corner[k], b[:, k], a[:, k]) for k in range(3))
        total += (-1) ** (3 - sum(corner)) * int(table[z, y, x].sum())
    return total


def find_neighbours(
    centres: np.ndarray,
    neighbours: np.ndarray,
    *,
    single_precision_check: bool,
    tree: cKDTree | None = None,
) -> tuple[Neighbours, int]:
    """The nearest neighbours (at most 128) within reach of the last shell of each centre.

    Parameters
    ----------
    centres : numpy.ndarray
        ``(n, 3)`` positions of the scored atoms (Å).
    neighbours : numpy.ndarray
        ``(m, 3)`` positions of every non-hydrogen atom of the model (Å).
    single_precision_check : bool
        Also keep the float32-rounded neighbour coordinates (MapQ's single-process rule).
    tree : scipy.spatial.cKDTree, optional
        A tree over ``neighbours``, to reuse between chunks.

    Returns
    -------
    near : Neighbours
        Padded arrays of ``n`` rows, nearest first (ties in distance by neighbour index).
    over : int
        How many centres had more than ``NEIGHBOUR_LIMIT`` neighbours (only the nearest are kept).
    """
    centres = np.asarray(centres, dtype=np.float64).reshape(-1, 3)
    neighbours = np.asarray(neighbours, dtype=np.float64).reshape(-1, 3)
    n = len(centres)
    tree = tree if tree is not None else cKDTree(neighbours)
    # The tree's own distances only pick candidates (with room); the kernel's test decides.
    pairs = cKDTree(centres).sparse_distance_matrix(tree, REACH * 1.000001, output_type="ndarray")
    i, j = pairs["i"].astype(np.int64), pairs["j"].astype(np.int64)
    diff = neighbours[j] - centres[i]
    d2 = diff[:, 0] * diff[:, 0] + diff[:, 1] * diff[:, 1] + diff[:, 2] * diff[:, 2]
    keep = (d2 <= REACH * REACH) & (d2 > _SELF * _SELF)
    i, j, dist = i[keep], j[keep], np.sqrt(d2[keep])
    order = np.lexsort((j, dist, i))
    i, j, dist = i[order], j[order], dist[order]
    found = np.bincount(i, minlength=n)
    slot = np.arange(len(i)) - (np.cumsum(found) - found)[i]
    nearest = slot < NEIGHBOUR_LIMIT
    i, j, dist, slot = i[nearest], j[nearest], dist[nearest], slot[nearest]
    over = int(np.count_nonzero(found > NEIGHBOUR_LIMIT))
    width = int(min(found.max(initial=0), NEIGHBOUR_LIMIT))
    xyz = np.full((3, n, width), np.inf)
    xyz[:, i, slot] = neighbours[j].T
    padded = np.full((n, width), np.inf)
    padded[i, slot] = dist
    if not single_precision_check:
        return Neighbours(xyz=xyz, xyz32=None, dist=padded), over
    rounded = neighbours[j].astype(np.float32).astype(np.float64)
    shift = np.sqrt(((neighbours[j] - rounded) ** 2).sum(axis=1)).max(initial=0.0)
    xyz32 = xyz.astype(np.float32).astype(np.float64)
    return Neighbours(xyz=xyz, xyz32=xyz32, dist=padded, rounding=float(shift)), over


def _rejected(
    points: np.ndarray,
    xyz: np.ndarray,
    xyz32: np.ndarray | None,
    reachable: np.ndarray,
    lim2: float,
    rounding: float,
) -> np.ndarray:
    """``(u, N)`` mask of the points that some neighbour comes strictly closer to than 0.9·R.

    ``points`` is ``(3, u, N)`` and ``xyz`` ``(3, u, K)``: the neighbours of each point's atom,
    nearest first, of which only the first ``reachable[i]`` can reject a point of atom ``i``
    (``reachable`` decreases down the rows, so the atoms with a ``k``-th neighbour in reach are
    the leading rows). The nearest ``_COLUMNS`` neighbours are tested one at a time against
    every point of those atoms; farther ones, and all of them once most points are rejected
    (crowded atoms), a block at a time against the points still standing. The squared distance
    is summed as x² + y² + z², as the kernel does.

    With ``xyz32`` (``direct`` mode) a neighbour rejects only when its float32-rounded position
    is too close as well: MapQ's single-process path finds candidates among float32 coordinates
    and confirms them in double precision. A float32 position is at most ``rounding`` Å from the
    float64 one, so only pairs closer than 0.9·R by less than that (and float rounding) can be
    judged differently; only those are measured again.
    """
    n_rows, n_points = points.shape[1:]
    rejected = np.zeros((n_rows, n_points), dtype=bool)
    width = int(reachable[0]) if n_rows else 0
    sure2 = max(np.sqrt(lim2) - rounding - 1e-9, 0.0) ** 2
    rounded = xyz if xyz32 is None else xyz32  # only read when xyz32 is given

    def too_close(d2: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Pairs closer than 0.9·R, and those of them to measure again in float32 (direct)."""
        close = d2 < lim2
        if xyz32 is None:
            return close, _NONE, _NONE
        i, j = np.nonzero(close & (d2 >= sure2))
        return close, i, j

    rows_with_more = n_rows - np.cumsum(np.bincount(reachable, minlength=width + 1))
    k = 0
    while k < min(width, _COLUMNS):
        m = rows_with_more[k]
        d2 = _squared_distance(points[:, :m], xyz[:, :m, k, None])
        close, i, j = too_close(d2)
        close[i, j] = _squared_distance(points[:, i, j], rounded[:, i, k]) < lim2
        np.logical_or(rejected[:m], close, out=rejected[:m])
        k += 1
        if 2 * np.count_nonzero(rejected[:m]) > rejected[:m].size:
            break  # crowded: test only the points still standing from here on
    if k >= width:
        return rejected
    flat = points.reshape(3, -1)
    standing = np.flatnonzero(~rejected[: rows_with_more[k]])
    while k < width:
        rows = standing // n_points
        standing = standing[: np.searchsorted(-reachable[rows], -k, side="left")]
        if not len(standing):
            break
        rows = rows[: len(standing)]
        # A block may run past an atom's last neighbour in reach: those are too far to reject.
        block = min(_BLOCK, width - k, max(1, _ELEMENTS // len(standing)))
        d2 = _squared_distance(flat[:, standing, None], xyz[:, rows, k : k + block])
        close, i, j = too_close(d2)
        close[i, j] = _squared_distance(flat[:, standing[i]], rounded[:, rows[i], k + j]) < lim2
        hit = close.any(axis=1)
        rejected.reshape(-1)[standing[hit]] = True
        standing = standing[~hit]
        k += block
    return rejected


def _squared_distance(points: np.ndarray, atoms: np.ndarray) -> np.ndarray:
    """(x_p − x_a)² + (y_p − y_a)² + (z_p − z_a)², summed in this order, as the kernel does."""
    d2 = points[0] - atoms[0]
    d2 *= d2
    for a in (1, 2):
        delta = points[a] - atoms[a]
        delta *= delta
        d2 += delta
    return d2


def shell_points(
    centres: np.ndarray, radius: float, near: Neighbours
) -> tuple[np.ndarray, np.ndarray]:
    """The accepted points of one shell around every centre, in spiral order.

    Parameters
    ----------
    centres : numpy.ndarray
        ``(n, 3)`` atom positions (Å).
    radius : float
        Shell radius R (Å).
    near : Neighbours
        The centres' neighbours (:func:`find_neighbours`).

    Returns
    -------
    points : numpy.ndarray
        ``(n, W, 3)``; the first ``count[i]`` rows of ``points[i]`` are centre ``i``'s points.
    count : numpy.ndarray
        ``(n,)`` int64 number of accepted points, 0 when no try reached 8 (shell dropped).
    """
    n = len(centres)
    lim2 = (REJECT_FACTOR * radius) * (REJECT_FACTOR * radius)
    reachable = np.count_nonzero(near.dist < (1.0 + REJECT_FACTOR) * radius + _REACH_SLACK, axis=1)
    count = np.zeros(n, dtype=np.int64)
    found = []
    todo = np.argsort(-reachable, kind="stable")
    offsets = radius * UNIT.T
    for t in range(N_TRIES):
        if not len(todo):
            break
        step = offsets[:, None, UNIT_OFFSETS[t] : UNIT_OFFSETS[t + 1]]
        candidate = centres[todo].T[:, :, None] + step
        width = int(reachable[todo[0]])
        xyz32 = None if near.xyz32 is None else near.xyz32[:, todo, :width]
        accepted = ~_rejected(
            candidate, near.xyz[:, todo, :width], xyz32, reachable[todo], lim2, near.rounding
        )
        got = np.count_nonzero(accepted, axis=1)
        enough = got >= MIN_POINTS
        done = np.flatnonzero(enough)
        u, p = np.nonzero(accepted[done])
        kept = got[done]
        slot = np.arange(len(u)) - (np.cumsum(kept) - kept)[u]
        found.append((todo[done[u]], slot, candidate[:, done[u], p]))
        count[todo[done]] = kept
        todo = todo[~enough]
    points = np.zeros((n, int(count.max(initial=0)), 3))
    for atom, slot, xyz in found:
        points[atom, slot] = xyz.T
    return points, count


def _running_sum(total: np.ndarray, terms: np.ndarray) -> np.ndarray:
    """``total + terms[:, 0] + terms[:, 1] + …`` added one term at a time, left to right."""
    return np.add.accumulate(np.column_stack([total, terms]), axis=1)[:, -1]


def correlation_from_sums(
    n: np.ndarray,
    sd: np.ndarray,
    sdd: np.ndarray,
    sg: np.ndarray,
    sgg: np.ndarray,
    sdg: np.ndarray,
) -> np.ndarray:
    """Chimera's one-pass correlation about the mean from running sums; 0 where undefined.

    Parameters
    ----------
    n, sd, sdd, sg, sgg, sdg : numpy.ndarray
        Sample count and Σd, Σd², Σg, Σg², Σdg of map values d and reference values g.

    Returns
    -------
    numpy.ndarray
        (Σdg − n·d̄·ḡ) / √((Σd² − n·d̄²)(Σg² − n·ḡ²)), 0 where the root is not positive.
    """
    md, mg = sd / n, sg / n
    product = np.maximum((sdd - n * md * md) * (sgg - n * mg * mg), 0.0)
    root = np.sqrt(product)
    defined = root > 0
    q = np.zeros(np.shape(root))
    np.divide(sdg - n * md * mg, root, out=q, where=defined)
    return q


def score_centres(
    dmap: DensityMap, centres: np.ndarray, near: Neighbours, gvals: np.ndarray
) -> np.ndarray:
    """Q of every centre: the centre's value 8 times plus every accepted shell point.

    Parameters
    ----------
    dmap : DensityMap
        The map to sample (already resampled in ``mapq-multiprocess`` mode).
    centres : numpy.ndarray
        ``(n, 3)`` atom positions (Å).
    near : Neighbours
        Their neighbours (:func:`find_neighbours`).
    gvals : numpy.ndarray
        The reference Gaussian at each shell radius (:func:`qscore.engine.shells.reference_values`).

    Returns
    -------
    numpy.ndarray
        ``(n,)`` per-atom Q.
    """
    d0 = sample(dmap, centres).astype(np.float64)
    w = float(CENTRE_WEIGHT)
    cnt = np.full(len(centres), w)
    sd, sdd, sdg = w * d0, w * d0 * d0, w * d0
    sg, sgg = cnt.copy(), cnt.copy()
    for radius, g in zip(RADII, gvals, strict=True):
        points, count = shell_points(centres, float(radius), near)
        valid = np.arange(points.shape[1]) < count[:, None]
        d = np.zeros(valid.shape)
        d[valid] = sample(dmap, points[valid])
        gv = np.where(valid, g, 0.0)
        sd = _running_sum(sd, d)
        sdd = _running_sum(sdd, d * d)
        sg = _running_sum(sg, gv)
        sgg = _running_sum(sgg, gv * gv)
        sdg = _running_sum(sdg, d * gv)
        cnt = cnt + count
    return correlation_from_sums(cnt, sd, sdd, sg, sgg, sdg)


def _chunks(found: np.ndarray) -> Iterator[tuple[int, int]]:
    """``(lo, hi)`` ranges of at most ``_ATOMS`` atoms (at least one) that find at most
    ``_FOUND`` neighbours in all and whose padded neighbour arrays (atoms × the most neighbours
    any of them keeps) hold at most ``_PAIRS`` entries; ``found`` counts each atom's."""
    kept = np.clip(found, 1, NEIGHBOUR_LIMIT)
    lo, n = 0, len(found)
    while lo < n:
        width = np.maximum.accumulate(kept[lo : lo + _ATOMS])
        fits = (np.arange(1, len(width) + 1) * width <= _PAIRS) & (
            np.cumsum(found[lo : lo + _ATOMS]) <= _FOUND
        )
        hi = lo + max(1, int(np.count_nonzero(fits)))
        yield lo, hi
        lo = hi


def q_scores(
    dmap: DensityMap,
    centres: np.ndarray,
    neighbours: np.ndarray,
    gvals: np.ndarray,
    *,
    single_precision_check: bool,
    progress: Callable[[int, int, str], None] | None = None,
) -> tuple[np.ndarray, int]:
    """Per-atom Q of ``centres`` among ``neighbours``, chunk by chunk.

    Parameters
    ----------
    dmap : DensityMap
        The map to sample (already resampled in ``mapq-multiprocess`` mode).
    centres : numpy.ndarray
        ``(n, 3)`` positions of the atoms to score (Å).
    neighbours : numpy.ndarray
        ``(m, 3)`` positions of every non-hydrogen atom of the model (Å).
    gvals : numpy.ndarray
        The reference Gaussian at each shell radius.
    single_precision_check : bool
        MapQ's single-process rule (``direct`` mode): a neighbour rejects a point only when its
        float32-rounded coordinates are too close as well.
    progress : callable, optional
        Called as ``progress(done, total, "scoring atoms")`` after each chunk.

    Returns
    -------
    q : numpy.ndarray
        ``(n,)`` per-atom Q.
    crowded : int
        How many atoms had more than ``NEIGHBOUR_LIMIT`` neighbours within reach.
    """
    centres = np.ascontiguousarray(centres, dtype=np.float64).reshape(-1, 3)
    neighbours = np.ascontiguousarray(neighbours, dtype=np.float64).reshape(-1, 3)
    tree = cKDTree(neighbours)
    total = len(centres)
    q = np.empty(total)
    crowded = 0
    for lo, hi in _chunks(tree.query_ball_point(centres, REACH, return_length=True)):
        near, over = find_neighbours(
            centres[lo:hi], neighbours, single_precision_check=single_precision_check, tree=tree
        )
        q[lo:hi] = score_centres(dmap, centres[lo:hi], near, gvals)
        crowded += over
        if progress:
            progress(hi, total, "scoring atoms")
    return q, crowded
