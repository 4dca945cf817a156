"""``qscore stats``: archive statistics of a reference table (fits, R², cross-validation, windows)."""

from __future__ import annotations

import argparse

from qscore.cli.common import add_json_option, write_json


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``stats`` sub-command."""
    parser = subparsers.add_parser(
        "stats",
        help="archive statistics: polynomial fits, R2, cross-validation",
        description=(
            "Fit Q-score against resolution over a reference table (degrees 1-4), cross-validate "
            "the fit, derive the Q_peak / Q_low_95% / Q_high_95% offsets and tabulate entries per "
            "resolution window (paper Table 1) with the Q_relative_resolution correlations."
        ),
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--reference",
        metavar="CSV",
        help="reference table with columns id, resolution, qscore "
        "(default: the table of the installed va package)",
    )
    source.add_argument(
        "--from",
        dest="from_dir",
        metavar="DIR",
        help="refit on the results of 'qscore batch --out DIR' (model_q of the entries scored "
        "at sigma 0.4 with a resolution); the table is also written to DIR/reference.csv",
    )
    parser.add_argument(
        "--resolution-range",
        default="1:10",
        metavar="LOW:HIGH",
        help="fit the entries with a reported resolution in this range, in Å (default 1:10, the "
        "paper's selection, on which equations 1-4 were fitted; 'all' for the whole table)",
    )
    parser.add_argument(
        "--degree",
        type=int,
        default=3,
        choices=(1, 2, 3, 4),
        help="degree of the model used for cross-validation and offsets (default 3)",
    )
    add_json_option(parser)
    parser.set_defaults(func=run)


def _number(value: float | None, digits: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _print(result: dict) -> None:
    from qscore.analysis.archive import describe_selection

    print(
        f"Reference: {result['source']}"
        + (f", version {result['version']}" if result["version"] else "")
    )
    selection = describe_selection(
        result["entries"], result["entries_table"], result["resolution_range"]
    )
    print(
        f"Fitted: {selection}; resolutions {result['resolution_min']:g}–"
        f"{result['resolution_max']:g} Å"
    )
    print("Polynomial fits of Q against resolution (coefficients highest power first):")
    for fit in result["polynomial"]:
        coefficients = ", ".join(f"{c:+.6f}" for c in fit["coefficients"])
        print(f"  degree {fit['degree']}: R² {_number(fit['r2'])}  [{coefficients}]")
    paper = result["equation_1"]
    coefficients = ", ".join(f"{c:+.6f}" for c in paper["coefficients"])
    print(f"  equation 1 (paper): R² {_number(paper['r2'])}  [{coefficients}]")
    cv = result["cross_validation"]
    print(
        f"Cross-validation (degree {cv['degree']}, {cv['folds']} folds of 90%/10%, seed {cv['seed']}): "
        f"R² {_number(cv['r2'])}, RMSE {_number(cv['rmse'])}, MAE {_number(cv['mae'])}"
    )
    off = result["offsets"]
    print(
        f"Offsets from the fitted curve: Q_peak {off['peak']:+.3f}, "
        f"Q_low_95% {_number(off['low95'], 3)}, Q_high_95% {_number(off['high95'], 3)}"
    )
    pct = off["residual_percentiles"]
    print("Residual percentiles: " + ", ".join(f"{k} {_number(v, 3)}" for k, v in pct.items()))
    windows = result.get("windows")
    if windows:
        low, high = windows["resolution_range"]
        split = windows["split"]
        print(
            f"Entries per window for entries of {low:g}–{high:g} Å, and the correlation of "
            f"Q_relative_resolution with resolution (< {split:g} Å / ≥ {split:g} Å):"
        )
        print("  window     min      mean       max   r(<5)   r(≥5)")
        for row in windows["rows"]:
            print(
                f"  {row['window']:6.1f} {row['entries_min']:7d} {row['entries_mean']:9.0f} "
                f"{row['entries_max']:9d} {_number(row['r_below_split'], 3):>7} "
                f"{_number(row['r_from_split'], 3):>7}"
            )


def _reference_from_batch(folder: str, *, quiet: bool):
    """The reference table of a batch results folder, also written as DIR/reference.csv."""
    from pathlib import Path

    from qscore.analysis.archive import FOLDS
    from qscore.batch.runner import reference_from_results, write_reference
    from qscore.errors import ReferenceTableError

    reference = reference_from_results(folder)
    minimum = 2 * FOLDS
    if reference.entries < minimum:
        raise ReferenceTableError(
            f"The batch results in '{folder}' hold {reference.entries} usable entries; refitting "
            f"the statistical model needs at least {minimum} (two per cross-validation fold)."
        )
    path = write_reference(reference, Path(folder) / "reference.csv")
    if not quiet:
        print(f"Reference table of {reference.entries:,} entries written to {path}")
    return reference


def run(args: argparse.Namespace) -> int:
    """Compute, print and optionally write the archive statistics; return the exit code."""
    from qscore.analysis.archive import fit_statistical_model, parse_resolution_range
    from qscore.analysis.reference import default_reference, load_reference
    from qscore.errors import ReferenceTableError

    resolution_range = parse_resolution_range(args.resolution_range)
    if args.from_dir:
        reference = _reference_from_batch(args.from_dir, quiet=args.json == "-")
    else:
        reference = load_reference(args.reference) if args.reference else default_reference()
    if reference is None:
        raise ReferenceTableError(
            "No reference table is available: install the va package or pass --reference CSV "
            "with columns id, resolution and qscore."
        )
    result = fit_statistical_model(reference, args.degree, resolution_range=resolution_range)
    if args.json != "-":
        _print(result)
    if args.json:
        write_json(result, args.json)
    return 0
