"""The report's sections on parts of the model: chains and molecule types, per-residue plots,
ligands and glycans, the lowest-scoring residues and the distributions of Q."""

from __future__ import annotations

import numpy as np
import pandas as pd

from qscore.analysis.expected import expected_q, verdict_codes
from qscore.plotting.distributions import q_histogram
from qscore.plotting.figures import (
    annotate_residues,
    molecule_figure,
    residue_figure,
    residue_label,
    residue_series,
    verdict_word,
)
from qscore.report.contents import ReportContents
from qscore.report.html import esc, figure, fmt, number, table

Section = tuple[str, str, str]
POLYMER = ("protein", "nucleic")
MOLECULES = ("ligand", "glycan", "ion")
#: Residues listed in the table of the lowest-scoring ones.
WORST = 20
#: Most ligands, glycans and ions listed one per row (the lowest first beyond that).
MAX_MOLECULE_ROWS = 100
SUBSET_NAMES = {
    "backbone": "backbone",
    "sidechain": "side chain",
    "phosphate": "phosphate",
    "sugar": "sugar",
    "base": "base",
}


def verdict_tag(code: str) -> str:
    """A coloured label for a verdict code ("" when there is none)."""
    if not code:
        return ""
    return f'<span class="tag {esc(code)}">{esc(verdict_word(code))}</span>'


def _codes(values: np.ndarray, c: ReportContents, judged: np.ndarray | None = None) -> np.ndarray:
    """Verdict codes of Q values at the report's resolution ("" without one, and where
    ``judged`` is False)."""
    if c.resolution is None:
        return np.full(len(values), "", dtype=object)
    codes = verdict_codes(np.asarray(values, dtype=float), c.resolution, c.score["sigma"])
    if judged is not None:
        codes = np.where(np.asarray(judged, dtype=bool), codes, "")
    return codes


def _not_water(c: ReportContents, chains: pd.Series) -> np.ndarray:
    """Per chain, whether it holds anything but waters (a chain of waters is not judged)."""
    residues = c.analysis.residues
    kept = set(residues.loc[residues["kind"] != "water", "chain"])
    return np.array([chain in kept for chain in chains])


def _group_table(
    c: ReportContents, frame: pd.DataFrame, column: str, title: str, judged: np.ndarray
) -> str:
    """Atoms, residues, Q and verdict per group (``column``: ``chain`` or ``kind``); Q is the
    scoring document's (``score.chains`` or ``score.types``)."""
    key = "chains" if column == "chain" else "types"
    rows = [
        (
            esc(name),
            f"{int(atoms):,}",
            f"{int(residues):,}",
            number(("score", key, str(name)), c.score[key].get(str(name))),
            verdict_tag(code),
        )
        for name, atoms, residues, code in zip(
            frame[column],
            frame["atoms"],
            frame["residues"],
            _codes(frame["q"], c, judged),
            strict=True,
        )
    ]
    return table([title, "atoms", "residues", "Q", "against the band"], rows, numeric=(1, 2, 3))


def chains_section(c: ReportContents) -> Section:
    """Q per chain and per molecule type, with the verdict against the band."""
    chains, types = c.analysis.chains, c.analysis.types
    chain_table = _group_table(c, chains, "chain", "chain", _not_water(c, chains["chain"]))
    type_table = _group_table(c, types, "kind", "molecule type", types["kind"] != "water")
    polymer = c.score.get("model_q_polymer")
    lead = (
        "<p>Means over the non-hydrogen atoms of each chain (its ligands and waters included) "
        "and of each type of molecule; waters, one atom each, are not judged against the band. "
        "Polymer residues only: " + number(("score", "model_q_polymer"), polymer) + ".</p>"
    )
    body = lead + f'<div class="twocol"><div>{chain_table}</div><div>{type_table}</div></div>'
    return "chains", "Chains and molecule types", body


def _polymer_parts(residues: pd.DataFrame) -> list[tuple[str, str, pd.DataFrame]]:
    """(chain, kind, rows) for every chain and polymer kind present, in model order."""
    polymer = residues[residues["kind"].isin(POLYMER)]
    parts = []
    for chain in dict.fromkeys(polymer["chain"]):
        rows = polymer[polymer["chain"] == chain]
        for kind in POLYMER:
            of_kind = rows[rows["kind"] == kind]
            if not of_kind.empty:
                parts.append((str(chain), kind, of_kind))
    return parts


def residue_plots_section(c: ReportContents) -> Section | None:
    """One per-residue plot per chain (and polymer kind), with the band and labelled outliers."""
    parts = _polymer_parts(c.analysis.residues)
    if not parts:
        return None
    sigma = c.score["sigma"]
    bands = expected_q(c.resolution, sigma) if c.resolution else None
    blocks = []
    for i, (chain, kind, rows) in enumerate(parts):
        series = ", ".join(SUBSET_NAMES[s] for s in residue_series(kind))
        unit = "nucleotide" if kind == "nucleic" else "residue"
        title = f"Chain {chain}: {series} Q per {unit}"
        fig = residue_figure(rows, c.resolution, sigma, kind=kind, title=title)
        below = 0
        if bands is not None:
            columns = [f"q_{s}" for s in residue_series(kind)]
            below = int((rows[columns].to_numpy(dtype=float) < bands.q_low95).any(axis=1).sum())
        caption = f"{len(rows):,} {unit}s" + (
            f"; {below:,} with a value below Q_low_95% (red, the lowest labelled)."
            if bands is not None
            else "."
        )
        blocks.append(figure(fig, f"residues-{i}", caption=esc(caption)))
    lead = (
        "<p>Mean Q of the backbone and side-chain atoms of each amino acid, or of the "
        "phosphate, sugar and base atoms of each nucleotide, along each chain. Points below "
        "Q_low_95% are red, and the lowest are labelled.</p>"
    )
    if c.resolution is None:
        lead += "<p>Without a resolution no expected values are drawn.</p>"
    return "residues", "Per-residue Q-scores", lead + "".join(blocks)


def molecules_section(c: ReportContents) -> Section | None:
    """Ligands, glycans and ions against the band; waters in one sentence."""
    residues = c.analysis.residues
    molecules = residues[residues["kind"].isin(MOLECULES) & np.isfinite(residues["q"])]
    waters = residues[(residues["kind"] == "water") & np.isfinite(residues["q"])]
    if molecules.empty and waters.empty:
        return None
    sigma = c.score["sigma"]
    parts = []
    if not molecules.empty:
        fig = molecule_figure(molecules, c.resolution, sigma)
        parts.append(
            figure(
                fig,
                "molecules",
                caption="One point per molecule: the mean Q over its atoms (a glycan's "
                "saccharides one by one).",
            )
        )
        table_rows = annotate_residues(molecules, c.resolution, sigma).sort_values("q")
        shown = table_rows.head(MAX_MOLECULE_ROWS)
        rows = [
            (
                esc(residue_label(r)),
                esc(r["kind"]),
                f"{int(r['atoms'])}",
                esc(fmt(r["q"])),
                esc(fmt(r["deviation"], "+.3f")),
                verdict_tag(r["verdict"]),
            )
            for _, r in shown.iterrows()
        ]
        caption = None
        if len(table_rows) > len(shown):
            caption = f"The {len(shown)} lowest of {len(table_rows):,} molecules."
        parts.append(
            table(
                ["molecule", "type", "atoms", "Q", "Q − Q_peak", "against the band"],
                rows,
                numeric=(2, 3, 4),
                caption=caption,
            )
        )
    if not waters.empty:
        parts.append(
            f"<p>{len(waters):,} waters, mean Q {esc(fmt(waters['q'].mean()))} (one atom each, "
            "so they are not judged against the band).</p>"
        )
    return "molecules", "Ligands, glycans and ions", "".join(parts)


def _atom_list(c: ReportContents, row: int, low: float | None) -> str:
    """The residue's non-hydrogen atoms with their Q, those below ``low`` marked."""
    model, q = c.scored.model, c.scored.result.q
    start, stop = int(model.residues.at[row, "start"]), int(model.residues.at[row, "stop"])
    items = []
    for i in range(start, stop):
        if not model.heavy[i]:
            continue
        value = q[i]
        cls = ' class="low"' if low is not None and np.isfinite(value) and value < low else ""
        items.append(f"<span{cls}>{esc(model.name[i])} {esc(fmt(value, '.2f'))}</span>")
    return f'<div class="atoms">{" ".join(items)}</div>'


def worst_section(c: ReportContents) -> Section | None:
    """The polymer residues with the lowest Q, with each of their atoms' Q."""
    residues = c.analysis.residues
    polymer = residues[residues["kind"].isin(POLYMER) & np.isfinite(residues["q"])]
    if polymer.empty:
        return None
    sigma = c.score["sigma"]
    bands = expected_q(c.resolution, sigma) if c.resolution else None
    low = bands.q_low95 if bands else None
    worst = annotate_residues(polymer.nsmallest(WORST, "q"), c.resolution, sigma)
    rows = []
    for row, r in worst.iterrows():
        parts = [
            f'<span class="nowrap">{esc(SUBSET_NAMES[s])} {esc(fmt(r[f"q_{s}"]))}</span>'
            for s in residue_series(r["kind"])
            if np.isfinite(r[f"q_{s}"])
        ]
        rows.append(
            (
                f'<span class="nowrap">{esc(residue_label(r))}</span>',
                esc(fmt(r["q"])),
                "<br>".join(parts),
                esc(fmt(r["deviation"], "+.3f")),
                verdict_tag(r["verdict"]),
                _atom_list(c, row, low),
            )
        )
    header = ["residue", "Q", "parts", "Q − Q_peak", "against the band", "atoms' Q"]
    lead = (
        f"<p>The {len(worst)} amino acids and nucleotides with the lowest mean Q. Atoms below "
        "Q_low_95% are in red.</p>"
        if bands
        else f"<p>The {len(worst)} amino acids and nucleotides with the lowest mean Q.</p>"
    )
    return "worst", "Lowest-scoring residues", lead + table(header, rows, numeric=(1, 3))


def distributions_section(c: ReportContents) -> Section:
    """Histograms of atom Q and of residue Q with the expected values."""
    model, q = c.scored.model, c.scored.result.q
    sigma = c.score["sigma"]
    atoms = np.asarray(q, dtype=float)[model.heavy]
    residues = c.analysis.residues
    residue_q = residues.loc[residues["kind"] != "water", "q"].to_numpy(dtype=float)
    atom_fig = q_histogram(atoms, c.resolution, sigma, what="atoms")
    residue_fig = q_histogram(residue_q, c.resolution, sigma, what="residues", colour="#17becf")
    body = (
        '<div class="twocol">'
        + figure(atom_fig, "atom-histogram", caption="Q of every scored (non-hydrogen) atom.")
        + figure(
            residue_fig,
            "residue-histogram",
            caption="Mean Q of every residue and molecule (waters left out).",
        )
        + "</div>"
    )
    return "distributions", "Distributions of Q", body
