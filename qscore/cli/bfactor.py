"""``qscore bfactor MAP MODEL``: atomic B-factors from Q-scores, CC and CC-mean (paper §6, A1.4–A1.5)."""

from __future__ import annotations

import argparse
from typing import Any

from qscore import defaults
from qscore.cli.common import (
    add_json_option,
    add_map_model_arguments,
    add_sigma_and_mode_options,
    check_outputs,
    emit,
    progress_bar,
)


def _default_f_range() -> str:
    start, stop, step = defaults.F_RANGE
    return f"{start:g}:{stop:g}:{step:g}"


def add_f_range_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--f-range START:STOP:STEP``, the scale factors of the B-factor scan."""
    parser.add_argument(
        "--f-range",
        default=_default_f_range(),
        metavar="START:STOP:STEP",
        help=f"scale factors to scan, stop included (default {_default_f_range()})",
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``bfactor`` sub-command."""
    parser = subparsers.add_parser(
        "bfactor",
        help="atomic B-factors from Q-scores, CC and CC-mean",
        description=(
            "Score MODEL in MAP, turn the Q-scores into B-factors B = f·(1 − Q) and choose f by "
            "the CC-mean between MAP and the model's electron-scattering map (paper eq. 5). Also "
            "reports CC and CC-mean of the molmap-style model map for the model and per chain."
        ),
    )
    add_map_model_arguments(parser)
    parser.add_argument(
        "--resolution",
        type=float,
        metavar="D",
        help="map resolution in Å for the model maps (default: the mmCIF's "
        "_em_3d_reconstruction.resolution)",
    )
    add_sigma_and_mode_options(parser)
    add_f_range_argument(parser)
    parser.add_argument(
        "--cif", metavar="F", help="write the model as mmCIF with the new B-factors"
    )
    parser.add_argument("--pdb", metavar="F", help="write the model as PDB with the new B-factors")
    parser.add_argument(
        "--table", metavar="F", help="write per-residue CC, CC-mean and mean B as CSV"
    )
    add_json_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Score, scan f, print, write the requested files; return the exit code."""
    from qscore.analysis.bfactor import (
        estimate_bfactors,
        model_correlations,
        parse_f_range,
        residue_correlations,
    )
    from qscore.analysis.summary import bfactor_summary
    from qscore.checks import check_resolution
    from qscore.engine import score
    from qscore.errors import ParameterError
    from qscore.io import export
    from qscore.pipeline import load

    f_range = parse_f_range(args.f_range)
    if args.resolution is not None:
        check_resolution(args.resolution)
    outputs = {"--table": args.table, "--cif": args.cif, "--pdb": args.pdb, "--json": args.json}
    check_outputs(outputs, [args.map, args.model])
    dmap, model = load(args.map, args.model, check_model=export.check_pdb if args.pdb else None)
    resolution = args.resolution if args.resolution is not None else model.resolution
    if resolution is None:
        raise ParameterError(
            "The map resolution is needed for the model maps: give it with --resolution D "
            "(the model file does not record one)."
        )
    bar, progress = progress_bar()
    try:
        result = score(dmap, model, sigma=args.sigma, mode=args.mode, progress=progress)
        bfac = estimate_bfactors(
            dmap, model, result.q, resolution, f_range=f_range, progress=progress
        )
    finally:
        if bar is not None:
            bar.close()
    correlations = model_correlations(dmap, model, resolution)
    doc = bfactor_summary(dmap, model, result, bfac, correlations)
    if args.table:
        frame = residue_correlations(dmap, model, resolution, bfac.b_iso)
        export.write_csv(frame, args.table)
    if args.cif:
        with open(args.cif, "w", encoding="utf-8") as fh:
            fh.write(export.mmcif_text(model, None, b_iso=bfac.b_iso))
    if args.pdb:
        remarks = (
            f"B-factors from Q-scores: B = {bfac.best_f:g} * (1 - Q) (sigma {args.sigma:g})",
        )
        with open(args.pdb, "w", encoding="utf-8") as fh:
            fh.write(export.pdb_text(model, bfac.b_iso, remarks=remarks))
    emit(doc, args.json, _text)
    return 0


def _text(doc: dict[str, Any]) -> str:
    """A short human summary."""
    scan = "  ".join(f"{row['f']:g}:{row['cc_mean']:.4f}" for row in doc["f_scan"])
    lines = [
        f"{doc['model']} in {doc['map']} at {doc['resolution']:g} Å "
        f"(model Q {doc['model_q']:.3f}, sigma {doc['sigma']:g}, {doc['mode']})",
        f"CC-mean by f: {scan}",
        f"Best f = {doc['best_f']:g}: CC-mean {doc['cc_mean_best']:.4f} with B from Q, "
        f"{doc['cc_mean_b0']:.4f} with B = 0, {doc['cc_mean_deposited']:.4f} with the deposited B",
        f"Molmap-style model map: CC {doc['cc']:.4f}, CC-mean {doc['cc_mean']:.4f}",
    ]
    for chain, values in doc["chains"].items():
        lines.append(f"  chain {chain}: CC {values['cc']:.4f}, CC-mean {values['cc_mean']:.4f}")
    lines.extend(f"Note: {n}" for n in doc["notes"])
    return "\n".join(lines)
