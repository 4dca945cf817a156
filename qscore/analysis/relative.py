"""Q_relative_all and Q_relative_resolution (paper equations 6 and 7), as percentages.

Q_relative_all is the share of reference entries whose Q-score is strictly lower than Q.
Q_relative_resolution is the same share among entries whose reported resolution lies within
``window`` Å of the resolution d, bounds included (|resolution − d| ≤ w, with a 1e-9 Å allowance
for floating-point fuzz so that 3.5 is inside the window of 3.0 with w = 0.5). The entry itself is
not removed from the reference: an archive entry is ranked among all entries, itself included.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from qscore.analysis.reference import ReferenceTable
from qscore.checks import check_positive, check_resolution, check_resolutions
from qscore.defaults import WINDOW
from qscore.errors import ParameterError

#: Allowance (Å) on the window bounds for floating-point fuzz.
EPSILON = 1e-9
#: Fewer entries than this in the window make Q_relative_resolution unreliable.
MIN_WINDOW_ENTRIES = 30

INTERPRETATION_LOW = (
    "Q_relative_resolution is below 5%: this could indicate an incorrect fit of the model to the "
    "map, or a map at lower resolution than reported."
)
INTERPRETATION_HIGH = (
    "Q_relative_resolution is above 95%: this could indicate oversharpening of the map, "
    "overfitting of the model, or a reported resolution that does not reflect the map."
)
INTERPRETATION_TYPICAL = (
    "Q_relative_resolution is between 5% and 95%: the Q-score is as commonly observed for entries "
    "of similar resolution (the closer to 50%, the more typical)."
)
INTERPRETATION_NONE = "No reference entries lie within the window, so no comparison is possible."


@dataclass(frozen=True)
class RelativeQ:
    """The two percentiles of one Q-score, the entry counts behind them and what they suggest."""

    q: float
    resolution: float
    window: float
    q_relative_all: float
    q_relative_resolution: float | None
    entries_all: int
    entries_window: int
    warning: str | None
    interpretation: str


def interpret(q_relative_resolution: float | None) -> str:
    """The paper's reading of a Q_relative_resolution percentage."""
    if q_relative_resolution is None or math.isnan(q_relative_resolution):
        return INTERPRETATION_NONE
    if q_relative_resolution < 5.0:
        return INTERPRETATION_LOW
    if q_relative_resolution > 95.0:
        return INTERPRETATION_HIGH
    return INTERPRETATION_TYPICAL


def check_parameters(q: float, resolution: float, window: float) -> tuple[float, float, float]:
    """Validated (q, resolution, window) as floats; ParameterError with a sentence otherwise."""
    q = float(q)
    if not math.isfinite(q):
        raise ParameterError(f"The Q-score must be a finite number; got {q}.")
    return q, check_resolution(resolution), check_positive(window, "The resolution window")


def _window_warning(count: int, resolution: float, window: float) -> str | None:
    if count >= MIN_WINDOW_ENTRIES:
        return None
    return (
        f"Only {count} reference entries lie within ±{window:g} Å of {resolution:g} Å (fewer than "
        f"{MIN_WINDOW_ENTRIES}); Q_relative_resolution is not statistically meaningful here."
    )


def relative_q(
    q: float, resolution: float, reference: ReferenceTable, window: float = WINDOW
) -> RelativeQ:
    """Q_relative_all and Q_relative_resolution (eq. 6–7): the percentage of reference entries,
    over the whole archive and within ``window`` Å of ``resolution``, whose Q is lower than ``q``.

    Parameters
    ----------
    q : float
        The model's Q-score (at sigma 0.4, as the archive's).
    resolution : float
        The map's reported resolution in Å.
    reference : ReferenceTable
        The archive entries (id, resolution, qscore).
    window : float, optional
        Half-width of the resolution window in Å (the paper's ±0.5 Å by default).

    Returns
    -------
    RelativeQ
        Both percentages, the entry counts behind them, a warning when the window holds few
        entries, and the paper's interpretation.

    Raises
    ------
    ParameterError
        When ``q`` is not finite or the resolution or window is not positive.

    Examples
    --------
    >>> import pandas as pd
    >>> from qscore.analysis.reference import ReferenceTable
    >>> archive = ReferenceTable(
    ...     pd.DataFrame({"id": list("abcd"), "resolution": [2.9, 3.0, 3.2, 8.0],
    ...                   "qscore": [0.40, 0.50, 0.60, 0.20]}), source="four entries")
    >>> rel = relative_q(0.55, 3.0, archive)
    >>> rel.q_relative_all, round(rel.q_relative_resolution, 1), rel.entries_window
    (75.0, 66.7, 3)
    """
    q, resolution, window = check_parameters(q, resolution, window)
    res = reference.data["resolution"].to_numpy(dtype=float)
    qs = reference.data["qscore"].to_numpy(dtype=float)
    entries_all = int(qs.size)
    q_all = 100.0 * np.count_nonzero(qs < q) / entries_all if entries_all else math.nan
    inside = np.abs(res - resolution) <= window + EPSILON
    entries_window = int(np.count_nonzero(inside))
    q_res = 100.0 * np.count_nonzero(qs[inside] < q) / entries_window if entries_window else None
    return RelativeQ(
        q=q,
        resolution=resolution,
        window=window,
        q_relative_all=float(q_all),
        q_relative_resolution=None if q_res is None else float(q_res),
        entries_all=entries_all,
        entries_window=entries_window,
        warning=_window_warning(entries_window, resolution, window),
        interpretation=interpret(q_res),
    )


def relative_q_many(
    q: np.ndarray, resolution: np.ndarray, reference: ReferenceTable, window: float = WINDOW
) -> pd.DataFrame:
    """Vectorised :func:`relative_q`: one row per (q, resolution) pair.

    Columns: q, resolution, q_relative_all, q_relative_resolution (NaN for an empty window),
    entries_window. Pairs sharing a resolution share one sorted window, so ranking a whole archive
    against itself takes about a second.
    """
    qs = np.asarray(q, dtype=float).ravel()
    ds = check_resolutions(resolution).ravel()
    if qs.shape != ds.shape:
        raise ParameterError("The Q-scores and resolutions must have the same length.")
    check_parameters(0.0, 1.0, window)
    ref_res = reference.data["resolution"].to_numpy(dtype=float)
    ref_q = reference.data["qscore"].to_numpy(dtype=float)
    order = np.argsort(ref_res, kind="stable")
    ref_res, ref_q = ref_res[order], ref_q[order]
    q_all = 100.0 * np.searchsorted(np.sort(ref_q), qs, side="left") / max(ref_q.size, 1)
    q_window = np.full(qs.shape, np.nan)
    counts = np.zeros(qs.shape, dtype=np.int64)
    unique, inverse = np.unique(ds, return_inverse=True)
    starts = np.searchsorted(ref_res, unique - window - EPSILON, side="left")
    stops = np.searchsorted(ref_res, unique + window + EPSILON, side="right")
    grouped = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[grouped], np.arange(unique.size + 1), side="left")
    for k in range(unique.size):
        members = grouped[bounds[k] : bounds[k + 1]]
        n = int(stops[k] - starts[k])
        counts[members] = n
        if n:
            window_q = np.sort(ref_q[starts[k] : stops[k]])
            q_window[members] = 100.0 * np.searchsorted(window_q, qs[members], side="left") / n
    q_all = np.where(np.isfinite(qs), q_all, np.nan)
    q_window = np.where(np.isfinite(qs), q_window, np.nan)
    return pd.DataFrame(
        {
            "q": qs,
            "resolution": ds,
            "q_relative_all": q_all,
            "q_relative_resolution": q_window,
            "entries_window": counts,
        }
    )


def archive_percentiles(reference: ReferenceTable, window: float = WINDOW) -> pd.DataFrame:
    """Each reference entry ranked within its own resolution window (itself included)."""
    frame = relative_q_many(
        reference.data["qscore"].to_numpy(),
        reference.data["resolution"].to_numpy(),
        reference,
        window,
    )
    frame.insert(0, "id", reference.data["id"].to_numpy())
    return frame
