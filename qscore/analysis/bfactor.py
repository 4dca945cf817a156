"""Atomic B-factors from Q-scores (paper §6, eq. 5, A1.5): B = f·(1 − Q), f chosen by CC-mean.

For each scale factor f of a scan (0, 20, …, 300 by default) the model's electron-scattering map
is computed with B = f·(1 − Q) (:class:`qscore.analysis.modelmap.ElectronMapper`) and compared with the
experimental map by CC-mean over the model-map points above 0.01; the f with the highest CC-mean
gives the B-factors. The model's CC-mean with B = 0 and with its deposited B-factors are computed
the same way, for comparison.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from qscore import defaults
from qscore.analysis.modelmap import ElectronMapper, check_overlap, overlap_and_correlation
from qscore.checks import check_resolution
from qscore.errors import ParameterError
from qscore.io.maps import DensityMap
from qscore.io.models import AtomModel
from qscore.progress import Progress


def f_values(f_range: tuple[float, float, float] = defaults.F_RANGE) -> np.ndarray:
    """The scale factors of a scan ``(start, stop, step)``, stop included (0, 20, …, 300)."""
    try:
        start, stop, step = (float(v) for v in f_range)
    except (TypeError, ValueError):
        raise ParameterError(
            f"The f range must be three numbers (start, stop, step); got {f_range!r}."
        ) from None
    if not all(math.isfinite(v) for v in (start, stop, step)):
        raise ParameterError("The f range must hold finite numbers (start, stop, step).")
    if start < 0:
        raise ParameterError(
            f"The scale factor f cannot be negative; the range starts at {start:g}."
        )
    if step <= 0:
        raise ParameterError(f"The f step must be positive; got {step:g}.")
    if stop < start:
        raise ParameterError(
            f"The f range is empty: it stops at {stop:g}, before its start {start:g}."
        )
    count = int(math.floor((stop - start) / step + 1e-9)) + 1
    if count > 1000:
        raise ParameterError(f"The f range holds {count} values; use at most 1000 (a larger step).")
    return start + step * np.arange(count)


def parse_f_range(text: str) -> tuple[float, float, float]:
    """``"START:STOP:STEP"`` (e.g. ``0:300:20``) as three floats; a clear error otherwise."""
    parts = str(text).split(":")
    if len(parts) != 3:
        raise ParameterError(
            f"The f range must be written START:STOP:STEP, for example 0:300:20; got {text!r}."
        )
    try:
        start, stop, step = (float(p) for p in parts)
    except ValueError:
        raise ParameterError(
            f"The f range must be written START:STOP:STEP with numbers, for example 0:300:20; "
            f"got {text!r}."
        ) from None
    values = (start, stop, step)
    f_values(values)
    return values


def b_from_q(q: np.ndarray, f: float) -> np.ndarray:
    """Eq. 5: B = f·(1 − Q) with Q clipped to [0, 1]; atoms without Q (NaN) count as Q = 0.

    Hydrogens already carry their heavy atom's Q (the engine copies it), so they get its B.
    """
    q = np.clip(np.nan_to_num(np.asarray(q, dtype=np.float64), nan=0.0), 0.0, 1.0)
    return float(f) * (1.0 - q)


@dataclass(frozen=True, eq=False)
class BFactorResult:
    """The f scan, the chosen f, the per-atom B-factors and the CC-mean of the reference maps."""

    scan: pd.DataFrame
    best_f: float
    b_iso: np.ndarray
    cc_mean_best: float
    cc_mean_b0: float
    cc_mean_deposited: float
    resolution: float
    threshold: float
    seconds: float
    notes: tuple[str, ...] = field(default=())


def _cc_mean(mapper: ElectronMapper, exp: np.ndarray, b: np.ndarray, threshold: float):
    """CC-mean (and CC, point count) of the electron map for ``b`` over its points ≥ threshold."""
    values = mapper.values(b)
    mask = values >= threshold
    return overlap_and_correlation(values[mask], exp[mask])


def estimate_bfactors(
    dmap: DensityMap,
    model: AtomModel,
    q: np.ndarray,
    resolution: float,
    *,
    f_range: tuple[float, float, float] = defaults.F_RANGE,
    threshold: float = defaults.CC_THRESHOLD,
    progress: Progress | None = None,
) -> BFactorResult:
    """Scan f, build the electron model map with B = f·(1 − Q) for each, keep the best CC-mean.

    ``q`` is the engine's per-atom Q (aligned with ``model``). Ties go to the smallest f. Raises
    :class:`ParameterError` for a bad resolution or f range and :class:`NoOverlapError` when the
    model lies outside the map.
    """
    start = time.perf_counter()
    d = check_resolution(resolution)
    fs = f_values(f_range)
    q = np.asarray(q, dtype=np.float64)
    if q.shape != (model.n_atoms,):
        raise ParameterError(
            f"The Q-scores ({q.size}) must be aligned with the model's {model.n_atoms} atoms."
        )
    check_overlap(dmap, model)
    notes = []
    missing = int(np.count_nonzero(~np.isfinite(q)))
    if missing:
        notes.append(
            f"{missing} atoms have no Q-score (outside the map, or hydrogens without a bonded "
            "atom); they are given Q = 0, so B = f."
        )
    total = len(fs) + 2
    if progress:
        progress(0, total, "model maps for the f scan")
    mapper = ElectronMapper(model, d, dmap)
    exp = mapper.experimental_values(dmap)
    rows = []
    for i, f in enumerate(fs):
        corr = _cc_mean(mapper, exp, b_from_q(q, f), threshold)
        rows.append(
            {"f": float(f), "cc_mean": corr.cc_mean, "cc": corr.cc, "n_points": corr.n_points}
        )
        if progress:
            progress(i + 1, total, "model maps for the f scan")
    scan = pd.DataFrame(rows, columns=["f", "cc_mean", "cc", "n_points"])
    finite = scan["cc_mean"].to_numpy()
    if not np.any(np.isfinite(finite)):
        raise ParameterError(
            "No model map in the f scan correlates with the map (no points above the threshold, "
            "or a constant map); check the resolution and that map and model belong together."
        )
    best = int(np.nanargmax(finite))
    best_f = float(scan["f"].iloc[best])
    b0_rows = scan.index[scan["f"] == 0.0]
    if len(b0_rows):
        cc_b0 = float(scan["cc_mean"].iloc[b0_rows[0]])
    else:
        cc_b0 = _cc_mean(mapper, exp, np.zeros(model.n_atoms), threshold).cc_mean
    if progress:
        progress(total - 1, total, "model map with B = 0")
    deposited = np.asarray(model.b_iso, dtype=np.float64)
    cc_dep = _cc_mean(mapper, exp, np.nan_to_num(deposited, nan=0.0), threshold).cc_mean
    if progress:
        progress(total, total, "model map with the deposited B-factors")
    return BFactorResult(
        scan=scan,
        best_f=best_f,
        b_iso=b_from_q(q, best_f),
        cc_mean_best=float(scan["cc_mean"].iloc[best]),
        cc_mean_b0=float(cc_b0),
        cc_mean_deposited=float(cc_dep),
        resolution=d,
        threshold=float(threshold),
        seconds=time.perf_counter() - start,
        notes=tuple(notes),
    )


def residue_b_table(model: AtomModel, b_iso: np.ndarray) -> pd.DataFrame:
    """Mean B (non-hydrogen atoms) per residue, one row per row of ``model.residues``."""
    heavy = model.heavy
    keys = np.asarray(model.residue_index)[heavy]
    n = np.bincount(keys, minlength=len(model.residues))
    total = np.bincount(keys, np.asarray(b_iso, dtype=np.float64)[heavy], len(model.residues))
    frame = model.residues[["chain", "resseq", "icode", "resname"]].reset_index(drop=True).copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        frame["mean_b"] = total / n
    return frame


def residue_correlations(
    dmap: DensityMap,
    model: AtomModel,
    resolution: float,
    b_iso: np.ndarray,
    *,
    threshold: float = defaults.CC_THRESHOLD,
) -> pd.DataFrame:
    """Per-residue CC/CC-mean of the molmap-style map and of the electron map with ``b_iso``.

    Columns ``cc``, ``cc_mean`` (molmap, A1.4), ``cc_b``, ``cc_mean_b`` (electron map with the
    given B-factors), ``mean_b`` and ``n_points`` (molmap points); points are split among the
    residues by nearest atom (:func:`qscore.analysis.modelmap.group_correlation`).
    """
    from qscore.analysis.modelmap import electron_map, group_correlation, molmap

    d = check_resolution(resolution)
    mol = group_correlation(molmap(model, d), dmap, model, threshold=threshold)
    ele = group_correlation(
        electron_map(model, d, dmap, b_iso=b_iso), dmap, model, threshold=threshold
    )
    frame = mol[["chain", "resseq", "icode", "resname", "cc", "cc_mean"]].copy()
    frame["cc_b"] = ele["cc"].to_numpy()
    frame["cc_mean_b"] = ele["cc_mean"].to_numpy()
    frame["mean_b"] = residue_b_table(model, b_iso)["mean_b"].to_numpy()
    frame["n_points"] = mol["n_points"].to_numpy()
    return frame


def model_correlations(
    dmap: DensityMap,
    model: AtomModel,
    resolution: float,
    *,
    threshold: float = defaults.CC_THRESHOLD,
) -> dict:
    """Model-level and per-chain CC/CC-mean of the molmap-style map (A1.4, grid step d/3)."""
    from qscore.analysis.modelmap import group_correlation, map_correlation, molmap

    check_overlap(dmap, model)
    mol = molmap(model, resolution)
    whole = map_correlation(mol, dmap, threshold=threshold)
    chains = group_correlation(mol, dmap, model, by="chain", threshold=threshold)
    return {
        "cc": whole.cc,
        "cc_mean": whole.cc_mean,
        "n_points": whole.n_points,
        "chains": {
            str(r.chain): {"cc": float(r.cc), "cc_mean": float(r.cc_mean)}
            for r in chains.itertuples()
        },
    }


@dataclass(frozen=True, eq=False)
class BFactorReport:
    """Everything the B-factor views show: the scan, molmap CC/CC-mean and the residue table."""

    result: BFactorResult
    correlations: dict
    residues: pd.DataFrame


def report(
    dmap: DensityMap,
    model: AtomModel,
    q: np.ndarray,
    resolution: float,
    *,
    f_range: tuple[float, float, float] = defaults.F_RANGE,
    progress: Progress | None = None,
) -> BFactorReport:
    """The f scan, model/chain correlations and per-residue correlations in one call."""
    result = estimate_bfactors(dmap, model, q, resolution, f_range=f_range, progress=progress)
    return BFactorReport(
        result=result,
        correlations=model_correlations(dmap, model, resolution),
        residues=residue_correlations(dmap, model, resolution, result.b_iso),
    )
