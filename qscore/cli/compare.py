"""``qscore compare``: per-residue Q differences of two models in one map, or of one model in two
maps, and which of them exceed the maps' noise."""

from __future__ import annotations

import argparse
from typing import Any

from qscore.cli.common import (
    add_json_option,
    add_sigma_and_mode_options,
    check_outputs,
    emit,
    progress_bar,
)
from qscore.errors import ParameterError

#: Columns of ``--residues-csv`` (the CLI contract's first eight, then the test's details).
CSV_COLUMNS = (
    "chain",
    "resseq",
    "icode",
    "resname",
    "q_a",
    "q_b",
    "dq",
    "significant",
    "change",
    "kind",
    "atoms_a",
    "atoms_b",
    "dq_se",
    "z",
    "p",
    "dq_window",
    "p_window",
)
#: Changed residues listed in the text summary, per direction.
LISTED = 12


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``compare`` sub-command."""
    parser = subparsers.add_parser(
        "compare",
        help="per-residue Q differences of two models or two maps, with their significance",
        description=(
            "Score two models in one map (--map MAP --model A --model B) or one model in two "
            "maps (--map MAP_A --map MAP_B --model MODEL), match residues, ligands and glycans "
            "by chain, number, insertion code and name, and report dq = Q_B - Q_A per residue, "
            "flagging the differences that exceed the maps' noise (docs/compare.md)."
        ),
    )
    parser.add_argument(
        "--map", action="append", required=True, metavar="MAP", help="density map (once or twice)"
    )
    parser.add_argument(
        "--model",
        action="append",
        required=True,
        metavar="MODEL",
        help="atomic model, PDB or mmCIF (twice with one map, once with two maps)",
    )
    add_sigma_and_mode_options(parser)
    parser.add_argument(
        "--resolution",
        type=float,
        metavar="D",
        help="the maps' resolution in Å, which shapes the noise of the significance test "
        "(default: the resolution recorded in model A's or B's mmCIF)",
    )
    parser.add_argument("--residues-csv", metavar="F", help="write the per-residue table as CSV")
    parser.add_argument(
        "--alpha",
        type=float,
        default=0.01,
        help="chance of flagging one unchanged residue (default 0.01)",
    )
    parser.add_argument(
        "--min-dq",
        type=float,
        default=0.05,
        help="smallest |dq| that can be significant (default 0.05)",
    )
    parser.add_argument(
        "--samples", type=int, default=20, help="noise samples of the test (default 20)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the noise samples")
    add_json_option(parser)
    parser.set_defaults(func=run)


def _label(row: dict[str, Any]) -> str:
    return f"{row['chain']}{row['resseq']}{row['icode']} {row['resname']} {row['dq']:+.3f}"


def document(
    comparison, maps: list[str], models: list[str], *, engine: str | None = None
) -> dict[str, Any]:
    """The JSON document of a comparison (the CLI contract); ``engine`` names the engine that
    scored both sides, as in ``qscore score --json``."""
    return {
        "comparison": "models" if len(models) == 2 else "maps",
        "map_a": maps[0],
        "map_b": maps[-1],
        "model_a": models[0],
        "model_b": models[-1],
        "sigma": comparison.sigma,
        "mode": comparison.mode,
        "engine": engine,
        "resolution": comparison.resolution,
        **comparison.summary(),
        "seconds": round(comparison.seconds, 3),
        "notes": list(comparison.notes),
    }


def run(args: argparse.Namespace) -> int:
    """Score both sides, compare them, print and write what was asked; return the exit code."""
    from qscore.analysis.compare import Rule, compare, load_and_score_pair, resolve_resolution
    from qscore.io import export

    if sorted((len(args.map), len(args.model))) != [1, 2]:
        raise ParameterError(
            "Give one map and two models (--map MAP --model A --model B) or two maps and one "
            f"model (--map MAP_A --map MAP_B --model MODEL); got {len(args.map)} map(s) and "
            f"{len(args.model)} model(s)."
        )
    rule = Rule(alpha=args.alpha, min_dq=args.min_dq, samples=args.samples, seed=args.seed)
    check_outputs(
        {"--residues-csv": args.residues_csv, "--json": args.json}, [*args.map, *args.model]
    )
    bar, progress = progress_bar("step", stage_in_postfix=True)
    try:
        a, b = load_and_score_pair(
            args.map,
            args.model,
            resolution=args.resolution,
            sigma=args.sigma,
            mode=args.mode,
            progress=progress,
        )
        resolution = resolve_resolution(args.resolution, [a.model, b.model])
        comparison = compare(a, b, resolution=resolution, rule=rule, progress=progress)
    finally:
        if bar is not None:
            bar.close()
    if args.residues_csv:
        export.write_csv(comparison.residues[list(CSV_COLUMNS)], args.residues_csv)
    models = [a.model.source, b.model.source] if len(args.model) == 2 else [a.model.source]
    doc = document(comparison, [a.dmap.source, b.dmap.source], models, engine=a.result.engine)
    emit(doc, args.json, _text)
    return 0


def _text(doc: dict[str, Any]) -> str:
    """A short human summary."""
    if doc["comparison"] == "models":
        head = f"Models {doc['model_a']} (A) and {doc['model_b']} (B) in {doc['map_a']}"
    else:
        head = f"Model {doc['model_a']} in maps {doc['map_a']} (A) and {doc['map_b']} (B)"
    sig = doc["significance"]
    lines = [
        head,
        f"{doc['residues_compared']} residues compared, {doc['unmatched']} unmatched; sigma "
        f"{doc['sigma']:g}, {doc['mode']}, {doc['resolution']:g} Å",
        f"Model Q: A {doc['model_q_a']:.3f}, B {doc['model_q_b']:.3f} (dq {doc['dq_model']:+.3f})",
        f"Significantly better in B: {doc['residues_better']} residues; worse: "
        f"{doc['residues_worse']} residues (p < {sig['alpha']:g} against {sig['samples']} noise "
        f"samples, |dq| >= {sig['min_dq']:g})",
    ]
    for change in ("worse", "better"):
        rows = [r for r in doc["changed"] if r["change"] == change]
        if change == "better":
            rows = rows[::-1]
        if rows:
            more = f" … and {len(rows) - LISTED} more" if len(rows) > LISTED else ""
            lines.append(f"  {change}: " + ", ".join(_label(r) for r in rows[:LISTED]) + more)
    for molecule in doc["ligands"]:
        flag = " (significant)" if molecule["significant"] else ""
        lines.append(
            f"  {molecule['kind']} {molecule['chain']}{molecule['resseq']}{molecule['icode']} "
            f"{molecule['resname']}: A {molecule['q_a']:.3f}, B {molecule['q_b']:.3f}{flag}"
        )
    lines.extend(f"Note: {n}" for n in doc["notes"])
    return "\n".join(lines)
