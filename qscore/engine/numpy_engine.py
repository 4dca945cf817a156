"""MapQ's per-atom Q in NumPy: the readable reference of the compiled kernel.

The whole algorithm (algorithm notes §2, ``docs/algorithm.md``) on arrays, vectorized over the
atoms of a chunk and the points of a spiral:

1. the neighbours of every atom (all non-hydrogen atoms of the model within 1.9·2.0 Å), nearest
   first, from a k-d tree;
2. shell by shell, spiral tries of 8, 10, …, 106 points for every atom still unresolved; a point
   is rejected when a neighbour is strictly closer than 0.9·R (in ``direct`` mode only when the
   neighbour's float32-rounded coordinates are too); the first try with at least 8 accepted
   points is kept whole, and a shell with no such try contributes nothing;
3. trilinear map values (:func:`qscore.io.maps.sample`: float32 precision, 0 outside the box);
4. the running sums of the samples and of the reference Gaussian, the centre counted 8 times,
   added in the kernel's order, and Chimera's one-pass Pearson correlation of them.

Every floating-point operation is the kernel's, in the kernel's order (no fused multiply-add),
so the two engines give the same numbers. Memory is bounded: atoms go in chunks, and each
distance test holds at most ``_ELEMENTS`` point-neighbour pairs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from qscore.engine.shells import (
    CENTRE_WEIGHT,
    MIN_POINTS,
    N_TRIES,
    RADII,
    REJECT_FACTOR,
    UNIT,
    UNIT_OFFSETS,
)
from qscore.io.maps import DensityMap, sample

#: Atoms scored together (the neighbour arrays and one shell's points of a chunk stay small).
_ATOMS = 2048
#: Neighbours closer than this (Å) sit at the centre itself (the atom, or an exact duplicate):
#: they lie at exactly R from every shell point and can never reject one, so they are left out.
_SELF = 1e-9
#: Only neighbours within (1 + 0.9)·R of the centre can come closer than 0.9·R to a shell point.
_REACH_SLACK = 1e-6

Progress = Callable[[int, int, str], None]


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


def find_neighbours(
    centres: np.ndarray,
    neighbours: np.ndarray,
    *,
    single_precision_check: bool,
    tree: cKDTree | None = None,
) -> Neighbours:
    """Every neighbour within reach of the last shell of each centre, nearest first.

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
    Neighbours
        Padded arrays of ``n`` rows; ties in distance are ordered by neighbour index.
    """
    centres = np.asarray(centres, dtype=np.float64).reshape(-1, 3)
    neighbours = np.asarray(neighbours, dtype=np.float64).reshape(-1, 3)
    n = len(centres)
    reach = (1.0 + REJECT_FACTOR) * float(RADII[-1]) + 1e-3
    tree = tree if tree is not None else cKDTree(neighbours)
    pairs = cKDTree(centres).sparse_distance_matrix(tree, reach, output_type="ndarray")
    i, j = pairs["i"].astype(np.int64), pairs["j"].astype(np.int64)
    diff = neighbours[j] - centres[i]
    d2 = diff[:, 0] * diff[:, 0] + diff[:, 1] * diff[:, 1] + diff[:, 2] * diff[:, 2]
    keep = d2 > _SELF * _SELF
    i, j, dist = i[keep], j[keep], np.sqrt(d2[keep])
    order = np.lexsort((j, dist, i))
    i, j, dist = i[order], j[order], dist[order]
    counts = np.bincount(i, minlength=n)
    width = int(counts.max(initial=0))
    slot = np.arange(len(i)) - (np.cumsum(counts) - counts)[i]
    xyz = np.full((3, n, width), np.inf)
    xyz[:, i, slot] = neighbours[j].T
    padded = np.full((n, width), np.inf)
    padded[i, slot] = dist
    if not single_precision_check:
        return Neighbours(xyz=xyz, xyz32=None, dist=padded)
    rounded = neighbours[j].astype(np.float32).astype(np.float64)
    shift = np.sqrt(((neighbours[j] - rounded) ** 2).sum(axis=1)).max(initial=0.0)
    xyz32 = xyz.astype(np.float32).astype(np.float64)
    return Neighbours(xyz=xyz, xyz32=xyz32, dist=padded, rounding=float(shift))


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
    nearest first, of which the first ``reachable[i]`` can reject a point of atom ``i``.
    ``reachable`` decreases, so the ``k``-th neighbours that matter belong to the leading
    ``m`` atoms. The squared distance is summed as x² + y² + z², as the kernel does. With
    ``xyz32`` (``direct`` mode) a neighbour rejects only when its float32-rounded position is
    too close as well: MapQ's single-process path finds candidates among float32 coordinates
    and confirms them in double precision. A float32 position is at most ``rounding`` Å from the
    float64 one, so only pairs closer than 0.9·R by less than that (and float rounding) can be
    judged differently; only those are measured again.
    """
    rejected = np.zeros(points.shape[1:], dtype=bool)
    rows_with_more = len(reachable) - np.cumsum(np.bincount(reachable))
    sure2 = max(np.sqrt(lim2) - rounding - 1e-9, 0.0) ** 2
    for k, m in enumerate(rows_with_more[:-1]):
        d2 = _squared_distance(points[:, :m], xyz[:, :m, k, None])
        close = d2 < lim2
        if xyz32 is not None:
            u, p = np.nonzero(close & (d2 >= sure2))
            close[u, p] = _squared_distance(points[:, u, p], xyz32[:, u, k]) < lim2
        np.logical_or(rejected[:m], close, out=rejected[:m])
    return rejected


def _squared_distance(points: np.ndarray, atoms: np.ndarray) -> np.ndarray:
    """(x_p − x_a)² + (y_p − y_a)² + (z_p − z_a)², summed in this order (coordinates first)."""
    d2 = None
    for a in range(3):
        delta = points[a] - atoms[a]
        delta *= delta
        d2 = delta if d2 is None else np.add(d2, delta, out=d2)
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
    for t in range(N_TRIES):
        if not len(todo):
            break
        unit = UNIT[UNIT_OFFSETS[t] : UNIT_OFFSETS[t + 1]]
        candidate = np.stack(
            [centres[todo, a][:, None] + radius * unit[None, :, a] for a in range(3)]
        )
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


def q_scores(
    dmap: DensityMap,
    centres: np.ndarray,
    neighbours: np.ndarray,
    gvals: np.ndarray,
    *,
    single_precision_check: bool,
    progress: Progress | None = None,
) -> np.ndarray:
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
    numpy.ndarray
        ``(n,)`` per-atom Q.
    """
    centres = np.ascontiguousarray(centres, dtype=np.float64).reshape(-1, 3)
    neighbours = np.ascontiguousarray(neighbours, dtype=np.float64).reshape(-1, 3)
    tree = cKDTree(neighbours)
    total = len(centres)
    q = np.empty(total)
    for lo in range(0, total, _ATOMS):
        hi = min(lo + _ATOMS, total)
        near = find_neighbours(
            centres[lo:hi], neighbours, single_precision_check=single_precision_check, tree=tree
        )
        q[lo:hi] = score_centres(dmap, centres[lo:hi], near, gvals)
        if progress:
            progress(hi, total, "scoring atoms")
    return q
