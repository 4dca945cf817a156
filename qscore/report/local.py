"""The report's local-resolution section: each residue judged at its own local resolution as well
as at the reported one (``--local-resolution`` or ``--half-maps``), as ``qscore score`` does."""

from __future__ import annotations

import numpy as np

from qscore.analysis.expected import VALID_RANGE
from qscore.analysis.local_resolution import READINGS
from qscore.plotting.figures import residue_label
from qscore.plotting.local_resolution import local_residue_figure
from qscore.report.contents import ReportContents
from qscore.report.html import esc, figure, fmt, key_values, number, table
from qscore.report.residues import POLYMER

Section = tuple[str, str, str]
#: Residues listed per reading (the lowest Q first).
MAX_ROWS = 30
LISTED = ("possible misfit", "poorly resolved region")


def _implied(value: float) -> str:
    """A Q-implied resolution; the ends of the fitted range read "at most" and "at least"."""
    low, high = VALID_RANGE
    if np.isfinite(value) and value >= high:
        return f"≥ {high:g}"
    if np.isfinite(value) and value <= low:
        return f"≤ {low:g}"
    return fmt(value, ".2f")


def _residue_rows(rows) -> list[tuple[str, ...]]:
    return [
        (
            f'<span class="nowrap">{esc(residue_label(r))}</span>',
            esc(fmt(r["q"])),
            esc(fmt(r["local_resolution"], ".2f")),
            f"{esc(fmt(r['q_low95_local']))}–{esc(fmt(r['q_high95_local']))}",
            esc(_implied(r["q_resolution"])),
        )
        for _, r in rows.iterrows()
    ]


def local_section(c: ReportContents) -> Section | None:
    """Median local resolution, the readings and local verdicts with their counts, one figure
    per chain, and the residues read as a possible misfit or a poorly resolved region."""
    frame = c.local
    if frame is None:
        return None
    s = c.score
    readings = s["local_reading_counts"]
    verdicts = s["local_verdict_counts"]
    lead = (
        f"<p>From the {esc(s['local_resolution_source'])}. Each residue is also compared with "
        "the band at its own local resolution: below that band is a <em>possible misfit</em>; "
        "below the band at the reported resolution but not locally is a <em>poorly resolved "
        "region</em>, which is not in itself a sign of a misfit.</p>"
    )
    pairs = [
        (
            "Median local resolution",
            number(("score", "median_local_resolution"), s["median_local_resolution"], ".2f")
            + " Å",
        ),
        (
            "Against the band at the local resolution",
            ", ".join(
                f"{number(('score', 'local_verdict_counts', code), verdicts[code], ',d')} {word}"
                for code, word in (
                    ("below", "below"),
                    ("typical", "as commonly observed"),
                    ("above", "above"),
                )
            ),
        ),
    ]
    reading_rows = [
        (
            esc(reading),
            number(("score", "local_reading_counts", reading), readings.get(reading), ",d"),
            esc(meaning),
        )
        for reading, meaning in READINGS.items()
    ]
    parts = [
        lead,
        key_values(pairs),
        table(["reading", "residues", "what it means"], reading_rows, numeric=(1,)),
    ]
    polymer = frame[frame["kind"].isin(POLYMER)]
    for i, chain in enumerate(dict.fromkeys(polymer["chain"])):
        rows = polymer[polymer["chain"] == chain]
        fig = local_residue_figure(
            rows,
            c.resolution,
            s["sigma"],
            title=f"Chain {chain}: residue Q against the local and the reported-resolution bands",
        )
        parts.append(
            figure(
                fig,
                f"local-{i}",
                caption="Shaded: the 95% band at each residue's local resolution; dotted: the "
                "band at the reported resolution. Below: local resolution and the resolution at "
                "which each residue's Q would be Q_peak.",
            )
        )
    for reading in LISTED:
        picked = frame[frame["local_reading"] == reading]
        if picked.empty:
            continue
        shown = picked.sort_values("q", kind="stable").head(MAX_ROWS)
        caption = (
            f"The {len(shown)} lowest of {len(picked):,}." if len(picked) > len(shown) else None
        )
        parts.append(f"<h3>{esc(reading.capitalize())}</h3>")
        parts.append(
            table(
                ["residue", "Q", "local resolution (Å)", "local band", "Q-implied resolution (Å)"],
                _residue_rows(shown),
                numeric=(1, 2, 4),
                caption=caption,
            )
        )
    return "local", "Local resolution", "".join(parts)
