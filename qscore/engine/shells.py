"""MapQ's sampling geometry: the shell radii, the spirals of points and the constants of the rule.

Both engines (the compiled kernel and the NumPy reference) sample exactly these points, so the
tables are built once here, in double precision, and handed to whichever engine scores.
"""

from __future__ import annotations

import numpy as np

#: Spiral tries have 8, 10, …, 106 points; a try is kept when at least 8 points survive.
MIN_POINTS = 8
N_TRIES = 50
#: The map value at the atom centre is counted this many times.
CENTRE_WEIGHT = 8
#: A point is rejected when another atom is strictly closer than this fraction of the radius.
REJECT_FACTOR = 0.9
#: Neighbours kept per atom: the nearest ones within reach. A folded protein has at most about
#: 25 heavy atoms within 3.8 Å of any atom, so this only binds in unphysically dense models.
NEIGHBOUR_LIMIT = 128


def shell_radii(step: float = 0.1, to_radius: float = 2.0) -> np.ndarray:
    """Shell radii built by repeated addition, as MapQ does (0.1, 0.2, 0.30000000000000004, …).

    Parameters
    ----------
    step : float
        Spacing of the shells (Å).
    to_radius : float
        Radius of the last shell (Å).

    Returns
    -------
    numpy.ndarray
        The radii (Å), float64.
    """
    radii = []
    r = step
    while r < to_radius + 0.001:
        radii.append(r)
        r += step
    return np.array(radii)


def spiral_points(n: int) -> np.ndarray:
    """MapQ's deterministic spiral of ``n`` unit vectors from the −z to the +z pole.

    Parameters
    ----------
    n : int
        Number of points (at least 2).

    Returns
    -------
    numpy.ndarray
        ``(n, 3)`` unit vectors (x, y, z), fixed in the lab frame.
    """
    k = np.arange(1, n + 1)
    h = -1.0 + 2.0 * (k - 1) / (n - 1)
    phi = np.arccos(h)
    theta = np.zeros(n)
    for i in range(1, n - 1):
        theta[i] = (theta[i - 1] + 3.6 / np.sqrt(n * (1.0 - h[i] * h[i]))) % (2.0 * np.pi)
    return np.stack([np.sin(phi) * np.cos(theta), np.sin(phi) * np.sin(theta), np.cos(phi)], axis=1)


def spiral_table() -> tuple[np.ndarray, np.ndarray]:
    """All 50 spirals (8, 10, …, 106 points) concatenated, with the start offset of each.

    Returns
    -------
    unit : numpy.ndarray
        ``(2850, 3)`` unit vectors, C-contiguous float64.
    offsets : numpy.ndarray
        ``(51,)`` int64; try ``t`` uses ``unit[offsets[t]:offsets[t + 1]]``.
    """
    sets = [spiral_points(MIN_POINTS + 2 * i) for i in range(N_TRIES)]
    offsets = np.cumsum([0] + [len(s) for s in sets]).astype(np.int64)
    return np.ascontiguousarray(np.concatenate(sets)), offsets


#: The tables every engine uses.
UNIT, UNIT_OFFSETS = spiral_table()
RADII = shell_radii()
#: Distance within which an atom can reject a point of the largest shell (1.9·R), plus room.
REACH = (1.0 + REJECT_FACTOR) * float(RADII[-1]) + 1e-3


def reference_values(sigma: float) -> np.ndarray:
    """The reference Gaussian exp(−r²/2σ²) at each shell radius (the centre's value is 1).

    Parameters
    ----------
    sigma : float
        Width of the Gaussian (Å).

    Returns
    -------
    numpy.ndarray
        One value per shell of :data:`RADII`.
    """
    return np.exp(-0.5 * (RADII / sigma) ** 2)
