"""Plotly figures for B-factors from Q-scores (paper Fig. 5): data in, figure out, no Streamlit."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from qscore.analysis.modelmap import ResidueSlices
from qscore.plotting.colours import element_colour

BEST = "#ff7f0e"
OTHER = "#1f77b4"
_LAYOUT = {
    "template": "plotly_white",
    "margin": {"l": 60, "r": 20, "t": 60, "b": 50},
    "font": {"family": "sans-serif", "size": 13},
}


def f_scan_figure(scan: pd.DataFrame, best_f: float, *, title: str | None = None) -> go.Figure:
    """Bar plot of CC-mean against the scale factor f, the best bar in orange (Fig. 5, bottom).

    ``scan`` has columns ``f`` and ``cc_mean``. The y axis starts just below the lowest bar so
    that small differences stay visible; the best f is written above the plot.
    """
    f = scan["f"].to_numpy(dtype=float)
    cc = scan["cc_mean"].to_numpy(dtype=float)
    colours = [BEST if math.isclose(x, best_f) else OTHER for x in f]
    fig = go.Figure(
        go.Bar(
            x=f,
            y=cc,
            marker_color=colours,
            hovertemplate="f = %{x:g}<br>CC-mean %{y:.4f}<extra></extra>",
        )
    )
    finite = cc[np.isfinite(cc)]
    if finite.size:
        lo, hi = float(finite.min()), float(finite.max())
        pad = max(0.05 * (hi - lo), 0.002)
        fig.update_yaxes(range=[lo - 4 * pad, hi + pad])
    best = cc[np.isclose(f, best_f)]
    heading = title or f"f = {best_f:g}" + (f" (CC-mean {best[0]:.4f})" if best.size else "")
    fig.update_layout(
        **_LAYOUT,
        title={"text": heading, "x": 0.5},
        xaxis_title="scale factor f (B = f·(1 − Q))",
        yaxis_title="CC-mean",
        showlegend=False,
        bargap=0.15,
    )
    if len(f) > 1:
        fig.update_xaxes(tickvals=f)
    return fig


def _limits(values: np.ndarray) -> tuple[float, float]:
    """Colour range of one panel: 0 (or the 1st percentile if negative) to the 99.5th."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    lo = min(0.0, float(np.percentile(finite, 1)))
    hi = float(np.percentile(finite, 99.5))
    return lo, hi if hi > lo else lo + 1.0


def residue_slices_figure(slices: ResidueSlices, *, title: str = "") -> go.Figure:
    """Side-by-side heatmaps of each map in ``slices`` with the residue's atoms (Fig. 5 picture).

    The first panel (the experimental map) has its own colour range; the model maps that follow
    share one, so a sharper model map shows brighter peaks. Atoms closer than 1.5 Å to the plane
    are drawn filled, the others open.
    """
    names = list(slices.values)
    shared = [slices.values[n] for n in names[1:]]
    model_limits = _limits(np.concatenate([v.ravel() for v in shared])) if shared else None
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=names, horizontal_spacing=0.03)
    atoms = slices.atoms
    near = atoms["depth"].abs() <= 1.5
    for col, name in enumerate(names, start=1):
        values = slices.values[name]
        zmin, zmax = _limits(values) if col == 1 or model_limits is None else model_limits
        fig.add_trace(
            go.Heatmap(
                x=slices.u,
                y=slices.v,
                z=values,
                zmin=zmin,
                zmax=zmax,
                colorscale="Greys",
                zsmooth="best",
                reversescale=True,
                showscale=False,
                hovertemplate="%{z:.3f}<extra>" + name + "</extra>",
            ),
            row=1,
            col=col,
        )
        for filled in (True, False):
            sel = atoms[near == filled]
            fig.add_trace(
                go.Scatter(
                    x=sel["u"],
                    y=sel["v"],
                    mode="markers",
                    marker={
                        "size": 7,
                        "color": [element_colour(e) for e in sel["element"]]
                        if filled
                        else "rgba(0,0,0,0)",
                        "line": {
                            "width": 1.5,
                            "color": [element_colour(e) for e in sel["element"]],
                        },
                    },
                    text=sel["name"],
                    hovertemplate="%{text}<extra></extra>",
                    showlegend=False,
                ),
                row=1,
                col=col,
            )
        fig.update_xaxes(showticklabels=False, constrain="domain", row=1, col=col)
        fig.update_yaxes(
            showticklabels=False,
            scaleanchor=f"x{col if col > 1 else ''}",
            scaleratio=1,
            constrain="domain",
            row=1,
            col=col,
        )
    fig.update_layout(**_LAYOUT, title={"text": title, "x": 0.5}, height=380)
    return fig


def worst_residues(table: pd.DataFrame, n: int = 15, by: str = "cc_mean") -> pd.DataFrame:
    """The ``n`` residues with the lowest ``by`` (NaN last), keeping the original row index."""
    return table.sort_values(by, na_position="last").head(n)


def residue_label(row: pd.Series | dict) -> str:
    """Short residue label, e.g. ``A 123 LYS`` (insertion code appended to the number)."""
    return f"{row['chain']} {int(row['resseq'])}{row['icode']} {row['resname']}"
