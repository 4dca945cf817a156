"""Expected Q-scores at a resolution: the paper's statistical model (equations 1–4).

For sigma 0.4 (the EMDB's value) the mean curve of equation 1 is shifted by fixed offsets to give
Q_peak (the most commonly observed Q), Q_low_95% and Q_high_95% (about 5% of archive entries fall
outside them). For sigma 0.6 MapQ's own curve gives Q_peak, with bands of ±0.1; Q_mean is not
defined there and is reported as ``None`` (NaN in frames). Other sigma values have no bands:
scalar functions return ``None`` and vectorised ones return NaN bands / empty verdict codes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from qscore.checks import check_resolution, check_resolutions
from qscore.errors import ParameterError

#: Resolution range (Å) the curves were fitted on; outside it they are extrapolations.
VALID_RANGE = (1.0, 10.0)
#: Tolerance used when deciding whether sigma is 0.4 or 0.6.
SIGMA_TOLERANCE = 1e-3

#: Equation 1 coefficients (highest power first) for sigma 0.4.
MEAN_COEFFICIENTS_04 = (-0.0016, 0.0434, -0.3956, 1.3366)
#: Equations 2–4: offsets of Q_peak, Q_low_95% and Q_high_95% from Q_mean (sigma 0.4).
OFFSET_PEAK_04 = 0.024
OFFSET_LOW_04 = -0.126
OFFSET_HIGH_04 = 0.109
#: MapQ's Q_peak curve for sigma 0.6 (highest power first), and its ±band.
PEAK_COEFFICIENTS_06 = (-0.0019064058, 0.0499875375, -0.4513945578, 1.5361860733)
BAND_06 = 0.1

EXPLANATIONS = {
    "below": (
        "The Q-score is lower than commonly observed at this resolution: possible misfit of the "
        "model to the map, or a map resolution worse than reported."
    ),
    "typical": "The Q-score is as commonly observed for maps and models at this resolution.",
    "above": (
        "The Q-score is higher than commonly observed at this resolution: possible "
        "oversharpening of the map, overfitting of the model, or a map resolution better than "
        "reported."
    ),
}
LABELS = {
    "below": "below Q_low_95%",
    "typical": "as commonly observed",
    "above": "above Q_high_95%",
}


@dataclass(frozen=True)
class ExpectedQ:
    """Q_mean, Q_peak and the 95% band at one resolution and sigma."""

    resolution: float
    sigma: float
    q_mean: float | None
    q_peak: float
    q_low95: float
    q_high95: float
    warning: str | None = None


@dataclass(frozen=True)
class Verdict:
    """Where a Q-score falls relative to the 95% band, with the paper's interpretation."""

    code: str
    label: str
    explanation: str


def verdict_heading(label: str) -> str:
    """A verdict label as a heading: its first letter upper-case, symbols kept as they are.

    ``"below Q_low_95%"`` becomes ``"Below Q_low_95%"`` (not ``str.capitalize``'s
    ``"Below q_low_95%"``).
    """
    return label[:1].upper() + label[1:]


def _sigma_kind(sigma: float) -> str | None:
    """'0.4', '0.6' or None (no bands) for a sigma value, within SIGMA_TOLERANCE."""
    if not math.isfinite(sigma) or sigma <= 0:
        raise ParameterError(f"Sigma must be a positive number of Å; got {sigma}.")
    if abs(sigma - 0.4) <= SIGMA_TOLERANCE:
        return "0.4"
    if abs(sigma - 0.6) <= SIGMA_TOLERANCE:
        return "0.6"
    return None


def has_bands(sigma: float) -> bool:
    """True when the statistical model defines expected Q-scores for this sigma (0.4 or 0.6)."""
    return _sigma_kind(sigma) is not None


def _range_warning(resolution: float) -> str | None:
    """A sentence when the resolution lies outside the range the curves were fitted on."""
    low, high = VALID_RANGE
    if low <= resolution <= high:
        return None
    return (
        f"The resolution {resolution:g} Å is outside the {low:g}–{high:g} Å range the expected "
        "Q-scores were fitted on; the values are extrapolated and should be read with caution."
    )


def _bands(resolution: np.ndarray, kind: str) -> tuple[np.ndarray, ...]:
    """(q_mean, q_peak, q_low95, q_high95) arrays for a sigma kind."""
    if kind == "0.4":
        mean = np.polyval(MEAN_COEFFICIENTS_04, resolution)
        return mean, mean + OFFSET_PEAK_04, mean + OFFSET_LOW_04, mean + OFFSET_HIGH_04
    peak = np.polyval(PEAK_COEFFICIENTS_06, resolution)
    return np.full_like(peak, np.nan), peak, peak - BAND_06, peak + BAND_06


def expected_q(resolution: float, sigma: float = 0.4) -> ExpectedQ | None:
    """Expected Q-scores at a map resolution: Q_mean (eq. 1), Q_peak (eq. 2) and the 95% band
    (eq. 3–4) of the paper's archive fits.

    Parameters
    ----------
    resolution : float
        The map's reported resolution in Å.
    sigma : float, optional
        The Q-score's sigma in Å: the paper's curves exist for 0.4 (EMDB) and 0.6 (MapQ's
        default in Chimera).

    Returns
    -------
    ExpectedQ or None
        The expected values, with a warning outside the fitted range (1–10 Å at 0.4); None when
        ``sigma`` has no published bands.

    Raises
    ------
    ParameterError
        When the resolution or sigma is not a positive number.

    Examples
    --------
    >>> bands = expected_q(3.0)
    >>> round(bands.q_low95, 3), round(bands.q_peak, 3), round(bands.q_high95, 3)
    (0.371, 0.521, 0.606)
    >>> expected_q(3.0, sigma=0.5) is None
    True
    """
    res = check_resolution(resolution)
    kind = _sigma_kind(float(sigma))
    if kind is None:
        return None
    mean, peak, low, high = (float(v) for v in _bands(np.array(res), kind))
    return ExpectedQ(
        resolution=res,
        sigma=float(sigma),
        q_mean=None if math.isnan(mean) else mean,
        q_peak=peak,
        q_low95=low,
        q_high95=high,
        warning=_range_warning(res),
    )


def expected_curves(resolutions: np.ndarray, sigma: float = 0.4) -> pd.DataFrame:
    """Frame of resolution, q_mean, q_peak, q_low95, q_high95 for plotting (NaN without bands)."""
    res = check_resolutions(resolutions).ravel()
    kind = _sigma_kind(float(sigma))
    columns: tuple[np.ndarray, ...]
    if kind is None:
        nan = np.full_like(res, np.nan)
        columns = (nan, nan, nan, nan)
    else:
        columns = _bands(res, kind)
    return pd.DataFrame(
        {
            "resolution": res,
            "q_mean": columns[0],
            "q_peak": columns[1],
            "q_low95": columns[2],
            "q_high95": columns[3],
        }
    )


def _verdict_of(code: str) -> Verdict:
    return Verdict(code=code, label=LABELS[code], explanation=EXPLANATIONS[code])


def verdict(q: float, resolution: float, sigma: float = 0.4) -> Verdict | None:
    """Classify ``q`` against the 95% band at ``resolution``, with the paper's reading of it.

    The band is inclusive: a Q equal to Q_low_95% or Q_high_95% counts as commonly observed.

    Parameters
    ----------
    q : float
        A Q-score (of a model, chain, residue or atom).
    resolution : float
        The map's reported resolution in Å.
    sigma : float, optional
        The sigma ``q`` was computed with (0.4 or 0.6 have bands).

    Returns
    -------
    Verdict or None
        ``code`` is ``"below"``, ``"typical"`` or ``"above"``; None when ``sigma`` has no bands.

    Raises
    ------
    ParameterError
        When the resolution or sigma is not a positive number.

    Examples
    --------
    >>> verdict(0.30, 3.0).code, verdict(0.52, 3.0).code, verdict(0.70, 3.0).code
    ('below', 'typical', 'above')
    """
    if not math.isfinite(float(q)):
        raise ParameterError(f"The Q-score must be a finite number; got {q}.")
    expected = expected_q(resolution, sigma)
    if expected is None:
        return None
    if q < expected.q_low95:
        return _verdict_of("below")
    if q > expected.q_high95:
        return _verdict_of("above")
    return _verdict_of("typical")


def implied_resolution(q: np.ndarray | float, sigma: float = 0.4) -> np.ndarray:
    """Resolution (Å) at which each Q would be Q_peak: equation 1–2 (or MapQ's sigma-0.6 curve)
    inverted on the fitted range.

    Q_peak falls monotonically with resolution over :data:`VALID_RANGE`, so the inverse is
    unique there; a Q above Q_peak(1 Å) gives 1 Å and one below Q_peak(10 Å) gives 10 Å (the
    range ends, to be read as "at most" and "at least"). NaN for NaN Q or a sigma without bands.
    """
    qs = np.asarray(q, dtype=float)
    kind = _sigma_kind(float(sigma))
    if kind is None:
        return np.full(qs.shape, np.nan)
    grid = np.linspace(VALID_RANGE[0], VALID_RANGE[1], 9001)
    peak = _bands(grid, kind)[1]
    # np.interp needs increasing x: Q_peak decreases with resolution, so read both reversed.
    out = np.interp(qs, peak[::-1], grid[::-1])
    return np.where(np.isfinite(qs), out, np.nan)


def verdict_codes(q: np.ndarray, resolution: float | np.ndarray, sigma: float = 0.4) -> np.ndarray:
    """Verdict code per Q ("below", "typical", "above"); "" for NaN Q or sigma without bands.

    ``resolution`` is one value for the whole model or an array broadcastable against ``q``.
    Used to colour per-residue outliers.
    """
    qs = np.asarray(q, dtype=float)
    res = check_resolutions(resolution)
    codes = np.full(np.broadcast(qs, res).shape, "", dtype="<U7")
    kind = _sigma_kind(float(sigma))
    if kind is None:
        return codes
    qs, res = np.broadcast_arrays(qs, res)
    _, _, low, high = _bands(res.astype(float), kind)
    finite = np.isfinite(qs)
    codes[finite] = "typical"
    codes[finite & (qs < low)] = "below"
    codes[finite & (qs > high)] = "above"
    return codes
