"""Histograms of per-atom and per-residue Q-scores with the expected values at the resolution.

The values are binned here, so a figure holds one bar per bin whatever the number of atoms (a
100,000-atom model draws as small as a 1,000-atom one).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from qscore.analysis.expected import expected_q
from qscore.plotting.figures import BAND, PEAK, _layout

#: Bin width of the Q histograms.
BIN_WIDTH = 0.025


def q_histogram(
    values: np.ndarray,
    resolution: float | None,
    sigma: float,
    *,
    what: str = "atoms",
    colour: str = "#1f77b4",
    bin_width: float = BIN_WIDTH,
) -> go.Figure:
    """Bars of how many ``what`` have each Q, with Q_peak and the 95% band as vertical lines.

    Parameters
    ----------
    values : numpy.ndarray
        Q-scores; non-finite values are left out.
    resolution : float or None
        The map's resolution; the expected values are drawn when it is given and ``sigma`` has
        bands.
    sigma : float
        Width of the reference Gaussian the Q-scores were computed with.
    what : str
        What is counted (axis title and hover), e.g. ``atoms`` or ``residues``.
    colour : str
        Bar colour.
    bin_width : float
        Width of one bin in Q.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    q = np.asarray(values, dtype=np.float64)
    q = q[np.isfinite(q)]
    lo = np.floor(min(q.min(), 0.0) / bin_width) * bin_width if q.size else 0.0
    hi = np.ceil(max(q.max(), 1.0) / bin_width) * bin_width if q.size else 1.0
    edges = np.arange(lo, hi + bin_width / 2, bin_width)
    counts, edges = np.histogram(q, bins=edges)
    centres = (edges[:-1] + edges[1:]) / 2
    fig = go.Figure(
        go.Bar(
            x=centres,
            y=counts,
            width=bin_width * 0.95,
            marker={"color": colour},
            name=what,
            showlegend=False,
            customdata=np.column_stack([edges[:-1], edges[1:]]),
            hovertemplate=f"Q %{{customdata[0]:.3f}}–%{{customdata[1]:.3f}}: %{{y}} {what}"
            "<extra></extra>",
        )
    )
    bands = expected_q(resolution, sigma) if resolution else None
    if bands is not None:
        top = float(counts.max()) * 1.05 if counts.size and counts.max() > 0 else 1.0
        for value, name, dash in (
            (bands.q_low95, "Q_low_95%", "dot"),
            (bands.q_peak, "Q_peak", "solid"),
            (bands.q_high95, "Q_high_95%", "dot"),
        ):
            fig.add_trace(
                go.Scatter(
                    x=[value, value],
                    y=[0, top],
                    mode="lines",
                    name=f"{name} {value:.2f}",
                    line={"color": PEAK if name == "Q_peak" else BAND, "dash": dash, "width": 1.5},
                    hovertemplate=f"{name} {value:.3f}<extra></extra>",
                )
            )
    return _layout(
        fig,
        xaxis_title="Q-score",
        yaxis_title=f"number of {what}",
        bargap=0,
        showlegend=bands is not None,
        margin={"l": 60, "r": 20, "t": 40, "b": 50},
        height=340,
    )
