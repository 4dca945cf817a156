"""Local-resolution-aware verdicts: is a low Q a misfit, or a poorly resolved region?

The paper judges every residue against Q_peak and the 95% band at the map's one reported
resolution, and names the limit itself (section 8): a flexible domain at 6 Å is then flagged like
a misfit at 3 Å. Here each residue is also judged at its own local resolution:

* per atom, the local resolution is sampled trilinearly from a local-resolution map (values in Å,
  on any grid over the model's frame; voxels ≤ 0 Å or ≥ :data:`MAX_LOCAL_RESOLUTION` are taken
  as outside the estimate's mask and left out of the interpolation); per residue it is the mean
  over the atoms that have a Q;
* per residue, Q_peak and the 95% band at that resolution (equations 1–4, the resolution clamped
  to the fitted 1–10 Å range, and said), the ``local_verdict`` (below / typical / above), and the
  Q-implied resolution (where this Q would be Q_peak);
* a reading that joins both verdicts: below the local band is a *possible misfit*; below the
  global band but typical (or above) locally is a *poorly resolved region*.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from qscore.analysis.aggregate import _group_mean
from qscore.analysis.expected import VALID_RANGE, expected_curves, implied_resolution, verdict_codes
from qscore.errors import NoOverlapError, ParameterError
from qscore.io.maps import DensityMap, sample
from qscore.io.models import AtomModel

__all__ = [
    "LOCAL_COLUMNS",
    "MAX_LOCAL_RESOLUTION",
    "READINGS",
    "LocalResolution",
    "local_document",
    "local_summary",
    "local_verdicts",
    "residue_local_resolution",
    "sample_local_resolution",
]

#: Local-resolution values at or above this (Å), or at or below 0, mark voxels outside the
#: estimate's mask (ResMap writes 100 Å there, other programs 0).
MAX_LOCAL_RESOLUTION = 50.0
#: Below this median (Å) a "local-resolution map" holds frequencies or a density, not Å.
MIN_PLAUSIBLE_MEDIAN = 0.7
#: Columns added to the residue table, in order.
LOCAL_COLUMNS = (
    "local_resolution",
    "q_peak_local",
    "q_low95_local",
    "q_high95_local",
    "local_verdict",
    "q_resolution",
    "local_reading",
)
VERDICTS = ("below", "typical", "above")
#: Reading code -> what it tells the user.
READINGS = {
    "possible misfit": (
        "Q is below the 95% band even at this residue's local resolution: the map resolves this "
        "region, but the model does not follow it. Check the fit."
    ),
    "poorly resolved region": (
        "Q is below the band at the map's reported resolution, but not below the band at this "
        "residue's local resolution: the map is weaker here (flexibility, heterogeneity), which "
        "is not by itself a sign of a misfit."
    ),
    "above local band": (
        "Q is higher than commonly observed at this residue's local resolution: the local "
        "resolution may be underestimated here, or the map over-sharpened or the model "
        "over-fitted locally."
    ),
    "as expected locally": "Q is as commonly observed at this residue's local resolution.",
}


@dataclass(frozen=True)
class LocalResolution:
    """Local resolution (Å) per atom of a model (NaN where there is none), and where it came from.

    ``notes`` are sentences about coverage and range, for the user.
    """

    atoms: np.ndarray
    source: str
    notes: tuple[str, ...] = ()


def sample_local_resolution(locres: DensityMap, model: AtomModel) -> LocalResolution:
    """Local resolution at every atom of ``model``, trilinear from ``locres`` (values in Å).

    Voxels outside the estimate's mask (≤ 0 Å, ≥ :data:`MAX_LOCAL_RESOLUTION`, not finite) are
    left out: the value at an atom is the trilinear mean of the valid corners around it, NaN
    when none is valid or the atom lies outside the map's grid.

    Parameters
    ----------
    locres
        The local-resolution map, in Å, on any grid in the model's frame.
    model
        The model whose atoms are sampled.

    Returns
    -------
    LocalResolution
        Per-atom values, the map's name and notes on coverage.

    Raises
    ------
    NoOverlapError
        When no scored atom of the model has a local resolution.
    ParameterError
        When the values are not resolutions in Å (for example spatial frequencies).
    """
    values = locres.values
    valid = np.isfinite(values) & (values > 0) & (values < MAX_LOCAL_RESOLUTION)
    weights = DensityMap(
        valid.astype(np.float32), locres.origin, locres.voxel_size, axes=locres.axes
    )
    kept = DensityMap(
        np.where(valid, values, 0).astype(np.float32),
        locres.origin,
        locres.voxel_size,
        axes=locres.axes,
    )
    w = sample(weights, model.xyz).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        atoms = np.where(w > 1e-6, sample(kept, model.xyz) / w, np.nan)
    atoms[~model.heavy] = np.nan
    name = f"'{locres.source}'" if locres.source else "the local-resolution map"
    heavy = int(model.heavy.sum())
    covered = int(np.isfinite(atoms).sum())
    if covered == 0:
        raise NoOverlapError(
            f"The local-resolution map {name} does not cover the model: none of its {heavy} "
            "atoms lies inside the map's grid and its estimated region. Check that the map "
            "belongs to this reconstruction and that its origin is right."
        )
    median = float(np.nanmedian(atoms))
    if median < MIN_PLAUSIBLE_MEDIAN:
        raise ParameterError(
            f"The local-resolution map {name} has a median of {median:.3g} at the model's atoms, "
            "which is not a resolution in Å; it may hold spatial frequencies (1/Å or 1/pixel). "
            "Give a map of local resolution in Å."
        )
    notes = list(locres.notes)
    if covered < heavy:
        notes.append(
            f"{heavy - covered} of {heavy} atoms lie outside the local-resolution map {name} or "
            "its estimated region; their residues are judged on the remaining atoms, or not at all."
        )
    return LocalResolution(atoms=atoms, source=locres.source, notes=tuple(notes))


def residue_local_resolution(model: AtomModel, atoms: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Per residue (rows of ``model.residues``), the mean local resolution of its scored atoms.

    An atom counts when it is a heavy atom with a finite Q and a local resolution; residues with
    none get NaN.
    """
    values = np.asarray(atoms, dtype=np.float64)
    scored = model.heavy & np.isfinite(np.asarray(q, dtype=np.float64))
    return _group_mean(model.residue_index, np.where(scored, values, np.nan), len(model.residues))


def _reading(local: np.ndarray, global_: np.ndarray) -> np.ndarray:
    """Reading per residue: below locally is a possible misfit; otherwise below the global band
    is a poorly resolved region (typical, or even above, at the local resolution)."""
    out = np.full(local.shape, "", dtype=object)
    out[local == "above"] = "above local band"
    out[local == "typical"] = "as expected locally"
    out[(local != "") & (local != "below") & (global_ == "below")] = "poorly resolved region"
    out[local == "below"] = "possible misfit"
    return out


def local_verdicts(
    residues: pd.DataFrame,
    local_resolution: np.ndarray,
    *,
    sigma: float,
    resolution: float | None = None,
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The residue table with the local-resolution columns (:data:`LOCAL_COLUMNS`) added.

    Parameters
    ----------
    residues
        A residue table with a ``q`` column (e.g. :func:`qscore.io.export.residues_frame`).
    local_resolution
        Local resolution (Å) per row, NaN where unknown.
    sigma
        The sigma the Q-scores were computed with (bands exist for 0.4 and 0.6).
    resolution
        The map's reported resolution: with it, residues below the global band but typical
        locally read "poorly resolved region".

    Returns
    -------
    (table, notes)
        A copy of ``residues`` with the new columns, and sentences about clamping and sigma.
    """
    table = residues.copy()
    local = np.asarray(local_resolution, dtype=np.float64)
    q = table["q"].to_numpy(dtype=np.float64)
    notes: list[str] = []
    known = np.isfinite(local)
    low, high = VALID_RANGE
    clamped = np.clip(np.where(known, local, 1.0), low, high)
    outside = int((known & ((local < low) | (local > high))).sum())
    if outside:
        notes.append(
            f"{outside} residues have a local resolution outside the {low:g}–{high:g} Å range "
            "the expected Q-scores were fitted on; their bands are taken at the range's end."
        )
    bands = expected_curves(clamped, sigma)
    table["local_resolution"] = local
    for column in ("q_peak", "q_low95", "q_high95"):
        table[f"{column}_local"] = np.where(known, bands[column].to_numpy(), np.nan)
    codes = verdict_codes(q, clamped, sigma)
    codes = np.where(known, codes, "")
    table["local_verdict"] = codes
    table["q_resolution"] = implied_resolution(q, sigma)
    global_codes = (
        verdict_codes(q, resolution, sigma) if resolution else np.full(q.shape, "", dtype="<U7")
    )
    table["local_reading"] = _reading(codes, global_codes)
    if not np.isfinite(bands["q_peak"].to_numpy()).any():
        notes.append(
            f"Expected Q-scores exist for sigma 0.4 and 0.6 only (sigma is {sigma:g}), so "
            "residues get no local band or verdict."
        )
    return table, tuple(notes)


def local_summary(table: pd.DataFrame) -> dict[str, Any]:
    """JSON-ready counts of the local verdicts and readings, and the median local resolution.

    Counted over the residues that have a local verdict.
    """
    codes = table["local_verdict"].to_numpy()
    judged = codes != ""
    counts = Counter(codes[judged].tolist())
    readings = Counter(table["local_reading"].to_numpy()[judged].tolist())
    local = table["local_resolution"].to_numpy(dtype=np.float64)
    median = float(np.nanmedian(local)) if np.isfinite(local).any() else None
    return {
        "local_verdict_counts": {code: int(counts.get(code, 0)) for code in VERDICTS},
        "local_reading_counts": {code: int(readings.get(code, 0)) for code in READINGS},
        "median_local_resolution": median,
    }


def local_document(table: pd.DataFrame, source: str, notes: tuple[str, ...] = ()) -> dict[str, Any]:
    """The keys a local resolution adds to the scoring document (``qscore score --json``).

    Parameters
    ----------
    table : pandas.DataFrame
        The residue table with the local columns (:func:`local_verdicts`).
    source : str
        Where the local resolution came from, in words (e.g. ``local-resolution map F``).
    notes : tuple of str
        Sentences about the estimate and the verdicts.

    Returns
    -------
    dict
        ``local_resolution_source``, the keys of :func:`local_summary` and ``local_notes``.
    """
    return {"local_resolution_source": source, **local_summary(table), "local_notes": list(notes)}
