"""The JSON documents of a scoring run and of a B-factor run: the numbers every face reports.

``qscore score --json``, ``qscore bfactor --json`` and the report (``qscore report`` and the
dashboard's download) build their numbers here, so a number in the report is the command line's.
"""

from __future__ import annotations

from typing import Any

from qscore.analysis.aggregate import model_summary
from qscore.analysis.context import score_context
from qscore.analysis.reference import ReferenceTable
from qscore.engine import ScoreResult
from qscore.io.maps import DensityMap
from qscore.io.models import AtomModel
from qscore.pipeline import Scored


def score_summary(
    scored: Scored, resolution: float | None, reference: ReferenceTable | None, window: float
) -> dict[str, Any]:
    """The document of a scoring run (the contract of ``qscore score --json``).

    Parameters
    ----------
    scored : Scored
        The map, the model and their per-atom Q-scores.
    resolution : float or None
        The map's resolution; without it the context keys (bands, verdict, Q_relative) are absent.
    reference : ReferenceTable or None
        The EMDB reference table for Q_relative.
    window : float
        Resolution window (Å) of Q_relative_resolution.

    Returns
    -------
    dict
        ``map``, ``model``, ``sigma``, ``mode``, ``engine``, ``seconds``, ``atoms_outside``,
        the model summary (``model_q``, ``model_q_polymer``, ``atoms_scored``, ``chains``,
        ``types``), ``notes`` and, with a resolution, the keys of
        :func:`qscore.analysis.context.score_context`.
    """
    result, model, dmap = scored.result, scored.model, scored.dmap
    doc: dict[str, Any] = {
        "map": dmap.source,
        "model": model.source,
        "sigma": result.sigma,
        "mode": result.mode,
        "engine": result.engine,
        "seconds": round(result.seconds, 4),
        "atoms_outside": result.atoms_outside,
        **model_summary(model, result.q),
        "notes": list(result.notes),
    }
    doc["atoms_scored"] = result.atoms_scored
    if resolution is not None:
        doc.update(score_context(doc["model_q"], resolution, result.sigma, reference, window))
        doc["notes"] = list(result.notes) + doc.pop("notes")
    return doc


def bfactor_summary(
    dmap: DensityMap, model: AtomModel, result: ScoreResult, bfac, correlations: dict[str, Any]
) -> dict[str, Any]:
    """The document of a B-factor run (the contract of ``qscore bfactor --json``).

    Parameters
    ----------
    dmap, model, result : DensityMap, AtomModel, ScoreResult
        The map, the model and their per-atom Q-scores.
    bfac : qscore.analysis.bfactor.BFactorResult
        The f scan and the chosen f.
    correlations : dict
        :func:`qscore.analysis.bfactor.model_correlations` of the map and model.

    Returns
    -------
    dict
        The keys listed in docs/cli-bfactor.md.
    """
    return {
        "map": dmap.source,
        "model": model.source,
        "resolution": bfac.resolution,
        "sigma": result.sigma,
        "mode": result.mode,
        "model_q": result.model_q,
        "threshold": bfac.threshold,
        "f_scan": [{"f": float(r.f), "cc_mean": float(r.cc_mean)} for r in bfac.scan.itertuples()],
        "best_f": bfac.best_f,
        "cc_mean_best": bfac.cc_mean_best,
        "cc_mean_b0": bfac.cc_mean_b0,
        "cc_mean_deposited": bfac.cc_mean_deposited,
        "cc": correlations["cc"],
        "cc_mean": correlations["cc_mean"],
        "chains": correlations["chains"],
        "seconds_scan": round(bfac.seconds, 3),
        "notes": list(result.notes) + list(bfac.notes),
    }
