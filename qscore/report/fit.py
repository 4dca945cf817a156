"""The report's sections on map–model fit beyond Q: atom inclusion, and B-factors from Q with
CC / CC-mean."""

from __future__ import annotations

from qscore.plotting.bfactor import f_scan_figure
from qscore.plotting.inclusion import inclusion_figure
from qscore.report.contents import ReportContents, f_scan_frame
from qscore.report.html import esc, figure, fmt, key_values, number, table
from qscore.report.text import DEFAULT_LEVEL, GIVEN_LEVEL

Section = tuple[str, str, str]


def inclusion_section(c: ReportContents) -> Section:
    """Atom inclusion against the contour level, the chosen level marked, and its numbers."""
    inc = c.inclusion
    name = "recommended contour" if inc.source == "given" else "default contour"
    fig = inclusion_figure(inc.curve, inc.level, level_name=name)
    pairs = [
        (
            "Contour level",
            f"{number(('inclusion', 'level'), inc.level, '.6g')} map units "
            f"({esc(fmt(inc.sigma_level, '.2f'))} σ above the mean of the map as read)",
        ),
        (
            "All atoms inside",
            f"{number(('inclusion', 'all'), inc.all, '.1f', '%', scale=100)} of "
            f"{inc.atoms:,} non-hydrogen atoms",
        ),
        (
            "Backbone atoms inside",
            f"{number(('inclusion', 'backbone'), inc.backbone, '.1f', '%', scale=100)} of "
            f"{inc.backbone_atoms:,} backbone atoms (N, CA, C, O, OXT; P, O5', C5', C4', C3', O3')",
        ),
        ("Model volume", f"{inc.model_volume:,.0f} Å³ (atoms' mass × 1.21 Å³/Da)"),
    ]
    lead = (
        "<p>An atom is inside the contour when the map value at its centre (trilinear "
        "interpolation) is above the level. The curves show the share of all atoms and of "
        "backbone atoms inside the contour at every level from the lowest to the highest map "
        "value around the model.</p>"
    )
    text = GIVEN_LEVEL if inc.source == "given" else DEFAULT_LEVEL
    body = lead + figure(fig, "inclusion", caption=esc(text)) + key_values(pairs)
    return "inclusion", "Atom inclusion", body


def bfactor_section(c: ReportContents) -> Section | None:
    """The f scan, the CC-mean of the model maps and the molmap CC / CC-mean per chain."""
    b = c.bfactor
    if b is None:
        return None
    fig = f_scan_figure(f_scan_frame(b), b["best_f"])
    pairs = [
        (
            "Scale factor f",
            f"{number(('bfactor', 'best_f'), b['best_f'], 'g')} (B = f·(1 − Q), chosen by CC-mean)",
        ),
        (
            "CC-mean, B from Q",
            number(("bfactor", "cc_mean_best"), b["cc_mean_best"], ".4f"),
        ),
        ("CC-mean, B = 0", number(("bfactor", "cc_mean_b0"), b["cc_mean_b0"], ".4f")),
        (
            "CC-mean, deposited B",
            number(("bfactor", "cc_mean_deposited"), b["cc_mean_deposited"], ".4f"),
        ),
        (
            "Model map (molmap-style): CC, CC-mean",
            f"{number(('bfactor', 'cc'), b['cc'], '.4f')}, "
            f"{number(('bfactor', 'cc_mean'), b['cc_mean'], '.4f')}",
        ),
    ]
    rows = [
        (
            esc(chain),
            number(("bfactor", "chains", chain, "cc"), values["cc"], ".4f"),
            number(("bfactor", "chains", chain, "cc_mean"), values["cc_mean"], ".4f"),
        )
        for chain, values in b["chains"].items()
    ]
    lead = (
        f"<p>Electron-scattering model maps at {esc(fmt(b['resolution'], 'g'))} Å with "
        "B = f·(1 − Q) for each f of the scan, compared with the map by CC-mean over the "
        f"model-map points above {esc(fmt(b['threshold'], 'g'))}; the best f gives the "
        "B-factors (the same numbers as <code>qscore bfactor</code>).</p>"
    )
    body = (
        lead
        + figure(fig, "f-scan", caption="CC-mean for each scale factor f; the best in orange.")
        + key_values(pairs)
        + table(["chain", "CC", "CC-mean"], rows, numeric=(1, 2))
    )
    return "bfactors", "B-factors from Q-scores, CC and CC-mean", body
