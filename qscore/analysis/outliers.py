"""Residues below the expected band, in the order a person walks through them.

A residue is an outlier when any value the per-residue plot shows for it lies below Q_low_95% at
the map's resolution: backbone or side chain for amino acids, phosphate, sugar or base for
nucleotides, the residue's mean Q for everything else. Waters are left out unless asked for: the
band describes residues of a model, and a water's single atom is a different kind of evidence.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from qscore.analysis.expected import expected_q

#: Columns judged per residue kind (the series of the per-residue plot).
SUBSETS = {
    "protein": ("q_backbone", "q_sidechain"),
    "nucleic": ("q_phosphate", "q_sugar", "q_base"),
}
ORDERS = ("residue number", "distance below the band")


def shortfall(residues: pd.DataFrame, q_low: float) -> pd.Series:
    """Per residue, how far its lowest judged value lies below ``q_low`` (positive = below);
    NaN where nothing is scored."""
    values = residues["q"].to_numpy(dtype=float).copy()
    for kind, columns in SUBSETS.items():
        rows = (residues["kind"] == kind).to_numpy()
        present = [c for c in columns if c in residues]
        if rows.any() and present:
            subset = residues.loc[rows, present].to_numpy(dtype=float)
            lowest = np.where(
                np.isfinite(subset).any(axis=1),
                np.nanmin(np.where(np.isfinite(subset), subset, np.inf), axis=1),
                np.nan,
            )
            values[rows] = np.where(np.isfinite(lowest), lowest, values[rows])
    return pd.Series(q_low - values, index=residues.index)


def outlier_rows(
    residues: pd.DataFrame,
    resolution: float | None,
    sigma: float,
    *,
    order: str = ORDERS[0],
    include_water: bool = False,
) -> list[int]:
    """Rows of the outlier residues, in walking order.

    Parameters
    ----------
    residues : pandas.DataFrame
        A residue table (``qscore.io.export.residues_frame``), indexed by residue row.
    resolution : float or None
        The map's resolution (Å); without it, or without bands for ``sigma``, there are none.
    sigma : float
        Width of the reference Gaussian the Q-scores were computed with.
    order : str
        ``"residue number"`` (chain by chain in model order, then number) or
        ``"distance below the band"`` (furthest below first).
    include_water : bool
        Judge waters too.

    Returns
    -------
    list of int
        Residue rows.
    """
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}")
    bands = expected_q(resolution, sigma) if resolution else None
    if bands is None or residues.empty:
        return []
    below = shortfall(residues, bands.q_low95)
    judged = (
        residues["kind"] != "water" if not include_water else residues["kind"] == residues["kind"]
    )
    chosen = residues[(below > 0) & judged]
    if order == ORDERS[1]:
        ranked = below[chosen.index].sort_values(ascending=False, kind="stable")
        return [int(r) for r in ranked.index]
    chain_rank = {c: k for k, c in enumerate(dict.fromkeys(residues["chain"]))}
    keys = pd.DataFrame(
        {"chain": chosen["chain"].map(chain_rank), "resseq": chosen["resseq"], "row": chosen.index}
    )
    return [int(r) for r in keys.sort_values(["chain", "resseq", "row"], kind="stable")["row"]]


def step(rows: list[int], current: int | None, direction: int) -> int | None:
    """The outlier after (``direction`` = +1) or before (−1) ``current`` in ``rows``, wrapping
    around; from a residue that is not an outlier, the first (or last) one."""
    if not rows:
        return None
    if current in rows:
        return rows[(rows.index(current) + direction) % len(rows)]
    return rows[0] if direction > 0 else rows[-1]


def without_water_verdicts(table: pd.DataFrame) -> pd.DataFrame:
    """Copy of an annotated residue table (``qscore.plotting.figures.annotate_residues``) in which
    waters carry no expected value, deviation or verdict: they are listed, not judged."""
    out = table.copy()
    water = (out["kind"] == "water").to_numpy()
    for column in ("expected", "low95", "high95", "deviation"):
        if column in out:
            out.loc[water, column] = np.nan
    if "verdict" in out:
        out.loc[water, "verdict"] = ""
    return out
