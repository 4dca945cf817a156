"""A model's Q-score in context: the expected bands at its resolution and its archive percentiles.

One function joins the statistical model (``expected``) and the percentile scores (``relative``)
so the command line, the dashboard and the batch runner report the same keys.
"""

from __future__ import annotations

from typing import Any

from qscore.analysis.expected import SIGMA_TOLERANCE, expected_q, verdict
from qscore.analysis.reference import ReferenceTable
from qscore.analysis.relative import relative_q
from qscore.defaults import WINDOW

#: The archive percentiles are defined for model averages at sigma 0.4 only.
REFERENCE_SIGMA = 0.4


def archive_comparable(sigma: float) -> bool:
    """Whether Q-scores at ``sigma`` compare with the EMDB archive's (computed at sigma 0.4)."""
    return abs(float(sigma) - REFERENCE_SIGMA) <= SIGMA_TOLERANCE


def archive_note(sigma: float) -> str | None:
    """The sentence saying why archive entries are left out beside a model scored at ``sigma``.

    Returns
    -------
    str or None
        None when ``sigma`` is the archive's (0.4), so the entries are drawn.
    """
    if archive_comparable(sigma):
        return None
    return (
        f"The EMDB archive's Q-scores were computed at sigma {REFERENCE_SIGMA:g}, so they are not "
        f"drawn beside Q-scores at sigma {sigma:g}; score at sigma {REFERENCE_SIGMA:g} to compare "
        "with the archive."
    )


def peak_delta(model_q: float, q_peak: float) -> str:
    """The difference model Q − Q_peak, signed and labelled so it reads one way only.

    A positive value means the model's Q is above Q_peak (e.g. ``"+0.006 (model Q − Q_peak)"``).
    """
    return f"{model_q - q_peak:+.3f} (model Q − Q_peak)"


def score_context(
    model_q: float,
    resolution: float,
    sigma: float,
    reference: ReferenceTable | None = None,
    window: float = WINDOW,
) -> dict[str, Any]:
    """Q_peak, the 95% band, the verdict and (sigma 0.4, with a table) both Q_relative scores.

    Keys that do not apply are None, and ``notes`` says why (no bands for this sigma, no
    reference table, or a resolution outside 1–10 Å).
    """
    notes: list[str] = []
    bands = expected_q(resolution, sigma)
    judged = verdict(model_q, resolution, sigma) if bands else None
    if bands is None:
        notes.append(f"Expected Q-scores exist for sigma 0.4 and 0.6 only (sigma is {sigma:g}).")
    elif bands.warning:
        notes.append(bands.warning)
    rel = None
    if not archive_comparable(sigma):
        notes.append(
            "Q_relative scores compare sigma-0.4 Q-scores; score at sigma 0.4 to get them."
        )
    elif reference is None:
        notes.append("No EMDB reference table is available, so Q_relative scores are not computed.")
    else:
        rel = relative_q(model_q, resolution, reference, window)
        if rel.warning:
            notes.append(rel.warning)
    return {
        "resolution": resolution,
        "q_mean": bands.q_mean if bands else None,
        "q_peak": bands.q_peak if bands else None,
        "q_low95": bands.q_low95 if bands else None,
        "q_high95": bands.q_high95 if bands else None,
        "verdict": judged.code if judged else None,
        "verdict_label": judged.label if judged else None,
        "verdict_explanation": judged.explanation if judged else None,
        "q_relative_all": rel.q_relative_all if rel else None,
        "q_relative_resolution": rel.q_relative_resolution if rel else None,
        "entries_all": rel.entries_all if rel else None,
        "entries_window": rel.entries_window if rel else None,
        "window": window,
        "relative_interpretation": rel.interpretation if rel else None,
        "reference": reference.describe() if reference is not None else None,
        "notes": notes,
    }
