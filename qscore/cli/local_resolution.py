"""``qscore score … --local-resolution MAP | --half-maps H1 H2``: local-resolution-aware verdicts.

The options, and what they add to the ``score`` outputs: the residue CSV's local columns
(:data:`qscore.analysis.local_resolution.LOCAL_COLUMNS`), the JSON's verdict counts and median
local resolution, and a few summary lines.
"""

from __future__ import annotations

import argparse
from typing import Any

import pandas as pd

from qscore import defaults


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--local-resolution`` / ``--half-maps`` and the estimator's options."""
    group = parser.add_argument_group(
        "local resolution",
        "judge each residue at its local resolution as well as at the reported one",
    )
    source = group.add_mutually_exclusive_group()
    source.add_argument(
        "--local-resolution",
        metavar="LOCRES",
        help="local-resolution map in Å (ResMap, MonoRes, BlocRes, RELION, cryoSPARC), on any "
        "grid over the model's frame",
    )
    source.add_argument(
        "--half-maps",
        nargs=2,
        metavar=("HALF1", "HALF2"),
        help="the two half maps (same grid): local resolution is estimated by a local FSC",
    )
    for flag, default, metavar, what in (
        ("--locres-window", defaults.LOCAL_FSC_WINDOW, "Å", "edge of the local FSC window"),
        ("--locres-step", defaults.LOCAL_FSC_STEP, "Å", "spacing of the local FSC centres"),
        ("--fsc-threshold", defaults.LOCAL_FSC_THRESHOLD, "T", "FSC value defining resolution"),
    ):
        unit = " Å" if metavar == "Å" else ""
        group.add_argument(
            flag,
            type=float,
            default=default,
            metavar=metavar,
            help=f"{what} (default {default:g}{unit})",
        )


def requested(args: argparse.Namespace) -> bool:
    """True when a local-resolution map or half maps were given."""
    return bool(args.local_resolution or args.half_maps)


def apply(
    args: argparse.Namespace, scored, residues: pd.DataFrame, resolution: float | None, progress
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The residue table with the local columns, and the JSON keys they add.

    Raises the library's errors (a map that does not cover the model, half maps on different
    grids, values that are not Å) for the CLI to print as one sentence.
    """
    from qscore.analysis.local_resolution import (
        local_document,
        local_verdicts,
        residue_local_resolution,
    )
    from qscore.pipeline import load_local_resolution

    model, q = scored.model, scored.result.q
    local = load_local_resolution(
        model,
        local_map=args.local_resolution,
        half_maps=tuple(args.half_maps) if args.half_maps else None,
        window=args.locres_window,
        step=args.locres_step,
        threshold=args.fsc_threshold,
        progress=progress,
    )
    per_residue = residue_local_resolution(model, local.atoms, q)
    table, notes = local_verdicts(
        residues, per_residue, sigma=scored.result.sigma, resolution=resolution
    )
    source = (
        f"local-resolution map {args.local_resolution}"
        if args.local_resolution
        else f"half maps {args.half_maps[0]} and {args.half_maps[1]}"
    )
    return table, local_document(table, source, (*local.notes, *notes))


def text_lines(doc: dict[str, Any]) -> list[str]:
    """Summary lines for the local-resolution part of a run."""
    if "local_verdict_counts" not in doc:
        return []
    counts = doc["local_verdict_counts"]
    readings = doc["local_reading_counts"]
    median = doc["median_local_resolution"]
    lines = [
        f"Local resolution from the {doc['local_resolution_source']}: median "
        + (f"{median:.2f} Å" if median is not None else "n/a"),
        f"  residues vs the band at their local resolution: {counts['below']} below, "
        f"{counts['typical']} typical, {counts['above']} above",
        f"  possible misfit: {readings['possible misfit']}; poorly resolved region (below the "
        f"band at the reported resolution, typical locally): {readings['poorly resolved region']}",
    ]
    lines.extend(f"Note: {n}" for n in doc["local_notes"])
    return lines
