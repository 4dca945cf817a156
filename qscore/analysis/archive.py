"""Archive statistics on a reference table: the analyses behind the paper's statistical model.

* The selection: like the paper, the statistics are computed on the entries with a reported
  resolution of 1–10 Å (``RESOLUTION_RANGE``, the range equations 1–4 are valid on); another range,
  or the whole table (``None``), can be asked for. On the ``va`` table (25,322 entries of
  0.6–53 Å) the 1–10 Å cubic is −0.0015, 0.0423, −0.388, 1.315, close to equation 1; over the
  whole range it is −0.0001, 0.0077, −0.155, 0.880.
* Polynomial fits of Q against resolution (degrees 1–4) with R² (paper §2).
* k-fold cross-validation: 10 folds of a fixed random permutation, each fold held out once, so
  every split is 90% training / 10% testing (paper A1.3); R², RMSE and MAE on the held-out part,
  averaged over folds.
* Offsets of the fitted curve (paper §3, equations 2–4):
  - peak: residuals (Q − curve) are binned in 0.01-wide bins whose edges are integer multiples of
    0.01 (bin k covers [0.01k, 0.01(k+1))); the peak offset is the centre of the fullest bin
    (the lowest one on a tie).
  - low95/high95: rolling resolution windows centred on 1.0, 1.1, …, 10.0 Å (|d − centre| ≤ 0.5 Å,
    at least 30 entries); in each window the 5th and 95th percentiles of Q minus the curve at the
    centre; the offsets are their means over windows. On the paper's 10,188 entries this gives
    −0.120 / +0.106 (paper: −0.126 / +0.109), closer than global residual percentiles
    (2.5/97.5th: −0.182 / +0.108; 5/95th: −0.137 / +0.095), which are reported alongside.
    The peak offset there is +0.025 (bin [0.02, 0.03); paper: +0.024).
* Window analysis (paper Table 1 and Supplementary Fig. S5): for each window size, the minimum,
  mean and maximum number of entries in the window of every entry with a resolution of 1–10 Å
  (the entries' own resolutions are the window centres, which matches the scale of Table 1), and
  the Pearson correlation between resolution and each entry's Q_relative_resolution, separately
  for entries below 5 Å and from 5 Å. On the paper's data the correlation nears −0.3 at 0.5 Å for
  entries below 5 Å (better than 5 Å, i.e. "higher resolution") and stays small from 5 Å.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from qscore.analysis.expected import MEAN_COEFFICIENTS_04, VALID_RANGE
from qscore.analysis.reference import ReferenceTable
from qscore.analysis.relative import EPSILON, MIN_WINDOW_ENTRIES, relative_q_many
from qscore.engine.correlation import pearson
from qscore.errors import ParameterError, ReferenceTableError

DEGREES = (1, 2, 3, 4)
FOLDS = 10
SEED = 0
BIN_WIDTH = 0.01
BAND_WINDOW = 0.5
BAND_PERCENTILES = (5.0, 95.0)
#: Window centres (Å) for the 95% offsets.
BAND_CENTRES = tuple(round(1.0 + 0.1 * k, 1) for k in range(91))
#: Window sizes (Å) of the paper's Table 1.
WINDOW_SIZES = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2, 1.5)
#: The paper's selection (Å): entries with a reported resolution in this range are fitted.
RESOLUTION_RANGE = VALID_RANGE
CORRELATION_SPLIT = 5.0
#: Fewest entries a selection must hold: two per cross-validation fold.
MIN_ENTRIES = 2 * FOLDS

Range = tuple[float, float]


@dataclass(frozen=True)
class CrossValidation:
    """Held-out R², RMSE and MAE averaged over folds, and the per-fold values."""

    degree: int
    folds: int
    seed: int
    r2: float
    rmse: float
    mae: float
    per_fold: pd.DataFrame = field(repr=False)


@dataclass(frozen=True)
class Offsets:
    """Offsets of the fitted curve to Q_peak, Q_low_95% and Q_high_95%, and how they were found."""

    peak: float
    low95: float
    high95: float
    peak_count: int
    bin_width: float
    band_windows: int
    residual_percentiles: dict[str, float]


def select_resolution(table: ReferenceTable, resolution_range: Range | None) -> ReferenceTable:
    """The entries of ``table`` whose reported resolution lies in ``resolution_range`` (ends in).

    Parameters
    ----------
    table : ReferenceTable
        The reference entries.
    resolution_range : tuple of float or None
        (low, high) in Å; None keeps the whole table.

    Returns
    -------
    ReferenceTable
        The selected entries, with the table's source and version.

    Raises
    ------
    ParameterError
        If the range is not two positive numbers, the first below the second.
    ReferenceTableError
        If fewer than ``MIN_ENTRIES`` entries fall in the range.
    """
    if resolution_range is None:
        return table
    low, high = (float(v) for v in resolution_range)
    if not (math.isfinite(low) and math.isfinite(high) and 0 <= low < high):
        raise ParameterError(
            f"The resolution range must be two numbers of Å, the first below the second "
            f"(got {low:g}–{high:g})."
        )
    x = table.data["resolution"].to_numpy(dtype=float)
    chosen = (x >= low - EPSILON) & (x <= high + EPSILON)
    count = int(np.count_nonzero(chosen))
    if count < MIN_ENTRIES:
        raise ReferenceTableError(
            f"Only {count} entries of {table.describe()} have a resolution of {low:g}–{high:g} Å; "
            f"the statistics need at least {MIN_ENTRIES} (two per cross-validation fold)."
        )
    data = table.data[chosen].reset_index(drop=True)
    return ReferenceTable(data=data, source=table.source, version=table.version)


def describe_selection(entries: int, entries_table: int, resolution_range: Range | None) -> str:
    """One sentence naming the selection fitted, and the paper's when it differs.

    ``"24,718 of 25,322 entries: those with a reported resolution of 1–10 Å (the paper's
    selection)"``.
    """
    low, high = RESOLUTION_RANGE
    if resolution_range is None:
        chosen = "the whole table"
    else:
        chosen = (
            f"those with a reported resolution of {resolution_range[0]:g}–{resolution_range[1]:g} Å"
        )
    same = resolution_range is not None and tuple(map(float, resolution_range)) == (low, high)
    paper = "the paper's selection" if same else f"the paper's selection is {low:g}–{high:g} Å"
    return f"{entries:,} of {entries_table:,} entries: {chosen} ({paper})"


def parse_resolution_range(text: str) -> Range | None:
    """``"LOW:HIGH"`` (e.g. ``1:10``) as two floats, or None for ``all`` (the whole table).

    Raises
    ------
    ParameterError
        If the text is neither ``all`` nor two numbers, the first below the second.
    """
    text = str(text).strip()
    if text.lower() == "all":
        return None
    parts = text.split(":")
    try:
        if len(parts) != 2:
            raise ValueError
        low, high = (float(p) for p in parts)
    except ValueError:
        raise ParameterError(
            f"The resolution range must be written LOW:HIGH in Å, for example 1:10, or 'all' for "
            f"the whole table; got {text!r}."
        ) from None
    if not (math.isfinite(low) and math.isfinite(high) and 0 <= low < high):
        raise ParameterError(
            f"The resolution range must be two numbers of Å, the first below the second; "
            f"got {text!r}."
        )
    return low, high


def _xy(table: ReferenceTable) -> tuple[np.ndarray, np.ndarray]:
    return (
        table.data["resolution"].to_numpy(dtype=float),
        table.data["qscore"].to_numpy(dtype=float),
    )


def fit_polynomial(x: np.ndarray, y: np.ndarray, degree: int) -> np.ndarray:
    """Least-squares polynomial coefficients, highest power first (as numpy.polyval expects)."""
    return np.polynomial.Polynomial.fit(x, y, degree).convert().coef[::-1].copy()


def r_squared(y: np.ndarray, predicted: np.ndarray) -> float:
    """Coefficient of determination 1 − SS_res / SS_tot."""
    total = float(np.sum((y - np.mean(y)) ** 2))
    return math.nan if total == 0 else 1.0 - float(np.sum((y - predicted) ** 2)) / total


def polynomial_fits(table: ReferenceTable, degrees: tuple[int, ...] = DEGREES) -> pd.DataFrame:
    """One row per degree: degree, r2, rmse and coefficients (highest power first)."""
    x, y = _xy(table)
    rows = []
    for degree in degrees:
        coefficients = fit_polynomial(x, y, degree)
        predicted = np.polyval(coefficients, x)
        rows.append(
            {
                "degree": int(degree),
                "r2": r_squared(y, predicted),
                "rmse": float(np.sqrt(np.mean((y - predicted) ** 2))),
                "coefficients": [float(c) for c in coefficients],
            }
        )
    return pd.DataFrame(rows)


def equation_1_comparison(table: ReferenceTable, coefficients: np.ndarray) -> pd.DataFrame:
    """The paper's equation 1 beside a refit, with the R² of each on ``table``.

    Parameters
    ----------
    table : ReferenceTable
        The entries the refit was made on (the selection).
    coefficients : numpy.ndarray
        The refit's cubic coefficients, highest power first.

    Returns
    -------
    pandas.DataFrame
        Rows ``equation 1 (paper)`` and ``refit``; columns ``curve, a3, a2, a1, a0, r2``.
    """
    x, y = _xy(table)
    curves = {
        "equation 1 (paper)": np.asarray(MEAN_COEFFICIENTS_04, dtype=float),
        "refit": np.asarray(coefficients, dtype=float),
    }
    frame = pd.DataFrame(
        [[float(c) for c in curve] for curve in curves.values()], columns=["a3", "a2", "a1", "a0"]
    )
    frame.insert(0, "curve", list(curves))
    frame["r2"] = [r_squared(y, np.polyval(curve, x)) for curve in curves.values()]
    return frame


def cross_validate(
    table: ReferenceTable, degree: int = 3, folds: int = FOLDS, seed: int = SEED
) -> CrossValidation:
    """k-fold cross-validation of the polynomial fit; deterministic for a given seed."""
    x, y = _xy(table)
    permutation = np.random.default_rng(seed).permutation(x.size)
    rows = []
    for k, test in enumerate(np.array_split(permutation, folds)):
        train = np.setdiff1d(permutation, test, assume_unique=True)
        coefficients = fit_polynomial(x[train], y[train], degree)
        predicted = np.polyval(coefficients, x[test])
        error = y[test] - predicted
        rows.append(
            {
                "fold": k,
                "train": int(train.size),
                "test": int(test.size),
                "r2": r_squared(y[test], predicted),
                "rmse": float(np.sqrt(np.mean(error**2))),
                "mae": float(np.mean(np.abs(error))),
            }
        )
    per_fold = pd.DataFrame(rows)
    return CrossValidation(
        degree=degree,
        folds=folds,
        seed=seed,
        r2=float(per_fold["r2"].mean()),
        rmse=float(per_fold["rmse"].mean()),
        mae=float(per_fold["mae"].mean()),
        per_fold=per_fold,
    )


def residuals(table: ReferenceTable, coefficients: np.ndarray) -> np.ndarray:
    """Q minus the polynomial curve at each entry's resolution."""
    x, y = _xy(table)
    return y - np.polyval(coefficients, x)


def peak_offset(values: np.ndarray, bin_width: float = BIN_WIDTH) -> tuple[float, int]:
    """Centre and count of the fullest bin; bin k covers [k·width, (k+1)·width)."""
    index = np.floor(np.round(np.asarray(values, dtype=float) / bin_width, 9)).astype(np.int64)
    bins, counts = np.unique(index, return_counts=True)
    best = int(np.argmax(counts))
    return float((bins[best] + 0.5) * bin_width), int(counts[best])


def band_offsets(
    table: ReferenceTable,
    coefficients: np.ndarray,
    centres: tuple[float, ...] = BAND_CENTRES,
    window: float = BAND_WINDOW,
    percentiles: tuple[float, float] = BAND_PERCENTILES,
) -> tuple[float, float, int]:
    """Mean over rolling windows of (low, high percentile of Q) − curve at the window centre."""
    x, y = _xy(table)
    lows, highs = [], []
    for centre in centres:
        inside = np.abs(x - centre) <= window + EPSILON
        if np.count_nonzero(inside) < MIN_WINDOW_ENTRIES:
            continue
        low, high = np.percentile(y[inside], percentiles)
        curve = float(np.polyval(coefficients, centre))
        lows.append(low - curve)
        highs.append(high - curve)
    if not lows:
        return math.nan, math.nan, 0
    return float(np.mean(lows)), float(np.mean(highs)), len(lows)


def offsets(table: ReferenceTable, coefficients: np.ndarray) -> Offsets:
    """Peak and 95% offsets of the curve ``coefficients`` on ``table`` (see module docstring)."""
    values = residuals(table, coefficients)
    peak, count = peak_offset(values)
    low, high, used = band_offsets(table, coefficients)
    p = np.percentile(values, [2.5, 5.0, 95.0, 97.5])
    return Offsets(
        peak=peak,
        low95=low,
        high95=high,
        peak_count=count,
        bin_width=BIN_WIDTH,
        band_windows=used,
        residual_percentiles={"p2.5": p[0], "p5": p[1], "p95": p[2], "p97.5": p[3]},
    )


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    """The correlation of a percentile curve with resolution; NaN below three points."""
    return pearson(a, b, undefined=math.nan) if a.size >= 3 else math.nan


def window_statistics(
    table: ReferenceTable,
    windows: tuple[float, ...] = WINDOW_SIZES,
    resolution_range: tuple[float, float] = RESOLUTION_RANGE,
    split: float = CORRELATION_SPLIT,
) -> pd.DataFrame:
    """Entries per window (min/mean/max) and Q_relative_resolution–resolution correlations.

    Window centres are the resolutions of the entries within ``resolution_range``; correlations
    use the same entries, split into resolution < ``split`` and ≥ ``split``.
    """
    x, y = _xy(table)
    chosen = (x >= resolution_range[0] - EPSILON) & (x <= resolution_range[1] + EPSILON)
    xs, ys = x[chosen], y[chosen]
    below = xs < split
    rows = []
    for window in windows:
        ranked = relative_q_many(ys, xs, table, window)
        counts = ranked["entries_window"].to_numpy()
        percent = ranked["q_relative_resolution"].to_numpy()
        rows.append(
            {
                "window": float(window),
                "entries_min": int(counts.min()) if counts.size else 0,
                "entries_mean": float(counts.mean()) if counts.size else math.nan,
                "entries_max": int(counts.max()) if counts.size else 0,
                "r_below_split": _pearson(percent[below], xs[below]),
                "r_from_split": _pearson(percent[~below], xs[~below]),
            }
        )
    return pd.DataFrame(rows)


def _clean(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def fit_statistical_model(
    table: ReferenceTable,
    degree: int = 3,
    *,
    resolution_range: Range | None = RESOLUTION_RANGE,
    folds: int = FOLDS,
    seed: int = SEED,
    windows: bool = True,
) -> dict[str, Any]:
    """All archive statistics as a JSON-ready dict (the form ``qscore stats --json`` writes).

    The statistics are computed on the entries with a resolution in ``resolution_range`` (the
    paper's 1–10 Å by default; None for the whole table).

    Keys: source, version, resolution_range (``[low, high]`` or None), entries (selected),
    entries_table, resolution_min/max (of the selection), polynomial (list of
    degree/r2/coefficients for degrees 1–4), model (the ``degree`` fit used below), equation_1
    (the paper's coefficients and their R² on the selection), cross_validation (r2/rmse/mae),
    offsets (peak/low95/high95 and residual percentiles) and, unless ``windows`` is False,
    windows.

    Raises
    ------
    ParameterError, ReferenceTableError
        As :func:`select_resolution`.
    """
    selected = select_resolution(table, resolution_range)
    x, y = _xy(selected)
    fits = polynomial_fits(selected, tuple(sorted(set(DEGREES) | {degree})))
    coefficients = fit_polynomial(x, y, degree)
    cv = cross_validate(selected, degree, folds, seed)
    off = offsets(selected, coefficients)
    cubic = fits.loc[fits["degree"] == 3, "coefficients"].iloc[0]
    paper = equation_1_comparison(selected, np.asarray(cubic)).iloc[0]
    result: dict[str, Any] = {
        "source": table.source,
        "version": table.version,
        "resolution_range": (
            None if resolution_range is None else [float(v) for v in resolution_range]
        ),
        "entries": selected.entries,
        "entries_table": table.entries,
        "resolution_min": float(x.min()),
        "resolution_max": float(x.max()),
        "polynomial": [
            {"degree": int(r.degree), "r2": _clean(r.r2), "coefficients": list(r.coefficients)}
            for r in fits.itertuples()
        ],
        "model": {"degree": degree, "coefficients": [float(c) for c in coefficients]},
        "equation_1": {
            "coefficients": [float(c) for c in MEAN_COEFFICIENTS_04],
            "r2": _clean(float(paper["r2"])),
        },
        "cross_validation": {
            "degree": degree,
            "folds": folds,
            "seed": seed,
            "r2": _clean(cv.r2),
            "rmse": _clean(cv.rmse),
            "mae": _clean(cv.mae),
        },
        "offsets": {
            "peak": _clean(off.peak),
            "low95": _clean(off.low95),
            "high95": _clean(off.high95),
            "peak_count": off.peak_count,
            "bin_width": off.bin_width,
            "band_windows": off.band_windows,
            "residual_percentiles": {k: _clean(v) for k, v in off.residual_percentiles.items()},
        },
    }
    if windows:
        centres = resolution_range or RESOLUTION_RANGE
        frame = window_statistics(selected, resolution_range=centres)
        result["windows"] = {
            "resolution_range": [float(v) for v in centres],
            "centres": "each entry's own resolution within the range",
            "split": CORRELATION_SPLIT,
            "rows": [
                {k: (_clean(v) if isinstance(v, float) else v) for k, v in row.items()}
                for row in frame.to_dict("records")
            ],
        }
    return result
