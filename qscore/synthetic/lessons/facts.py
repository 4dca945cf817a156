"""The numbers a lesson quotes, measured on its scored scenario, and the texts filled in with
them: a lesson never types a score in, so what it says is what the engine measured."""

from __future__ import annotations

import math
from collections.abc import Mapping
from string import Formatter
from typing import Any

import numpy as np

from qscore.analysis.expected import expected_q
from qscore.analysis.local_resolution import local_verdicts, residue_local_resolution
from qscore.engine import overall_q
from qscore.io.export import residues_frame
from qscore.io.models import AtomModel

#: MapQ's atom subsets whose mean Q is quoted (``{backbone_q}``, ``{groups[0][base_q]}``, …).
SUBSETS = ("backbone", "sidechain", "phosphate", "sugar", "base")


def _mean(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else math.nan


def group_where(group: Mapping[str, Any]) -> str:
    """Where an expectation group lies, e.g. ``A57–A66``, ``A83`` or ``G4``."""
    chain = str(group.get("chain", ""))
    resseq = [int(n) for n in group.get("resseq") or []]
    if not resseq:
        return f"chain {chain}"
    if len(resseq) == 1:
        return f"{chain}{resseq[0]}"
    return f"{chain}{resseq[0]}–{chain}{resseq[-1]}"


def group_mask(model: AtomModel, group: Mapping[str, Any]) -> np.ndarray:
    """Scored atoms of an expectation group (only its side chains when ``atoms`` says so)."""
    mask = model.heavy & (model.chain == str(group.get("chain", "")))
    resseq = list(group.get("resseq") or [])
    if resseq:
        mask &= np.isin(model.resseq, resseq)
    if group.get("atoms") == "sidechain":
        mask &= model.subset == "sidechain"
    return mask


def _subset_means(model: AtomModel, q: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    return {f"{s}_q": _mean(q[mask & (model.subset == s)]) for s in SUBSETS}


def lesson_facts(
    example: Any,
    model: AtomModel,
    q: np.ndarray,
    *,
    variants: Mapping[str, tuple[AtomModel, np.ndarray]] | None = None,
    true_resolution: float | None = None,
    local_resolution: np.ndarray | None = None,
) -> dict[str, Any]:
    """Every number a lesson may quote, from a scenario's model and its per-atom Q.

    Parameters
    ----------
    example
        The scenario (:class:`qscore.synthetic.examples.Example`): its ``resolution``,
        ``sigma`` and ``expectation`` are read.
    model, q
        The scenario's model and the engine's per-atom Q-scores in its map.
    variants
        The scenario's alternative models, scored in the same map (name → model, Q).
    true_resolution
        The resolution the map was really made at, when the lesson tells it.
    local_resolution
        The local resolution (Å) at every atom of ``model``, for scenarios with a
        local-resolution map.

    Returns
    -------
    dict
        ``d``, ``sigma``, ``model_q``, ``q_peak``, ``q_low95``, ``q_high95``, ``atoms`` (scored
        atoms), ``backbone_q`` … ``base_q`` (means over the model), ``groups`` (one dict per
        group of ``expectation["below_low95"]``: ``label``, ``where``, ``q``,
        ``chain_rest_q`` = the rest of its chain, and its subset means), ``rest_q`` (everything
        outside the groups and the local groups), ``pose_q`` (ligand Q per variant) and ``pose_gap`` (largest minus
        smallest), ``true_d`` and ``true_q_peak``, and ``local`` (one dict per group of
        ``expectation["local"]``, by name: ``where``, ``q``, ``local_d`` (mean local resolution),
        ``q_low95_local`` (the band's floor there), ``below_global`` and ``below_local`` (the
        fractions of its residues below the band at the reported and at their own local
        resolution, as the local-resolution page judges them)).
    """
    q = np.where(model.heavy, np.asarray(q, dtype=float), np.nan)
    d, sigma = float(example.resolution), float(example.sigma)
    bands = expected_q(d, sigma)
    facts: dict[str, Any] = {
        "d": d,
        "sigma": sigma,
        "model_q": overall_q(q, model.heavy),
        "atoms": int(np.isfinite(q).sum()),
        "q_peak": bands.q_peak if bands else math.nan,
        "q_low95": bands.q_low95 if bands else math.nan,
        "q_high95": bands.q_high95 if bands else math.nan,
        **_subset_means(model, q, model.heavy),
    }
    expectation = getattr(example, "expectation", None) or {}
    outside = model.heavy.copy()
    groups = []
    for group in expectation.get("below_low95") or []:
        mask = group_mask(model, group)
        outside &= ~mask
        rest_of_chain = model.heavy & (model.chain == str(group.get("chain", ""))) & ~mask
        groups.append(
            {
                "label": str(group.get("label", "")),
                "where": group_where(group),
                "q": _mean(q[mask]),
                "chain_rest_q": _mean(q[rest_of_chain]),
                **_subset_means(model, q, mask),
            }
        )
    facts["groups"] = groups
    for group in (expectation.get("local") or {}).values():
        outside &= ~group_mask(model, group)
    facts["rest_q"] = _mean(q[outside])
    chain = (expectation.get("higher") or {}).get("chain")
    pose_q = {}
    for name, (other, other_q) in (variants or {}).items():
        ligand = other.heavy & (other.kind == "ligand")
        if chain is not None:
            ligand &= other.chain == chain
        pose_q[name] = _mean(np.asarray(other_q, dtype=float)[ligand])
    facts["pose_q"] = pose_q
    facts["pose_gap"] = max(pose_q.values()) - min(pose_q.values()) if pose_q else math.nan
    facts["local"] = (
        _local_facts(example, model, q, local_resolution, expectation.get("local") or {})
        if local_resolution is not None
        else {}
    )
    if true_resolution is not None:
        true_bands = expected_q(true_resolution, sigma)
        facts["true_d"] = float(true_resolution)
        facts["true_q_peak"] = true_bands.q_peak if true_bands else math.nan
    return facts


def _local_facts(
    example: Any,
    model: AtomModel,
    q: np.ndarray,
    local_resolution: np.ndarray,
    groups: Mapping[str, Mapping[str, Any]],
) -> dict[str, dict[str, Any]]:
    """Per local group: where, mean Q and local resolution, and the residues' verdicts."""
    sigma, d = float(example.sigma), float(example.resolution)
    residues = residues_frame(model, q)
    per_residue = residue_local_resolution(model, local_resolution, q)
    table, _ = local_verdicts(residues, per_residue, sigma=sigma, resolution=d)
    bands = expected_q(d, sigma)
    q_low95 = bands.q_low95 if bands is not None else math.nan
    out = {}
    for name, group in groups.items():
        mask = group_mask(model, group)
        rows = table["chain"].eq(str(group.get("chain", ""))) & table["resseq"].isin(
            list(group.get("resseq") or [])
        )
        rows &= table["q"].notna()
        local_d = _mean(np.asarray(local_resolution, dtype=float)[mask])
        local_bands = expected_q(local_d, sigma) if math.isfinite(local_d) else None
        out[str(name)] = {
            "where": group_where(group),
            "q": _mean(q[mask]),
            "local_d": local_d,
            "q_low95_local": local_bands.q_low95 if local_bands else math.nan,
            "below_global": float((table.loc[rows, "q"] < q_low95).mean()),
            "below_local": float((table.loc[rows, "local_verdict"] == "below").mean()),
        }
    return out


def fields(text: str) -> list[str]:
    """The top-level names of the ``str.format`` fields in ``text`` (``groups`` for
    ``{groups[0][q]:.2f}``)."""
    names = []
    for _, name, _, _ in Formatter().parse(text):
        if name:
            names.append(name.split("[", 1)[0].split(".", 1)[0])
    return names


def render(text: str, facts: Mapping[str, Any]) -> str:
    """``text`` with its fields filled in from ``facts``.

    Raises
    ------
    KeyError
        When the text quotes a number the facts do not hold.
    """
    return text.format_map(dict(facts))


def scenario_facts(example: Any, *, true_resolution: float | None = None) -> dict[str, Any]:
    """:func:`lesson_facts` of a scenario read from its files: the model and its alternative
    models scored in the map, and the local resolution at the atoms when the scenario has a
    local-resolution map.

    Parameters
    ----------
    example
        The scenario (:class:`qscore.synthetic.examples.Example`).
    true_resolution
        As in :func:`lesson_facts`.

    Returns
    -------
    dict
        The facts.

    Raises
    ------
    qscore.errors.QscoreError
        When a file cannot be read or scored.
    """
    from qscore.pipeline import load_and_score, load_local_resolution

    scored = load_and_score(example.map_path, example.model_path, sigma=example.sigma)
    variants = {}
    for name, path in (getattr(example, "variants", None) or {}).items():
        other = load_and_score(example.map_path, path, sigma=example.sigma)
        variants[name] = (other.model, other.result.q)
    local_path = getattr(example, "local_resolution_path", None)
    local = (
        load_local_resolution(scored.model, local_map=local_path).atoms
        if local_path is not None
        else None
    )
    return lesson_facts(
        example,
        scored.model,
        scored.result.q,
        variants=variants,
        true_resolution=true_resolution,
        local_resolution=local,
    )
