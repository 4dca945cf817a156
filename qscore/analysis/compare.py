"""Compare two Q-score results: two models in one map, or one model in two maps.

Residues, ligands, glycans, ions and waters are matched by chain, residue number, insertion code
and residue name (a key that occurs twice in a model is matched by order of appearance). Each
matched residue gets ``q_a`` and ``q_b``, the mean Q of its heavy atoms in each result, and
``dq = q_b − q_a``.

Whether a difference means something is judged against the maps' noise (docs/compare.md):

1. The noise level of each map is measured in its solvent, or assumed typical of EMDB maps when
   the map is masked (:func:`qscore.analysis.noise.noise_level`).
2. Band-limited noise at half that level is added to the map(s) ``samples`` times; both sides
   are rescored each time (with the same noise when they share one map, with independent noise
   when there are two maps) and the spread of ``dq`` over the samples, doubled, is its standard
   error (Q responds almost linearly to small noise, so half-level noise gives the spread at
   the full level without the flattening that doubling a map's noise would cause).
3. A residue's own test is a t-test of ``dq / se`` with ``samples − 1`` degrees of freedom. For
   protein and nucleic-acid residues the mean ``dq`` over the residue and its two sequence
   neighbours (MapQ's avg-3 window) is tested as well, with its standard error from the same
   samples, so that a stretch that changed as a whole is found even where each residue alone is
   near the noise. Each test gets half of ``alpha`` (ligands and other molecules: all of it).
4. A residue is significant when a test passes (the window only if its mean has the sign of the
   residue's own ``dq``) and ``|dq| ≥ min_dq``.

When the two sides share one map, residues whose atoms all keep exactly the same Q are not
resampled: their difference is exactly 0 under any noise.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from qscore import defaults
from qscore.analysis.aggregate import residue_table
from qscore.analysis.expected import verdict_codes
from qscore.analysis.noise import NoiseLevel, band_limited_noise, noise_level, solvent_distance
from qscore.engine import score
from qscore.engine.packing import check_packing
from qscore.errors import ParameterError
from qscore.io.maps import DensityMap, crop_map, read_map
from qscore.io.models import AtomModel, read_model
from qscore.pipeline import ModelSource, Scored, Source
from qscore.progress import Progress

__all__ = [
    "Comparison",
    "Matching",
    "Rule",
    "atom_pairs",
    "compare",
    "comparison_margin",
    "ligand_table",
    "load_and_score_pair",
    "match_residues",
    "overlay_atoms",
    "resolve_resolution",
    "second_side",
]

KEY = ("chain", "resseq", "icode", "resname")
POLYMER = ("protein", "nucleic")
MOLECULES = ("ligand", "glycan")
#: Noise added in each sample, as a fraction of the map's noise level (see the module notes).
PERTURBATION = 0.5
#: Margin (Å) of the map kept around the resampled atoms: the shells reach 2 Å, plus a voxel.
NOISE_PAD = 4.0
#: Extra margin (Å) beyond the solvent distance kept when a map is cropped for a comparison.
SOLVENT_SHELL = 4.0
#: Residues of model B within this distance (Å) of the selected residue are drawn over model A
#: when they differ from it (:func:`overlay_atoms`).
OVERLAY_REACH = 12.0
#: An atom moved by more than this (Å) makes its residue differ (:func:`overlay_atoms`).
MOVED = 0.05


@dataclass(frozen=True)
class Rule:
    """The significance rule's parameters (docs/compare.md)."""

    alpha: float = 0.01
    min_dq: float = 0.05
    samples: int = 20
    window: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 < self.alpha < 1.0:
            raise ParameterError(f"alpha must lie between 0 and 1; got {self.alpha}.")
        if not (math.isfinite(self.min_dq) and self.min_dq >= 0):
            raise ParameterError(f"The minimum |dq| must be 0 or more; got {self.min_dq}.")
        if int(self.samples) < 3:
            raise ParameterError(f"At least 3 noise samples are needed; got {self.samples}.")
        if int(self.window) < 0:
            raise ParameterError(f"The window half-width cannot be negative; got {self.window}.")


@dataclass(frozen=True)
class Matching:
    """Rows of ``a.residues`` and ``b.residues`` that match (pairwise), and those that do not."""

    rows_a: np.ndarray
    rows_b: np.ndarray
    only_a: np.ndarray
    only_b: np.ndarray


def _keys(residues: pd.DataFrame) -> pd.DataFrame:
    """The matching key of every residue row, with the occurrence number of repeated keys."""
    keys = residues[list(KEY)].copy()
    keys["icode"] = keys["icode"].astype(str)
    keys["occurrence"] = keys.groupby(list(KEY), sort=False).cumcount()
    keys["row"] = np.arange(len(keys))
    return keys


def match_residues(a: AtomModel, b: AtomModel) -> Matching:
    """Match the residues of two models by chain, number, insertion code and name.

    Parameters
    ----------
    a, b : AtomModel
        The two models; a key that occurs several times in one model is matched by order.

    Returns
    -------
    Matching
        Matched rows of ``a.residues`` and ``b.residues`` (pairwise, in ``a``'s order) and the
        rows of each without a partner.
    """
    ka, kb = _keys(a.residues), _keys(b.residues)
    on = [*KEY, "occurrence"]
    merged = ka.merge(kb, on=on, how="inner", suffixes=("_a", "_b")).sort_values("row_a")
    rows_a = merged["row_a"].to_numpy(dtype=np.int64)
    rows_b = merged["row_b"].to_numpy(dtype=np.int64)
    return Matching(
        rows_a=rows_a,
        rows_b=rows_b,
        only_a=np.setdiff1d(np.arange(len(ka)), rows_a),
        only_b=np.setdiff1d(np.arange(len(kb)), rows_b),
    )


@dataclass(frozen=True, eq=False)
class Comparison:
    """The per-residue comparison of two results and how its significance was judged.

    ``residues`` has one row per matched residue (in the order of model A): ``chain, resseq,
    icode, resname, kind, atoms_a, atoms_b, q_a, q_b, dq, dq_se, z, p, dq_window, p_window,
    significant, change, row_a, row_b`` (``change`` is ``better``, ``worse`` or "").
    ``only_a`` / ``only_b`` list the residues that have no partner.
    """

    residues: pd.DataFrame
    only_a: pd.DataFrame
    only_b: pd.DataFrame
    model_q_a: float
    model_q_b: float
    shared_map: bool
    resolution: float
    sigma: float
    mode: str
    rule: Rule
    noise_a: NoiseLevel | None
    noise_b: NoiseLevel | None
    seconds: float
    labels: tuple[str, str] = ("A", "B")
    notes: tuple[str, ...] = field(default=())

    @property
    def compared(self) -> pd.DataFrame:
        """The matched residues that have a Q in both results."""
        return self.residues[np.isfinite(self.residues["dq"])]

    def summary(self) -> dict[str, Any]:
        """The comparison's numbers (the ``--json`` contract)."""
        table = self.compared
        better = table["change"] == "better"
        worse = table["change"] == "worse"
        dq = table["dq"].to_numpy(dtype=float)
        molecules = table[table["kind"].isin(MOLECULES)]
        return {
            "model_q_a": self.model_q_a,
            "model_q_b": self.model_q_b,
            "dq_model": self.model_q_b - self.model_q_a,
            "residues_compared": int(len(table)),
            "residues_better": int(better.sum()),
            "residues_worse": int(worse.sum()),
            "unmatched": int(len(self.only_a) + len(self.only_b)),
            "unmatched_residues": {
                "only_in_a": _records(self.only_a),
                "only_in_b": _records(self.only_b),
            },
            "dq_mean": float(dq.mean()) if dq.size else None,
            "dq_sd": float(dq.std(ddof=1)) if dq.size > 1 else None,
            "significance": {
                "rule": "noise-resampled t-test of residue and avg-3 window (docs/compare.md)",
                "alpha": self.rule.alpha,
                "min_dq": self.rule.min_dq,
                "samples": self.rule.samples,
                "shared_map": self.shared_map,
                "noise_a": _noise_record(self.noise_a),
                "noise_b": _noise_record(self.noise_b),
            },
            "ligands": _records(
                molecules,
                ("chain", "resseq", "icode", "resname", "kind", "q_a", "q_b", "dq", "significant"),
            ),
            "changed": _records(
                table[better | worse].sort_values("dq"),
                ("chain", "resseq", "icode", "resname", "q_a", "q_b", "dq", "change"),
            ),
        }


def _records(frame: pd.DataFrame, columns: Sequence[str] = (*KEY, "kind")) -> list[dict]:
    """Rows as plain dictionaries (residue number as int, insertion code as str)."""
    out = []
    for row in frame[list(columns)].to_dict("records"):
        row["resseq"] = int(row["resseq"])
        row["icode"] = str(row["icode"])
        out.append({k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()})
    return out


def _noise_record(level: NoiseLevel | None) -> dict[str, Any] | None:
    if level is None:
        return None
    return {"sigma": level.sigma, "source": level.source, "voxels": level.voxels}


def _residue_q(model: AtomModel, q: np.ndarray) -> np.ndarray:
    """Mean Q of each residue's heavy atoms (NaN where none is scored)."""
    return residue_table(model, q)["q"].to_numpy(dtype=float)


def _rows_q(model: AtomModel, q: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Mean Q of the heavy atoms of residue ``rows`` (NaN where none is scored), fast enough to
    be called once per noise sample."""
    starts = model.residues["start"].to_numpy()[rows]
    stops = model.residues["stop"].to_numpy()[rows]
    lengths = stops - starts
    atoms = np.repeat(starts - np.cumsum(np.r_[0, lengths[:-1]]), lengths) + np.arange(
        lengths.sum()
    )
    values = np.where(model.heavy[atoms], q[atoms], np.nan)
    owner = np.repeat(np.arange(len(rows)), lengths)
    finite = np.isfinite(values)
    sums = np.bincount(owner[finite], weights=values[finite], minlength=len(rows))
    counts = np.bincount(owner[finite], minlength=len(rows))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def _atoms_of(model: AtomModel, rows: np.ndarray) -> np.ndarray:
    """Indices of the atoms of residue ``rows``."""
    starts = model.residues["start"].to_numpy()[rows]
    stops = model.residues["stop"].to_numpy()[rows]
    if len(rows) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.concatenate([np.arange(s, e) for s, e in zip(starts, stops, strict=True)])


def _unchanged(a: Scored, b: Scored, ra: int, rb: int) -> bool:
    """True when residue ``ra`` of A and ``rb`` of B have the same atoms with the same Q."""
    ia, ib = _atoms_of(a.model, np.array([ra])), _atoms_of(b.model, np.array([rb]))
    return np.array_equal(a.model.name[ia], b.model.name[ib]) and np.array_equal(
        a.result.q[ia], b.result.q[ib], equal_nan=True
    )


def overlay_atoms(
    a: AtomModel,
    b: AtomModel,
    residues: pd.DataFrame,
    row_a: int,
    row_b: int,
    *,
    reach: float = OVERLAY_REACH,
    moved: float = MOVED,
) -> np.ndarray:
    """Heavy atoms of model B to draw over model A around a residue: the residue itself and
    the residues near it that moved, changed or exist only in B.

    Parameters
    ----------
    a, b : AtomModel
        Models A and B.
    residues : pandas.DataFrame
        The comparison's residue table (:attr:`Comparison.residues`: ``row_a``, ``row_b``).
    row_a, row_b : int
        The residue, as a row of A's and of B's residue table.
    reach : float
        Residues of B with an atom within this distance (Å) of the residue's centre are looked at.
    moved : float
        A residue of B whose atoms are named as in A and none moved by more than this (Å) is
        left out.

    Returns
    -------
    numpy.ndarray
        Atom indices of model B.
    """
    centre = a.xyz[a.residue_atoms(row_a)]
    partner = dict(zip(residues["row_b"], residues["row_a"], strict=True))
    close = np.linalg.norm(b.xyz - centre.mean(axis=0), axis=1) < reach
    keep = [row_b]
    for rb in np.unique(b.residue_index[close]):
        ra = partner.get(int(rb))
        atoms_b = b.residue_atoms(int(rb))
        if ra is None:
            keep.append(int(rb))
            continue
        atoms_a = a.residue_atoms(int(ra))
        same = np.array_equal(a.name[atoms_a], b.name[atoms_b]) and np.all(
            np.linalg.norm(a.xyz[atoms_a] - b.xyz[atoms_b], axis=1) <= moved
        )
        if not same:
            keep.append(int(rb))
    return np.concatenate([b.residue_atoms(r) for r in dict.fromkeys(keep)])


def atom_pairs(a: Scored, b: Scored, row_a: int, row_b: int) -> pd.DataFrame:
    """Per-atom Q of one residue on both sides, matched by atom name.

    Parameters
    ----------
    a, b : Scored
        Sides A and B.
    row_a, row_b : int
        The residue, as a row of A's and of B's residue table.

    Returns
    -------
    pandas.DataFrame
        ``atom``, ``Q A``, ``Q B`` and ``dq`` (B − A), one row per atom name of either side.
    """
    frames = []
    for side, scored, row in (("A", a, row_a), ("B", b, row_b)):
        atoms = scored.model.residue_atoms(row)
        frames.append(
            pd.DataFrame({"atom": scored.model.name[atoms], f"Q {side}": scored.result.q[atoms]})
        )
    pairs = frames[0].merge(frames[1], on="atom", how="outer", sort=False)
    pairs["dq"] = pairs["Q B"] - pairs["Q A"]
    return pairs


def _window_orders(table: pd.DataFrame, ok: np.ndarray) -> list[np.ndarray]:
    """Positions in ``table`` of each chain's polymer residues (with a Q on both sides), in
    sequence order."""
    polymer = table["kind"].isin(POLYMER).to_numpy() & ok
    frame = table.assign(position=np.arange(len(table)))[polymer]
    return [
        group.sort_values(["resseq", "icode"], kind="stable")["position"].to_numpy()
        for _, group in frame.groupby("chain", sort=False)
    ]


def _window_means(values: np.ndarray, orders: list[np.ndarray], half: int) -> np.ndarray:
    """Mean over positions i−half…i+half of each chain order (truncated at chain ends), along
    the last axis of ``values``; NaN outside the orders."""
    out = np.full(values.shape, np.nan)
    for order in orders:
        v = values[..., order]
        n = len(order)
        csum = np.concatenate([np.zeros((*v.shape[:-1], 1)), np.cumsum(v, axis=-1)], axis=-1)
        i = np.arange(n)
        lo, hi = np.clip(i - half, 0, n), np.clip(i + half + 1, 0, n)
        out[..., order] = (csum[..., hi] - csum[..., lo]) / (hi - lo)
    return out


def _t_test(dq: np.ndarray, se: np.ndarray, dof: int) -> tuple[np.ndarray, np.ndarray]:
    """z = dq/se and its two-sided p-value (Student t); p = 1 for dq = 0, 0 for dq ≠ 0 with no
    noise at all."""
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, dq / se, np.where(dq == 0, 0.0, np.sign(dq) * np.inf))
    p = 2.0 * stats.t.sf(np.abs(z), dof)
    return z, np.where(np.isfinite(dq), p, np.nan)


def _noisy(
    dmap: DensityMap, around: np.ndarray, sigma: float, resolution: float, rng
) -> DensityMap:
    """The part of ``dmap`` around the atoms at ``around``, plus band-limited noise of RMS
    ``sigma``."""
    part = crop_map(dmap, around.min(axis=0) - NOISE_PAD, around.max(axis=0) + NOISE_PAD)
    noise = band_limited_noise(part.values.shape, part.voxel_size, resolution, rng)
    return replace(part, values=part.values + sigma * noise)


def _noise_samples(
    a: Scored,
    b: Scored,
    rows: tuple[np.ndarray, np.ndarray],
    levels: tuple[NoiseLevel, NoiseLevel],
    shared: bool,
    resolution: float,
    rule: Rule,
    progress: Progress,
    threads: int | None,
) -> np.ndarray:
    """(samples, len(rows)) differences of residue Q under added noise (see the module notes)."""
    rng = np.random.default_rng(rule.seed)
    rows_a, rows_b = rows
    atoms_a, atoms_b = _atoms_of(a.model, rows_a), _atoms_of(b.model, rows_b)
    around_a, around_b = a.model.xyz[atoms_a], b.model.xyz[atoms_b]
    if shared:
        around_a = around_b = np.concatenate([around_a, around_b])
    out = np.empty((rule.samples, len(rows_a)))

    def rescore(dmap: DensityMap, model: AtomModel, atoms: np.ndarray) -> np.ndarray:
        return score(
            dmap, model, sigma=a.result.sigma, mode=a.result.mode, selection=atoms, threads=threads
        ).q

    for k in range(rule.samples):
        progress(k, rule.samples, "Resampling the maps' noise")
        map_a = _noisy(a.dmap, around_a, PERTURBATION * levels[0].sigma, resolution, rng)
        map_b = (
            map_a
            if shared
            else _noisy(b.dmap, around_b, PERTURBATION * levels[1].sigma, resolution, rng)
        )
        qa = rescore(map_a, a.model, atoms_a)
        qb = rescore(map_b, b.model, atoms_b)
        out[k] = _rows_q(b.model, qb, rows_b) - _rows_q(a.model, qa, rows_a)
    progress(rule.samples, rule.samples, "Resampling the maps' noise")
    return out


def compare(
    a: Scored,
    b: Scored,
    *,
    resolution: float,
    shared_map: bool | None = None,
    rule: Rule | None = None,
    labels: tuple[str, str] = ("A", "B"),
    progress: Progress | None = None,
    threads: int | None = None,
) -> Comparison:
    """Per-residue differences ``q_b − q_a`` of two scored results and their significance.

    Parameters
    ----------
    a, b
        The two results (map, model, per-atom Q), scored with the same sigma and mode.
    resolution
        The maps' resolution (Å): the noise added in the significance test is limited to it.
    shared_map
        Whether both results use one map (two models in one map); default: whether the two maps
        are one object or hold identical grids.
    rule
        Significance parameters (:class:`Rule`); the defaults are documented in docs/compare.md.
    labels
        Names of the two sides in notes and figures.
    progress
        ``(done, total, stage)`` callback.
    threads
        Threads of the engine (never changes a result).

    Returns
    -------
    Comparison
        The per-residue table, the unmatched residues, the model Q of both sides and the noise
        levels used.

    Raises
    ------
    ParameterError
        When the two results were scored with different sigma or mode, or a parameter is invalid.
    """
    start = time.perf_counter()
    rule = rule or Rule()
    report = progress or (lambda done, total, stage: None)
    if not math.isclose(a.result.sigma, b.result.sigma) or a.result.mode != b.result.mode:
        raise ParameterError("Both sides of a comparison must be scored with one sigma and mode.")
    resolution = float(resolution)
    if not math.isfinite(resolution) or resolution <= 0:
        raise ParameterError(
            f"The comparison needs the maps' resolution (a positive number of Å); got {resolution}."
        )
    shared = _same_map(a.dmap, b.dmap) if shared_map is None else bool(shared_map)
    match = match_residues(a.model, b.model)
    res_a, res_b = a.model.residues, b.model.residues
    qa = _residue_q(a.model, a.result.q)[match.rows_a]
    qb = _residue_q(b.model, b.result.q)[match.rows_b]
    dq = qb - qa
    ok = np.isfinite(dq)
    table = res_a.iloc[match.rows_a][[*KEY, "kind"]].reset_index(drop=True)
    table["kind"] = table["kind"].astype(str)
    table["atoms_a"] = _heavy_counts(a.model)[match.rows_a]
    table["atoms_b"] = _heavy_counts(b.model)[match.rows_b]
    table["q_a"], table["q_b"], table["dq"] = qa, qb, dq

    if shared:
        resample = np.array(
            [
                not _unchanged(a, b, ra, rb)
                for ra, rb in zip(match.rows_a, match.rows_b, strict=True)
            ],
            dtype=bool,
        )
    else:
        resample = np.ones(len(dq), dtype=bool)
    resample &= ok
    levels: tuple[NoiseLevel | None, NoiseLevel | None] = (None, None)
    samples = np.zeros((rule.samples, len(dq)))
    if resample.any():
        xyz = np.concatenate([a.model.xyz, b.model.xyz])
        level_a = noise_level(a.dmap, xyz, resolution)
        level_b = level_a if shared else noise_level(b.dmap, xyz, resolution)
        levels = (level_a, level_b)
        picked = np.flatnonzero(resample)
        samples[:, picked] = _noise_samples(
            a,
            b,
            (match.rows_a[picked], match.rows_b[picked]),
            (level_a, level_b),
            shared,
            resolution,
            rule,
            report,
            threads,
        )
    dof = rule.samples - 1
    se = samples.std(axis=0, ddof=1) / PERTURBATION
    z, p = _t_test(dq, se, dof)
    orders = _window_orders(table, ok)
    dq_window = _window_means(np.where(ok, dq, 0.0), orders, rule.window)
    se_window = _window_means(samples, orders, rule.window).std(axis=0, ddof=1) / PERTURBATION
    _, p_window = _t_test(dq_window, np.nan_to_num(se_window), dof)
    in_window = np.isfinite(dq_window)
    own = p < np.where(in_window, rule.alpha / 2, rule.alpha)
    stretch = in_window & (p_window < rule.alpha / 2) & (np.sign(dq_window) == np.sign(dq))
    significant = ok & (own | stretch) & (np.abs(dq) >= rule.min_dq)
    table["dq_se"], table["z"], table["p"] = np.where(ok, se, np.nan), z, p
    table["dq_window"], table["p_window"] = dq_window, np.where(in_window, p_window, np.nan)
    table["significant"] = significant
    table["change"] = np.where(significant, np.where(dq > 0, "better", "worse"), "")
    table["row_a"], table["row_b"] = match.rows_a, match.rows_b
    return Comparison(
        residues=table,
        only_a=res_a.iloc[match.only_a][[*KEY, "kind"]].reset_index(drop=True),
        only_b=res_b.iloc[match.only_b][[*KEY, "kind"]].reset_index(drop=True),
        model_q_a=a.result.model_q,
        model_q_b=b.result.model_q,
        shared_map=shared,
        resolution=resolution,
        sigma=a.result.sigma,
        mode=a.result.mode,
        rule=rule,
        noise_a=levels[0],
        noise_b=levels[1],
        seconds=time.perf_counter() - start,
        labels=labels,
        notes=_notes(levels, shared, labels),
    )


def _heavy_counts(model: AtomModel) -> np.ndarray:
    return np.bincount(model.residue_index[model.heavy], minlength=len(model.residues))


def _notes(
    levels: tuple[NoiseLevel | None, NoiseLevel | None], shared: bool, labels: tuple[str, str]
) -> tuple[str, ...]:
    level_a, level_b = levels
    if level_a is None:
        return ("Every matched residue has exactly the same Q on both sides.",)
    if shared or level_b is None:
        return (f"Map: {level_a.sentence}.",)
    return (f"Map {labels[0]}: {level_a.sentence}.", f"Map {labels[1]}: {level_b.sentence}.")


def comparison_margin(resolution: float) -> float:
    """Margin (Å) kept around the models when maps are cropped for a comparison, so that the
    solvent the noise is measured in stays in the box."""
    return max(defaults.CROP_MARGIN, solvent_distance(resolution) + SOLVENT_SHELL)


def resolve_resolution(resolution: float | None, models: Sequence[AtomModel]) -> float:
    """``resolution``, else the first one recorded in the models' mmCIF files.

    Parameters
    ----------
    resolution : float or None
        The resolution given by the user (Å).
    models : sequence of AtomModel
        Models whose recorded EM resolution is used, in order, when none is given.

    Returns
    -------
    float
        The resolution in Å.

    Raises
    ------
    ParameterError
        When neither gives one.
    """
    if resolution is not None:
        return float(resolution)
    for model in models:
        if model.resolution is not None:
            return float(model.resolution)
    raise ParameterError(
        "Comparing Q-scores needs the maps' resolution to judge which differences exceed the "
        "noise, and the models do not record one; give the resolution (Å)."
    )


def _same_map(first: DensityMap, second: DensityMap) -> bool:
    """True when two maps are one object or hold the same grid at the same place."""
    return first is second or (
        first.values.shape == second.values.shape
        and np.array_equal(first.origin, second.origin)
        and np.array_equal(first.voxel_size, second.voxel_size)
        and np.array_equal(first.axes, second.axes)
        and np.array_equal(first.values, second.values)
    )


def load_and_score_pair(
    maps: Sequence[Source],
    models: Sequence[ModelSource],
    *,
    resolution: float | None = None,
    sigma: float = defaults.SIGMA,
    mode: str = defaults.MODE,
    map_names: Sequence[str | None] | None = None,
    model_names: Sequence[str | None] | None = None,
    progress: Progress | None = None,
    threads: int | None = None,
) -> tuple[Scored, Scored]:
    """Read one map and two models, or two maps and one model, and score both sides.

    Maps are cropped around all the models with :func:`comparison_margin` (at ``resolution``,
    else the models' recorded one); with one map, both sides share one
    :class:`~qscore.io.maps.DensityMap`.

    Parameters
    ----------
    maps, models : sequence of str, path or bytes
        One map and two models, or two maps and one model (side A first).
    resolution : float, optional
        The maps' resolution (Å); default: the one recorded in the models.
    sigma, mode : optional
        The engine's parameters, as :func:`qscore.engine.score`.
    map_names, model_names : sequence of str, optional
        Names for inputs given as bytes (used in messages and results).
    progress : callable, optional
        ``progress(done, total, stage)``.
    threads : int, optional
        Threads of the compiled kernel.

    Returns
    -------
    tuple of Scored
        Side A and side B, ready for :func:`compare`.

    Raises
    ------
    ParameterError
        Unless exactly one of ``maps`` and ``models`` holds two inputs and the other one, or
        when no resolution is known.
    ModelFormatError
        When a model's atoms are packed far denser than any real structure (checked before
        the maps are read).
    """
    if sorted((len(maps), len(models))) != [1, 2]:
        raise ParameterError(
            "Compare one map with two models, or two maps with one model "
            f"(got {len(maps)} map(s) and {len(models)} model(s))."
        )
    report = progress or (lambda done, total, stage: None)
    map_names = list(map_names or [None] * len(maps))
    model_names = list(model_names or [None] * len(models))
    report(0, 2, "Reading the models")
    read_models = [
        read_model(src, name=name) for src, name in zip(models, model_names, strict=True)
    ]
    for model in read_models:
        check_packing(model.xyz[model.heavy], label=f"The model {model.source}".rstrip())
    margin = comparison_margin(resolve_resolution(resolution, read_models))
    xyz = np.concatenate([m.xyz for m in read_models])
    report(0, 2, "Reading the maps around the models")
    read_maps = [
        read_map(src, crop_to=xyz, margin=margin, name=name)
        for src, name in zip(maps, map_names, strict=True)
    ]
    pairs = [(read_maps[min(k, len(read_maps) - 1)], read_models[min(k, len(read_models) - 1)])
             for k in range(2)]  # fmt: skip
    sides = []
    for k, (dmap, model) in enumerate(pairs):
        report(k, 2, f"Scoring side {'AB'[k]}")
        result = score(dmap, model, sigma=sigma, mode=mode, threads=threads)
        sides.append(Scored(dmap=dmap, model=model, result=result))
    report(2, 2, "Scored both sides")
    return sides[0], sides[1]


def second_side(
    a: Scored,
    *,
    model: AtomModel | None = None,
    dmap: DensityMap | None = None,
    progress: Progress | None = None,
    threads: int | None = None,
) -> Scored:
    """Side B of a comparison with ``a``: another model in A's map, or A's model in another map
    (scored with A's sigma and mode).

    Parameters
    ----------
    a : Scored
        Side A.
    model, dmap : optional
        Exactly one of them: the other model, or the other map (in A's frame).
    progress : callable, optional
        ``progress(done, total, stage)``.
    threads : int, optional
        Threads of the compiled kernel.

    Returns
    -------
    Scored
        Side B.

    Raises
    ------
    ParameterError
        Unless exactly one of ``model`` and ``dmap`` is given.
    ModelFormatError
        When ``model``'s atoms are packed far denser than any real structure.
    """
    if (model is None) == (dmap is None):
        raise ParameterError("Give side B either another model or another map, not both.")
    if model is not None:
        check_packing(model.xyz[model.heavy], label=f"The model {model.source}".rstrip())
    model = a.model if model is None else model
    dmap = a.dmap if dmap is None else dmap
    result = score(
        dmap, model, sigma=a.result.sigma, mode=a.result.mode, progress=progress, threads=threads
    )
    return Scored(dmap=dmap, model=model, result=result)


def ligand_table(
    results: Mapping[str, Scored], *, resolution: float | None, sigma: float
) -> pd.DataFrame:
    """Q of every ligand and saccharide in each named result, against the expected band.

    One row per molecule (matched by chain, number, insertion code and name across the results)
    and result: ``chain, resseq, icode, resname, kind, result, q, verdict`` (``below``,
    ``typical``, ``above``, or "" without bands). The paper's pose comparison (Fig. 4 e–j) is
    this table for two poses in two maps.

    Parameters
    ----------
    results : mapping of str to Scored
        The results to tabulate, by name (e.g. ``"model A · map B"``).
    resolution : float or None
        The resolution of the bands; None leaves ``verdict`` empty.
    sigma : float
        The sigma the results were scored with.

    Returns
    -------
    pandas.DataFrame
        One row per molecule and result.
    """
    frames = []
    for name, scored in results.items():
        table = residue_table(scored.model, scored.result.q)
        table = table[table["kind"].astype(str).isin(MOLECULES)]
        frame = table[[*KEY, "kind", "q"]].assign(result=name)
        frame["kind"] = frame["kind"].astype(str)
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=[*KEY, "kind", "result", "q", "verdict"])
    out = pd.concat(frames, ignore_index=True)
    out["icode"] = out["icode"].astype(str)
    if resolution is not None:
        out["verdict"] = verdict_codes(out["q"].to_numpy(dtype=float), resolution, sigma)
    else:
        out["verdict"] = ""
    return out[[*KEY, "kind", "result", "q", "verdict"]].reset_index(drop=True)
