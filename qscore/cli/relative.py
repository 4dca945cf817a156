"""``qscore relative``: Q_relative_all, Q_relative_resolution, expected bands and verdict of a Q."""

from __future__ import annotations

import argparse
from typing import Any

from qscore.cli.common import add_json_option, write_json
from qscore.defaults import WINDOW


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``relative`` sub-command."""
    parser = subparsers.add_parser(
        "relative",
        help="Q_relative_all and Q_relative_resolution of a Q-score",
        description=(
            "Rank a model-average Q-score (sigma 0.4) among EMDB entries: among all entries "
            "(Q_relative_all) and among entries of similar resolution (Q_relative_resolution), "
            "and compare it with the expected Q-scores at that resolution."
        ),
    )
    parser.add_argument(
        "--resolution", type=float, required=True, metavar="D", help="reported map resolution in Å"
    )
    parser.add_argument(
        "--q", type=float, required=True, metavar="Q", help="model-average Q-score at sigma 0.4"
    )
    parser.add_argument(
        "--window",
        type=float,
        default=WINDOW,
        metavar="W",
        help=f"resolution window in Å for Q_relative_resolution (default {WINDOW})",
    )
    parser.add_argument(
        "--reference",
        metavar="CSV",
        help="reference table with columns id, resolution, qscore "
        "(default: the table of the installed va package)",
    )
    add_json_option(parser)
    parser.set_defaults(func=run)


def _percent(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.2f}%" if value < 10 else f"{value:.1f}%"


def run(args: argparse.Namespace) -> int:
    """Compute, print and optionally write the relative scores; return the exit code."""
    from qscore.analysis.expected import expected_q, verdict
    from qscore.analysis.reference import default_reference, load_reference
    from qscore.analysis.relative import check_parameters, relative_q

    q, resolution, window = check_parameters(args.q, args.resolution, args.window)
    reference = load_reference(args.reference) if args.reference else default_reference()
    bands = expected_q(resolution, 0.4)
    judged = verdict(q, resolution, 0.4)
    assert bands is not None and judged is not None  # sigma 0.4 always has bands
    rel = relative_q(q, resolution, reference, window) if reference is not None else None

    result: dict[str, Any] = {
        "q": q,
        "resolution": resolution,
        "window": window,
        "reference_source": reference.source if reference else None,
        "reference_version": reference.version if reference else None,
        "q_relative_all": rel.q_relative_all if rel else None,
        "q_relative_resolution": rel.q_relative_resolution if rel else None,
        "entries_all": rel.entries_all if rel else 0,
        "entries_window": rel.entries_window if rel else 0,
        "interpretation": rel.interpretation if rel else None,
        "q_mean": bands.q_mean,
        "q_peak": bands.q_peak,
        "q_low95": bands.q_low95,
        "q_high95": bands.q_high95,
        "verdict": judged.code,
        "verdict_label": judged.label,
        "verdict_explanation": judged.explanation,
        "warnings": [w for w in (bands.warning, rel.warning if rel else None) if w],
    }

    if args.json != "-":
        print(f"Q-score {q:g} at {resolution:g} Å (sigma 0.4)")
        if rel is None:
            print(
                "No reference table is available (the va package is not installed and no "
                "--reference was given), so Q_relative_all and Q_relative_resolution cannot be "
                "computed; only the expected Q-scores are shown."
            )
        else:
            assert reference is not None
            print(f"Reference: {reference.describe()}")
            print(
                f"Q_relative_all:        {_percent(rel.q_relative_all)}  "
                f"(lower than this Q: {round(rel.q_relative_all * rel.entries_all / 100):,} "
                f"of {rel.entries_all:,} entries)"
            )
            print(
                f"Q_relative_resolution: {_percent(rel.q_relative_resolution)}  "
                f"({rel.entries_window:,} entries within ±{window:g} Å of {resolution:g} Å)"
            )
        print(
            f"Expected at {resolution:g} Å: Q_low_95% {bands.q_low95:.3f}, "
            f"Q_peak {bands.q_peak:.3f}, Q_high_95% {bands.q_high95:.3f}"
        )
        print(f"Verdict: {judged.label}. {judged.explanation}")
        if rel is not None:
            print(rel.interpretation)
        for warning in result["warnings"]:
            print(f"Warning: {warning}")
    if args.json:
        write_json(result, args.json)
    return 0
