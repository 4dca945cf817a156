"""``qscore score MAP MODEL``: per-atom Q-scores, summaries, context and output files."""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from qscore import defaults
from qscore.cli import local_resolution
from qscore.cli.common import (
    add_json_option,
    add_map_model_arguments,
    add_sigma_and_mode_options,
    check_outputs,
    emit,
    progress_bar,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``score`` sub-command."""
    parser = subparsers.add_parser(
        "score",
        help="per-atom Q-scores of a model in a map",
        description=(
            "Score every non-hydrogen atom of MODEL (PDB or mmCIF) in MAP (MRC/CCP4, optionally "
            "gzipped) exactly as MapQ does. Without output options a short summary is printed."
        ),
    )
    add_map_model_arguments(parser)
    add_scoring_arguments(parser)
    parser.add_argument("--atoms-csv", metavar="F", help="write per-atom Q-scores as CSV")
    parser.add_argument("--residues-csv", metavar="F", help="write per-residue Q-scores as CSV")
    parser.add_argument(
        "--cif", metavar="F", help="write the model as mmCIF with _atom_site.Q_score"
    )
    parser.add_argument("--pdb", metavar="F", help="write the model as PDB with Q in the B column")
    add_chimerax_argument(parser)
    add_json_option(parser)
    local_resolution.add_arguments(parser)
    parser.set_defaults(func=run)


def add_chimerax_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--chimerax F.cxc``, the ChimeraX hand-off (``qscore score`` and ``qscore report``)."""
    parser.add_argument(
        "--chimerax",
        metavar="F.cxc",
        help="write a ChimeraX command script (and F.defattr with the Q-scores beside it) that "
        "opens the map and model coloured by Q, centred on the residue furthest below the band",
    )


def add_scoring_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--sigma`` and ``--mode`` (as every scoring command), ``--resolution``, ``--reference``
    and ``--window``: how the model is scored and put in context (``qscore score`` and ``qscore
    report``)."""
    add_sigma_and_mode_options(parser)
    parser.add_argument(
        "--resolution",
        type=float,
        metavar="D",
        help="reported map resolution in Å, for Q_peak, the 95%% band and Q_relative "
        "(default: the EM resolution recorded in the mmCIF, _em_3d_reconstruction.resolution, "
        "if any; a diffraction resolution is never used)",
    )
    parser.add_argument("--reference", metavar="CSV", help="EMDB reference table for Q_relative")
    parser.add_argument("--window", type=float, default=defaults.WINDOW, metavar="W")


def run(args: argparse.Namespace) -> int:
    """Score, print, write the requested files; return the exit code.

    Every requested output is checked before the files are read (paths, and whether the model
    can be written as PDB once it is read), so that nothing fails after the scoring work.
    """
    from qscore.analysis.reference import default_reference, load_reference
    from qscore.analysis.summary import score_summary
    from qscore.io import export
    from qscore.pipeline import load_and_score

    outputs = {
        "--atoms-csv": args.atoms_csv,
        "--residues-csv": args.residues_csv,
        "--cif": args.cif,
        "--pdb": args.pdb,
        "--json": args.json,
    }
    check_outputs(outputs, [args.map, args.model, args.reference])
    reference = load_reference(args.reference) if args.reference else None
    bar, progress = progress_bar("atom")
    try:
        scored = load_and_score(
            args.map,
            args.model,
            sigma=args.sigma,
            mode=args.mode,
            progress=progress,
            check_model=export.check_pdb if args.pdb else None,
        )
    finally:
        if bar is not None:
            bar.close()
    model, q = scored.model, scored.result.q
    resolution = args.resolution if args.resolution is not None else model.resolution
    if resolution is not None and reference is None:
        reference = default_reference()
    doc = score_summary(scored, resolution, reference, args.window)
    residues = export.residues_frame(model, q)
    if local_resolution.requested(args):
        bar, progress = progress_bar("window")
        try:
            residues, local_doc = local_resolution.apply(
                args, scored, residues, resolution, progress
            )
        finally:
            if bar is not None:
                bar.close()
        doc.update(local_doc)
    if args.atoms_csv:
        export.write_csv(export.atoms_frame(model, q), args.atoms_csv)
    if args.residues_csv:
        export.write_csv(residues, args.residues_csv)
    if args.cif:
        export.write_mmcif(model, q, args.cif)
    if args.pdb:
        remarks = (f"Q-scores (sigma {args.sigma:g}, {args.mode}) in the B-factor column",)
        export.write_pdb(model, q, args.pdb, remarks=remarks)
    if args.chimerax:
        doc["chimerax"] = [str(p) for p in write_chimerax_files(args, scored, resolution)]
    emit(doc, args.json, _text)
    return 0


def write_chimerax_files(args: argparse.Namespace, scored, resolution: float | None):
    """The ChimeraX hand-off of ``--chimerax``: centred on the residue furthest below the band
    (if any), the contour chosen as the dashboard chooses it; returns the two paths."""
    from qscore.analysis.contour import model_contour, residue_contour, well_scored_q
    from qscore.analysis.outliers import ORDERS, outlier_rows
    from qscore.io.chimerax import residue_spec, write_chimerax
    from qscore.io.export import residues_frame
    from qscore.plotting.viewer import scale_top

    model, q = scored.model, scored.result.q
    residues = residues_frame(model, q)
    residue_q = residues["q"].to_numpy(dtype=float)
    q_top, scale = scale_top(residue_q, resolution, args.sigma)
    q_good = well_scored_q(q, resolution, args.sigma)
    worst = outlier_rows(residues, resolution, args.sigma, order=ORDERS[1])[:1]
    notes = [f"{model.source} in {scored.dmap.source}; colour scale top: {scale} = {q_top:.3f}."]
    focus = None
    if worst:
        row = residues.loc[worst[0]]
        atoms = model.residue_atoms(worst[0])
        contour = residue_contour(scored.dmap, model.xyz[atoms], q[atoms], q_good=q_good)
        focus = residue_spec(row["chain"], row["resseq"], row["icode"])
        notes.append(f"Centred on {focus}, the residue furthest below Q_low_95%.")
    else:
        heavy = model.heavy
        contour = model_contour(scored.dmap, model.xyz[heavy], q[heavy], q_good=q_good)
    notes.append(f"Contour {contour.level:.4g} (map units) = {contour.sigma_level:.2f} sigma.")
    return write_chimerax(
        args.chimerax,
        model,
        q,
        residue_q,
        q_top,
        model_file=args.model,
        map_file=args.map,
        focus=focus,
        level=contour.level,
        notes=notes,
    )


#: Most chains listed one per line; a model with more gets one line of range and lowest chains.
CHAIN_LINES = 20
#: Lowest chains named in that line.
LOWEST_CHAINS = 5


def chain_lines(chains: dict[str, float]) -> list[str]:
    """The summary's per-chain lines: one per chain for up to :data:`CHAIN_LINES` chains,
    else one line with the range and median of the chains' Q and the lowest chains.

    Parameters
    ----------
    chains : dict
        Chain name → Q of the chain (NaN where no atom of it was scored).
    """
    if len(chains) <= CHAIN_LINES:
        return [f"  chain {chain}: {q:.3f}" for chain, q in chains.items()]
    names = list(chains)
    values = np.array([chains[n] for n in names], dtype=float)
    scored = np.flatnonzero(np.isfinite(values))
    if not len(scored):
        return [f"  {len(names):,} chains, none with a scored atom"]
    order = scored[np.argsort(values[scored], kind="stable")][:LOWEST_CHAINS]
    lowest = ", ".join(f"{names[k]} {values[k]:.3f}" for k in order)
    unscored = len(names) - len(scored)
    return [
        f"  {len(names):,} chains: Q {values[scored].min():.3f}–{values[scored].max():.3f}, "
        f"median {np.median(values[scored]):.3f}; lowest: {lowest}"
        + (f"; {unscored:,} without a scored atom" if unscored else "")
        + " (--json lists every chain)"
    ]


def _text(doc: dict[str, Any]) -> str:
    """A short human summary."""
    lines = [
        f"{doc['model']} in {doc['map']}: {doc['atoms_scored']} atoms scored in "
        f"{doc['seconds']:.2f} s (sigma {doc['sigma']:g}, {doc['mode']}, {doc['engine']} engine)",
        f"Model Q-score: {doc['model_q']:.3f}",
    ]
    lines.extend(chain_lines(doc["chains"]))
    for kind, q in doc["types"].items():
        lines.append(f"  {kind}: {q:.3f}")
    if doc.get("q_peak") is not None:
        lines.append(
            f"At {doc['resolution']:g} Å: Q_peak {doc['q_peak']:.3f}, 95% band "
            f"{doc['q_low95']:.3f}–{doc['q_high95']:.3f} -> {doc['verdict_label']}"
        )
    if doc.get("q_relative_all") is not None:
        qrr = doc["q_relative_resolution"]
        lines.append(
            f"Q_relative_all {doc['q_relative_all']:.1f}% of {doc['entries_all']} entries; "
            f"Q_relative_resolution "
            + (f"{qrr:.1f}%" if qrr is not None else "n/a")
            + f" of {doc['entries_window']} entries within ±{doc['window']:g} Å"
        )
    lines.extend(f"Note: {n}" for n in doc["notes"])
    lines.extend(local_resolution.text_lines(doc))
    if doc.get("chimerax"):
        lines.append("ChimeraX: open " + doc["chimerax"][0])
    return "\n".join(lines)
