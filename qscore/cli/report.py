"""``qscore report MAP MODEL -o REPORT.html``: one self-contained HTML file with everything the
EMDB's validation report shows about map–model fit, and more."""

from __future__ import annotations

import argparse
import time
from typing import Any

from qscore.cli import local_resolution
from qscore.cli.bfactor import add_f_range_argument
from qscore.cli.common import (
    add_json_option,
    add_map_model_arguments,
    check_outputs,
    emit,
    progress_bar,
)
from qscore.cli.score import add_chimerax_argument, add_scoring_arguments


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``report`` sub-command."""
    parser = subparsers.add_parser(
        "report",
        help="a self-contained HTML report of the map-model fit, before deposition",
        description=(
            "Score MODEL in MAP as `qscore score` does and write one HTML file (it opens "
            "offline in any browser) with the model's Q-score against the expected values and "
            "the EMDB archive, per chain, type, residue and ligand, the lowest residues with their "
            "atoms, histograms, atom inclusion against the contour level and, when asked, "
            "B-factors from Q with CC / CC-mean."
        ),
    )
    add_map_model_arguments(parser)
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="REPORT.html",
        help="the HTML file to write",
    )
    add_scoring_arguments(parser)
    parser.add_argument(
        "--contour",
        type=float,
        metavar="LEVEL",
        help="the map's recommended contour level (map units) for atom inclusion; default: the "
        "level at which the map encloses the model's volume",
    )
    parser.add_argument(
        "--bfactors",
        action="store_true",
        help="also estimate B-factors from the Q-scores and the CC / CC-mean (as qscore bfactor; "
        "needs the resolution); --f-range sets the scan",
    )
    add_f_range_argument(parser)
    add_chimerax_argument(parser)
    add_json_option(parser)
    local_resolution.add_arguments(parser)
    parser.set_defaults(func=run)


def _input_files(args: argparse.Namespace) -> list:
    """The input files with their checksums, the local-resolution ones included."""
    from qscore.report.provenance import input_file

    files = [input_file("map", args.map), input_file("model", args.model)]
    if args.local_resolution:
        files.append(input_file("local-resolution map", args.local_resolution))
    for i, half in enumerate(args.half_maps or (), start=1):
        files.append(input_file(f"half map {i}", half))
    return files


def run(args: argparse.Namespace) -> int:
    """Score, collect, render and write the report; return the exit code."""
    from qscore.analysis.bfactor import parse_f_range
    from qscore.analysis.reference import default_reference, load_reference
    from qscore.cli.score import write_chimerax_files
    from qscore.io.export import residues_frame
    from qscore.pipeline import load_and_score
    from qscore.report import build, write

    start = time.perf_counter()
    check_outputs(
        {"--output": args.output, "--json": args.json, "--chimerax": args.chimerax},
        [args.map, args.model, args.reference, args.local_resolution, *(args.half_maps or ())],
    )
    f_range = parse_f_range(args.f_range)
    reference = load_reference(args.reference) if args.reference else None
    inputs = _input_files(args)
    bar, progress = progress_bar("atom")
    try:
        scored = load_and_score(
            args.map, args.model, sigma=args.sigma, mode=args.mode, progress=progress
        )
        resolution = args.resolution if args.resolution is not None else scored.model.resolution
        if resolution is not None and reference is None:
            reference = default_reference()
        local = None
        if local_resolution.requested(args):
            residues = residues_frame(scored.model, scored.result.q)
            local = local_resolution.apply(args, scored, residues, resolution, progress)
        chimerax = write_chimerax_files(args, scored, resolution) if args.chimerax else ()
        text, contents = build(
            scored,
            inputs=inputs,
            resolution=args.resolution,
            reference=reference,
            window=args.window,
            contour=args.contour,
            bfactors=args.bfactors,
            f_range=f_range,
            local=local,
            chimerax=chimerax,
            progress=progress,
        )
    finally:
        if bar is not None:
            bar.close()
    size = write(text, args.output)
    doc = contents.document()
    doc["report"] = {
        "path": str(args.output),
        "bytes": size,
        "seconds": round(time.perf_counter() - start, 3),
    }
    emit(doc, args.json, _text)
    return 0


def _text(doc: dict[str, Any]) -> str:
    """What was written, and the headline numbers."""
    s, inc, rep = doc["score"], doc["inclusion"], doc["report"]
    lines = [
        f"Report written to {rep['path']} ({rep['bytes'] / 1e6:.1f} MB) in {rep['seconds']:.1f} s",
        f"Model Q-score {s['model_q']:.3f} ({s['atoms_scored']} atoms, sigma {s['sigma']:g}, "
        f"{s['mode']})",
    ]
    if s.get("q_peak") is not None:
        lines.append(
            f"At {s['resolution']:g} Å: Q_peak {s['q_peak']:.3f}, 95% band "
            f"{s['q_low95']:.3f}–{s['q_high95']:.3f} -> {s['verdict_label']}"
        )
    backbone = inc["backbone"]
    lines.append(
        f"Atom inclusion at {inc['level']:.4g} ({inc['level_source']}): {100 * inc['all']:.1f}% "
        "of atoms" + (f", {100 * backbone:.1f}% of backbone atoms" if backbone is not None else "")
    )
    lines.extend(f"Note: {n}" for n in s["notes"])
    lines.extend(local_resolution.text_lines(s))
    if s.get("chimerax"):
        lines.append("ChimeraX: open " + s["chimerax"][0])
    return "\n".join(lines)
