"""The report's first sections: the summary at a glance, inputs and parameters, the model among
EMDB entries, and the notes."""

from __future__ import annotations

from pathlib import Path

from qscore.analysis.context import archive_comparable, archive_note
from qscore.analysis.expected import has_bands, verdict_heading
from qscore.plotting.figures import archive_figure
from qscore.report.contents import ReportContents
from qscore.report.html import esc, figure, fmt, key_values, number
from qscore.report.text import MODES

Section = tuple[str, str, str]


def verdict_class(code: str | None) -> str:
    """CSS class of a verdict code (``below``, ``typical``, ``above``; ``none`` without one)."""
    return code if code in ("below", "typical", "above") else "none"


def _card(label: str, value_html: str, sub: str = "") -> str:
    sub_html = f'<div class="sub">{sub}</div>' if sub else ""
    return (
        f'<div class="card"><div class="label">{esc(label)}</div>'
        f'<div class="value">{value_html}</div>{sub_html}</div>'
    )


def summary_section(c: ReportContents) -> Section:
    """Model Q, Q_peak and the band, the verdict, the percentiles, atom inclusion (and CC)."""
    s, inc = c.score, c.inclusion
    cards = [
        _card(
            "Model Q-score",
            number(("score", "model_q"), s["model_q"]),
            f"mean over {number(('score', 'atoms_scored'), s['atoms_scored'], ',d')} atoms, "
            f"sigma {esc(fmt(s['sigma'], 'g'))}",
        )
    ]
    if s.get("q_peak") is not None:
        cards.append(
            _card(
                f"Q_peak at {fmt(s['resolution'], 'g')} Å",
                number(("score", "q_peak"), s["q_peak"]),
                f"95% band {number(('score', 'q_low95'), s['q_low95'])}–"
                f"{number(('score', 'q_high95'), s['q_high95'])}",
            )
        )
    if s.get("q_relative_all") is not None:
        cards.append(
            _card(
                "Q_relative_all",
                number(("score", "q_relative_all"), s["q_relative_all"], ".1f", "%"),
                f"of {number(('score', 'entries_all'), s['entries_all'], ',d')} EMDB entries",
            )
        )
        cards.append(
            _card(
                "Q_relative_resolution",
                number(("score", "q_relative_resolution"), s["q_relative_resolution"], ".1f", "%"),
                f"of {number(('score', 'entries_window'), s['entries_window'], ',d')} entries "
                f"within ±{esc(fmt(s['window'], 'g'))} Å",
            )
        )
    cards.append(
        _card(
            "Atom inclusion",
            number(("inclusion", "all"), inc.all, ".1f", "%", scale=100),
            "backbone "
            + number(("inclusion", "backbone"), inc.backbone, ".1f", "%", scale=100)
            + f" at level {esc(fmt(inc.level, '.4g'))}"
            + (" (default)" if inc.source == "default" else ""),
        )
    )
    if c.bfactor is not None:
        cards.append(
            _card(
                "CC-mean, B from Q",
                number(("bfactor", "cc_mean_best"), c.bfactor["cc_mean_best"], ".4f"),
                f"best f = {number(('bfactor', 'best_f'), c.bfactor['best_f'], 'g')}",
            )
        )
    if s.get("verdict"):
        verdict = (
            f'<div class="verdict {verdict_class(s["verdict"])}" data-verdict="{esc(s["verdict"])}">'
            f"<strong>{esc(verdict_heading(s['verdict_label']))}.</strong> "
            f"{esc(s['verdict_explanation'])}</div>"
        )
    elif s.get("resolution") is None:
        verdict = (
            '<div class="verdict none">No resolution was given or recorded in the model file, '
            "so the Q-score is not compared with what is commonly observed. Give it with "
            "--resolution D.</div>"
        )
    else:
        verdict = (
            '<div class="verdict none">Expected Q-scores exist for sigma 0.4 and 0.6 only, so '
            f"Q-scores at sigma {esc(fmt(s['sigma'], 'g'))} are not compared with them; score at "
            "sigma 0.4 (the EMDB's) to compare with what is commonly observed and with the "
            "archive.</div>"
        )
    relative = ""
    if s.get("relative_interpretation") and s.get("q_relative_all") is not None:
        relative = f"<p>{esc(s['relative_interpretation'])}</p>"
    elif s.get("verdict") and not archive_comparable(s["sigma"]):
        relative = (
            "<p>The percentiles against the EMDB archive (Q_relative) exist for sigma 0.4 only, "
            "the sigma of the archive's Q-scores.</p>"
        )
    guide = (
        '<p class="muted">What low and high values mean: <a href="#reading">how to read this '
        "report</a>.</p>"
    )
    body = f'<div class="cards">{"".join(cards)}</div>{verdict}{relative}{guide}'
    return "summary", "Summary", body


def inputs_section(c: ReportContents) -> Section:
    """Input files with their checksums, software, parameters and the reference table."""
    s, dmap, model = c.score, c.scored.dmap, c.scored.model
    files = "".join(
        f"<tr><td>{esc(f.role)}</td><td>{esc(f.name)}</td><td class=r>{f.size:,}</td>"
        f'<td class="hash">{esc(f.sha256)}</td></tr>'
        for f in c.inputs
    )
    files_table = (
        '<table class="files"><thead><tr><th>role</th><th>file</th><th class=r>bytes</th>'
        f"<th>SHA-256</th></tr></thead><tbody>{files}</tbody></table>"
    )
    nx, ny, nz = dmap.shape_xyz
    voxel = " × ".join(fmt(v, ".4g") for v in dmap.voxel_size)
    resolution = (
        f"{number(('score', 'resolution'), s['resolution'], 'g', ' Å')} ({esc(c.resolution_source)})"
        if s.get("resolution") is not None
        else "not given (no expected values or percentiles)"
    )
    reference = esc(s["reference"]) if s.get("reference") else "none"
    pairs = [
        (
            "Model",
            f"{esc(model.source)}: {model.n_atoms:,} atoms, {len(model.residues):,} residues",
        ),
        ("Map as read", f"{nx} × {ny} × {nz} voxels of {esc(voxel)} Å (x × y × z)"),
        ("Resolution", resolution),
        (
            "Sigma (reference Gaussian width)",
            f"{number(('score', 'sigma'), s['sigma'], 'g', ' Å')}",
        ),
        ("Sampling mode", f"<code>{esc(s['mode'])}</code>: {esc(MODES.get(s['mode'], ''))}"),
        ("Atoms scored", number(("score", "atoms_scored"), s["atoms_scored"], ",d")),
        ("Atoms outside the map", number(("score", "atoms_outside"), s["atoms_outside"], ",d")),
        ("Reference table", reference),
        ("Resolution window w", f"±{esc(fmt(c.window, 'g'))} Å (Q_relative_resolution)"),
        (
            "Contour level",
            f"{esc(fmt(c.inclusion.level, '.6g'))} ("
            + ("given" if c.inclusion.source == "given" else "default: the model's volume")
            + f", {esc(fmt(c.inclusion.sigma_level, '.2f'))} σ above the mean of the map as read)",
        ),
        (
            "Software",
            ", ".join(f"{esc(k)} {esc(v)}" for k, v in c.software.items()),
        ),
        ("Written", esc(c.generated)),
    ]
    if s.get("chimerax"):
        files = ", ".join(f"<code>{esc(Path(p).name)}</code>" for p in s["chimerax"])
        pairs.append(
            (
                "ChimeraX hand-off",
                f"{files} beside this report: open the .cxc in ChimeraX for the model "
                "coloured by Q in its map",
            )
        )
    body = files_table + key_values(pairs)
    return "inputs", "Inputs and parameters", body


def context_section(c: ReportContents) -> Section | None:
    """The model's Q against the EMDB entries and the expected curves (None without a table or
    a resolution)."""
    s = c.score
    if c.reference is None or s.get("resolution") is None or not has_bands(s["sigma"]):
        return None
    fig = archive_figure(
        c.reference.data,
        sigma=s["sigma"],
        model_q=s["model_q"],
        resolution=s["resolution"],
        label="This model",
    )
    note = archive_note(s["sigma"])
    caption = (
        "Each grey point is an EMDB entry (model-average Q at sigma 0.4 against its reported "
        "resolution); the solid line is Q_peak and the dotted lines enclose 95% of entries. "
        "The star is this model."
    )
    if note:
        caption = esc(note)
    body = figure(fig, "archive", caption=caption)
    name = (
        "The model among EMDB entries"
        if note is None
        else f"The model against the expected Q-scores at sigma {s['sigma']:g}"
    )
    return "context", name, body


def notes_section(c: ReportContents) -> Section | None:
    """Every note of the run, once each (None when there is none)."""
    groups = (
        c.scored.model.notes,
        c.scored.dmap.notes,
        c.score.get("notes", []),
        c.inclusion.notes,
        (c.bfactor or {}).get("notes", []),
    )
    notes = list(dict.fromkeys(note for group in groups for note in group))
    if not notes:
        return None
    items = "".join(f"<li>{esc(n)}</li>" for n in notes)
    return "notes", "Notes", f'<ul class="notes">{items}</ul>'
