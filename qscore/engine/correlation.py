"""Pearson's correlation about the mean, computed as MapQ and the compiled kernel compute it.

One home for the correlation of an atom's map values with its reference Gaussian (the Q-score
itself) and for every other correlation the package reports.
"""

from __future__ import annotations

import numpy as np

__all__ = ["pearson"]


def pearson(values: np.ndarray, reference: np.ndarray, *, undefined: float = 0.0) -> float:
    """Pearson's correlation of two equally long vectors, in Chimera's one-pass arithmetic.

    The sums are taken once (Σx, Σy, Σx², Σy², Σxy) as MapQ and the kernel take them, so the
    Q-score of an atom's samples is the kernel's to rounding (1e-15).

    Parameters
    ----------
    values, reference : numpy.ndarray
        The two vectors.
    undefined : float, optional
        Returned when the correlation is undefined (a constant vector or no values): 0, as
        MapQ scores an atom with a flat profile, by default; pass ``math.nan`` where "undefined"
        must stay visible.

    Returns
    -------
    float
        The correlation, in [-1, 1].

    Examples
    --------
    >>> import numpy as np
    >>> round(pearson(np.array([1.0, 2.0, 4.0]), np.array([2.0, 4.0, 8.0])), 12)
    1.0
    >>> pearson(np.ones(3), np.arange(3.0))
    0.0
    """
    d = np.asarray(values, dtype=np.float64).ravel()
    g = np.asarray(reference, dtype=np.float64).ravel()
    n = float(len(d))
    if n == 0:
        return undefined
    md, mg = d.sum() / n, g.sum() / n
    product = max((np.dot(d, d) - n * md * md) * (np.dot(g, g) - n * mg * mg), 0.0)
    root = np.sqrt(product)
    return float((np.dot(d, g) - n * md * mg) / root) if root > 0 else undefined
