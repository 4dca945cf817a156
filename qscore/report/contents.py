"""Everything a report shows, computed once from a scored map and model.

The numbers come from the functions the command line uses: the scoring document of
:func:`qscore.analysis.summary.score_summary` (``qscore score --json``), the B-factor document of
:func:`qscore.analysis.summary.bfactor_summary` (``qscore bfactor --json``), the tables of
:class:`qscore.analysis.tables.Analysis` (the dashboard's) and atom inclusion
(:func:`qscore.analysis.inclusion.atom_inclusion`). Nothing here is recomputed another way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from qscore import defaults
from qscore.analysis.inclusion import Inclusion, atom_inclusion
from qscore.analysis.reference import ReferenceTable
from qscore.analysis.summary import bfactor_summary, score_summary
from qscore.analysis.tables import Analysis
from qscore.pipeline import Scored
from qscore.progress import Progress
from qscore.report.provenance import InputFile, software, timestamp

#: Version of the report's embedded JSON document.
FORMAT_VERSION = 1


@dataclass(frozen=True, eq=False)
class ReportContents:
    """The numbers and tables of one report.

    ``score`` is the document of ``qscore score --json`` for the same inputs (with the
    local-resolution keys and the ChimeraX paths when those were asked for), ``bfactor`` that of
    ``qscore bfactor --json`` (None unless asked for), ``local`` the residue table with the
    local-resolution columns (None without a local resolution).
    """

    scored: Scored
    analysis: Analysis
    score: dict[str, Any]
    inclusion: Inclusion
    resolution: float | None
    resolution_source: str | None
    reference: ReferenceTable | None
    window: float
    inputs: tuple[InputFile, ...]
    software: dict[str, str]
    generated: str
    bfactor: dict[str, Any] | None = None
    local: pd.DataFrame | None = None

    def document(self) -> dict[str, Any]:
        """The JSON document embedded in the report (and written by ``qscore report --json``)."""
        return {
            "format": FORMAT_VERSION,
            "generated": self.generated,
            "software": self.software,
            "inputs": [f.as_dict() for f in self.inputs],
            "score": self.score,
            "inclusion": self.inclusion.as_dict(),
            "bfactor": self.bfactor,
        }


def resolution_source(given: float | None, model_resolution: float | None) -> str | None:
    """Where the resolution used came from, in words (None when there is none)."""
    if given is not None:
        return "given"
    if model_resolution is not None:
        return "read from the model file (_em_3d_reconstruction.resolution)"
    return None


def collect(
    scored: Scored,
    *,
    inputs: Sequence[InputFile],
    resolution: float | None = None,
    reference: ReferenceTable | None = None,
    window: float = defaults.WINDOW,
    contour: float | None = None,
    bfactors: bool = False,
    f_range: tuple[float, float, float] = defaults.F_RANGE,
    analysis: Analysis | None = None,
    local: tuple[pd.DataFrame, dict[str, Any]] | None = None,
    chimerax: Sequence[str] = (),
    progress: Progress | None = None,
) -> ReportContents:
    """Compute everything the report shows.

    Parameters
    ----------
    scored : Scored
        The map (as read around the model), the model and their Q-scores.
    inputs : sequence of InputFile
        The input files with their checksums.
    resolution : float, optional
        The map's resolution as given; the model file's EM resolution when None.
    reference : ReferenceTable, optional
        The EMDB reference table for Q_relative (the CLI passes the default table).
    window : float
        Resolution window (Å) of Q_relative_resolution.
    contour : float, optional
        The map's recommended contour level; the default level of
        :func:`qscore.analysis.inclusion.default_level` when None.
    bfactors : bool
        Also estimate B-factors from the Q-scores and the CC / CC-mean (needs a resolution).
    f_range : tuple of float
        Scale factors of the B-factor scan (start, stop, step).
    analysis : Analysis, optional
        The tables, when the caller has them already (the dashboard).
    local : tuple of (DataFrame, dict), optional
        The residue table with the local-resolution columns and the keys they add to the
        scoring document, as ``qscore.cli.local_resolution.apply`` returns them.
    chimerax : sequence of str
        The ChimeraX files written beside the report (``--chimerax``).
    progress : callable, optional
        ``progress(done, total, stage)`` during the B-factor scan.

    Returns
    -------
    ReportContents

    Raises
    ------
    ParameterError
        For a non-finite contour level, or B-factors asked for without a resolution.
    """
    from qscore.errors import ParameterError

    model = scored.model
    used = resolution if resolution is not None else model.resolution
    score = score_summary(scored, used, reference, window)
    if local is not None:
        score.update(local[1])
    if chimerax:
        score["chimerax"] = [str(path) for path in chimerax]
    inclusion = atom_inclusion(scored.dmap, model, level=contour)
    bfactor = None
    if bfactors:
        if used is None:
            raise ParameterError(
                "B-factors need the map's resolution: give it with --resolution D (the model "
                "file does not record one)."
            )
        bfactor = _bfactor_document(scored, used, f_range, progress)
    return ReportContents(
        scored=scored,
        analysis=analysis if analysis is not None else Analysis.of(scored),
        score=score,
        inclusion=inclusion,
        resolution=used,
        resolution_source=resolution_source(resolution, model.resolution),
        reference=reference,
        window=window,
        inputs=tuple(inputs),
        software=software(),
        generated=timestamp(),
        bfactor=bfactor,
        local=None if local is None else local[0],
    )


def _bfactor_document(
    scored: Scored,
    resolution: float,
    f_range: tuple[float, float, float],
    progress: Progress | None,
) -> dict[str, Any]:
    """``qscore bfactor --json``'s document for the scored map and model."""
    from qscore.analysis.bfactor import estimate_bfactors, model_correlations

    dmap, model, result = scored.dmap, scored.model, scored.result
    bfac = estimate_bfactors(dmap, model, result.q, resolution, f_range=f_range, progress=progress)
    correlations = model_correlations(dmap, model, resolution)
    return bfactor_summary(dmap, model, result, bfac, correlations)


def f_scan_frame(bfactor: dict[str, Any]) -> pd.DataFrame:
    """The f scan of a B-factor document as a frame (columns ``f``, ``cc_mean``)."""
    return pd.DataFrame(bfactor["f_scan"], columns=["f", "cc_mean"])
