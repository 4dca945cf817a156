"""Averages of per-atom Q over residues, nucleotides, molecules, chains, types and the model.

All averages are arithmetic means over non-hydrogen atoms that have a Q, as in MapQ (the model's
overall Q is :func:`qscore.engine.scoring.overall_q`, the one definition every face uses). Protein
residues are split into backbone (N, CA, C, O) and side chain (every other heavy atom, CB and OXT
included); nucleotides into phosphate (P, OP1, OP2, O5', C5', O3'), sugar and base.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from qscore.engine.scoring import overall_q
from qscore.io.models import AtomModel

SUBSETS = ("backbone", "sidechain", "phosphate", "sugar", "base")
#: MapQ's sliding windows: name -> half-width in residues (avg-3, avg-5, avg-7, avg-11).
WINDOWS = {"avg3": 1, "avg5": 2, "avg7": 3, "avg11": 5}


def _group_mean(keys: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Mean of ``values`` per integer key; NaN for groups with no finite value."""
    ok = np.isfinite(values)
    sums = np.bincount(keys[ok], weights=values[ok], minlength=n_groups)
    counts = np.bincount(keys[ok], minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def _heavy_q(model: AtomModel, q: np.ndarray) -> np.ndarray:
    """Per-atom Q with hydrogens blanked, so every mean excludes them."""
    q = np.asarray(q, dtype=np.float64)
    if q.shape != (model.n_atoms,):
        raise ValueError(f"expected {model.n_atoms} Q values, got {q.shape}")
    return np.where(model.heavy, q, np.nan)


def residue_table(model: AtomModel, q: np.ndarray) -> pd.DataFrame:
    """One row per residue: identity, kind, atom count, Q_residue and the subset means.

    Q_residue is the mean Q of the residue's non-hydrogen atoms, as MapQ reports it; nucleotides
    also get their phosphate, sugar and base means.

    Parameters
    ----------
    model : AtomModel
        The scored model.
    q : numpy.ndarray
        Per-atom Q-scores (``ScoreResult.q``), NaN for atoms not scored.

    Returns
    -------
    pandas.DataFrame
        Columns ``chain, resseq, icode, resname, kind, atoms, q, q_backbone, q_sidechain,
        q_phosphate, q_sugar, q_base`` (NaN where a residue has no such atoms), in file order.
    """
    hq = _heavy_q(model, q)
    n_res = len(model.residues)
    ridx = model.residue_index
    table = model.residues[["chain", "resseq", "icode", "resname", "kind"]].copy()
    table["atoms"] = np.bincount(ridx[model.heavy], minlength=n_res)
    table["q"] = _group_mean(ridx, hq, n_res)
    for subset in SUBSETS:
        table[f"q_{subset}"] = _group_mean(
            ridx, np.where(model.subset == subset, hq, np.nan), n_res
        )
    return table


def mapq_windows(residues: pd.DataFrame) -> pd.DataFrame:
    """MapQ's avg-3/5/7/11 sliding means of backbone, side-chain and residue Q, per chain.

    As in MapQ, each chain's residues are ordered by residue number, windows run over the list
    index (ignoring numbering gaps, including ligands and waters of the chain) and are truncated
    at the ends, and a residue without a side chain (GLY) contributes 0 to its neighbours'
    side-chain windows while its own stays blank.
    """
    n = len(residues)
    resseq = residues["resseq"].to_numpy()
    icode_rank = residues["icode"].rank(method="dense", na_option="bottom").to_numpy()
    subsets = {
        col: residues[col].to_numpy(dtype=np.float64) for col in ("q_backbone", "q_sidechain", "q")
    }
    columns = {f"{col}_{name}": np.full(n, np.nan) for name in WINDOWS for col in subsets}
    for positions in residues.groupby("chain", sort=False, observed=True).indices.values():
        order = positions[np.lexsort((icode_rank[positions], resseq[positions]))]
        for col, column in subsets.items():
            own = column[order]
            values = np.nan_to_num(own, nan=0.0)
            for name, half in WINDOWS.items():
                columns[f"{col}_{name}"][order] = np.where(
                    np.isnan(own), np.nan, window_mean(values, half)
                )
    return pd.concat([residues, pd.DataFrame(columns, index=residues.index)], axis=1)


def window_mean(values: np.ndarray, half_width: int) -> np.ndarray:
    """Mean over index i−h…i+h, truncated at both ends (MapQ's ``N`` helper)."""
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    if n == 0:
        return values
    csum = np.concatenate([[0.0], np.cumsum(values)])
    i = np.arange(n)
    lo = np.clip(i - half_width, 0, n)
    hi = np.clip(i + half_width + 1, 0, n)
    return (csum[hi] - csum[lo]) / (hi - lo)


def chain_table(model: AtomModel, q: np.ndarray) -> pd.DataFrame:
    """Q per chain: the mean over all its non-hydrogen atoms (waters and ligands included).

    Parameters
    ----------
    model : AtomModel
        The scored model.
    q : numpy.ndarray
        Per-atom Q-scores, NaN for atoms not scored.

    Returns
    -------
    pandas.DataFrame
        Columns ``chain, atoms, residues, q``, one row per chain in file order.
    """
    hq = _heavy_q(model, q)
    frame = pd.DataFrame({"chain": model.chain, "q": hq, "residue": model.residue_index})
    frame = frame[model.heavy]
    grouped = frame.groupby("chain", sort=False)
    return pd.DataFrame(
        {
            "atoms": grouped.size(),
            "residues": grouped["residue"].nunique(),
            "q": grouped["q"].mean(),
        }
    ).reset_index()


def type_table(model: AtomModel, q: np.ndarray) -> pd.DataFrame:
    """Q per molecule type (protein, nucleic, ligand, glycan, water, ion), types present only."""
    hq = _heavy_q(model, q)
    frame = pd.DataFrame({"kind": model.kind, "q": hq, "residue": model.residue_index})
    frame = frame[model.heavy]
    grouped = frame.groupby("kind", sort=False, observed=True)
    table = pd.DataFrame(
        {
            "atoms": grouped.size(),
            "residues": grouped["residue"].nunique(),
            "q": grouped["q"].mean(),
        }
    ).reset_index()
    return table[table["atoms"] > 0].reset_index(drop=True)


def molecule_table(model: AtomModel, q: np.ndarray) -> pd.DataFrame:
    """One row per ligand, saccharide, ion or water molecule (everything but polymer residues)."""
    table = residue_table(model, q)
    keep = ~table["kind"].isin(["protein", "nucleic"])
    return table.loc[keep, ["chain", "resseq", "icode", "resname", "kind", "atoms", "q"]]


def model_summary(model: AtomModel, q: np.ndarray) -> dict:
    """Model-level numbers: MapQ's overall mean, the polymer-only mean, per chain and per type."""
    hq = _heavy_q(model, q)
    scored = np.isfinite(hq)
    polymer = scored & np.isin(model.kind, ["protein", "nucleic"])
    chains = chain_table(model, q)
    types = type_table(model, q)
    return {
        "model_q": overall_q(q, model.heavy),
        "model_q_polymer": float(np.mean(hq[polymer])) if polymer.any() else None,
        "atoms_scored": int(scored.sum()),
        "chains": {str(c): float(v) for c, v in zip(chains["chain"], chains["q"], strict=True)},
        "types": {str(k): float(v) for k, v in zip(types["kind"], types["q"], strict=True)},
    }
