"""The report as one HTML document: the sections in reading order around one copy of Plotly.

:func:`render` turns :class:`~qscore.report.contents.ReportContents` into the page; the command
line (``qscore report``) and the dashboard's download both call it, so they give the same file
for the same inputs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from plotly.offline import get_plotlyjs

from qscore.pipeline import Scored
from qscore.report import fit, local, overview, residues
from qscore.report.contents import ReportContents, collect
from qscore.report.html import esc, json_block, page
from qscore.report.style import CSS
from qscore.report.text import CITATION, HOW_TO_READ

Section = tuple[str, str, str]
#: Id of the JSON document embedded in the page.
DOCUMENT_ID = "qscore-report-data"

#: Section builders in reading order; a builder returning None leaves its section out.
SECTIONS: tuple[Callable[[ReportContents], Section | None], ...] = (
    overview.summary_section,
    overview.inputs_section,
    overview.context_section,
    residues.chains_section,
    residues.residue_plots_section,
    residues.molecules_section,
    residues.worst_section,
    local.local_section,
    residues.distributions_section,
    fit.inclusion_section,
    fit.bfactor_section,
    overview.notes_section,
)


def reading_section(_: ReportContents | None = None) -> Section:
    """The short guide to reading the numbers (the paper's interpretation)."""
    body = "".join(f"<h3>{esc(h)}</h3><p>{esc(p)}</p>" for h, p in HOW_TO_READ)
    return "reading", "How to read this report", f'<div class="read">{body}</div>'


def title(contents: ReportContents) -> str:
    """The report's title: ``Q-score report: MODEL in MAP``."""
    return f"Q-score report: {contents.scored.model.source} in {contents.scored.dmap.source}"


def render(contents: ReportContents) -> str:
    """The whole report as an HTML string.

    Parameters
    ----------
    contents : ReportContents
        What the report shows (:func:`qscore.report.contents.collect`).

    Returns
    -------
    str
        One self-contained HTML document.
    """
    builders = (*SECTIONS, reading_section)
    sections = [s for s in (make(contents) for make in builders) if s is not None]
    toc = " ".join(f'<a href="#{esc(ident)}">{esc(name)}</a>' for ident, name, _ in sections)
    blocks = "".join(
        f'<section id="{esc(ident)}"><h2>{esc(name)}</h2>{body}</section>'
        for ident, name, body in sections
    )
    s = contents.score
    resolution = f"{s['resolution']:g} Å" if s.get("resolution") is not None else "no resolution"
    subtitle = (
        f"{resolution} · sigma {s['sigma']:g} · {esc(s['mode'])} · written "
        f"{esc(contents.generated)} by qscore {esc(contents.software.get('qscore', ''))}"
    )
    header = (
        f'<header class="top"><div class="inner"><h1>{esc(title(contents))}</h1>'
        f"<p>{subtitle}</p></div></header>"
    )
    footer = (
        f"<footer><p>{esc(CITATION)}</p><p>This file is self-contained: it needs no network "
        "connection. The numbers are also embedded as JSON (element "
        f"<code>#{DOCUMENT_ID}</code>), the same as <code>qscore score --json</code> "
        "gives.</p></footer>"
    )
    body = (
        header
        + f'<main><nav class="toc">{toc}</nav>{blocks}{footer}</main>'
        + json_block(contents.document(), DOCUMENT_ID)
    )
    return page(title(contents), body, css=CSS, plotly_js=get_plotlyjs())


def build(scored: Scored, **options: Any) -> tuple[str, ReportContents]:
    """Collect and render the report of a scored map and model.

    Parameters
    ----------
    scored : Scored
        The map as read around the model, the model and their Q-scores.
    **options
        The keyword arguments of :func:`qscore.report.contents.collect` (``inputs``,
        ``resolution``, ``reference``, ``window``, ``contour``, ``bfactors``, ``f_range``,
        ``analysis``, ``progress``).

    Returns
    -------
    tuple of (str, ReportContents)
        The HTML document and what it shows.
    """
    contents = collect(scored, **options)
    return render(contents), contents


def write(text: str, path: str | os.PathLike) -> int:
    """Write the report to ``path`` (UTF-8); return its size in bytes."""
    data = text.encode("utf-8")
    Path(path).write_bytes(data)
    return len(data)
