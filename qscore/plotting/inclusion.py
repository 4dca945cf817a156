"""Atom inclusion against the contour level (all atoms and backbone), the chosen level marked."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from qscore.plotting.figures import PEAK, RED, _layout

ALL_COLOUR = PEAK
BACKBONE_COLOUR = "#ff7f0e"


def inclusion_figure(
    curve: pd.DataFrame, level: float, *, level_name: str = "contour"
) -> go.Figure:
    """Fraction of atoms inside the contour against the level, with the chosen ``level`` marked.

    Parameters
    ----------
    curve : pandas.DataFrame
        Columns ``level``, ``all`` and ``backbone`` (fractions), as in
        :class:`qscore.analysis.inclusion.Inclusion`.
    level : float
        The chosen contour level (map units), drawn as a vertical line.
    level_name : str
        How the line is labelled (e.g. ``recommended contour``).

    Returns
    -------
    plotly.graph_objects.Figure
    """
    fig = go.Figure()
    for column, name, colour in (
        ("all", "all atoms", ALL_COLOUR),
        ("backbone", "backbone atoms", BACKBONE_COLOUR),
    ):
        values = curve[column].to_numpy(dtype=float)
        if not np.isfinite(values).any():
            continue
        fig.add_trace(
            go.Scatter(
                x=curve["level"],
                y=100 * values,
                mode="lines",
                name=name,
                line={"color": colour, "width": 2},
                hovertemplate=f"level %{{x:.4g}}: %{{y:.1f}}% of {name} inside<extra></extra>",
            )
        )
        at_level = values[np.isclose(curve["level"].to_numpy(dtype=float), level)]
        if at_level.size and np.isfinite(at_level[0]):
            fig.add_trace(
                go.Scatter(
                    x=[level],
                    y=[100 * at_level[0]],
                    mode="markers+text",
                    text=[f"{100 * at_level[0]:.1f}%"],
                    textposition="middle left" if column == "all" else "middle right",
                    textfont={"color": colour, "size": 12},
                    marker={"color": colour, "size": 9, "line": {"color": "white", "width": 1}},
                    showlegend=False,
                    hovertemplate=f"{name}: %{{y:.1f}}% inside at %{{x:.4g}}<extra></extra>",
                )
            )
    fig.add_vline(
        x=level,
        line={"color": RED, "dash": "dash", "width": 1.5},
        annotation_text=f"{level_name} {level:.4g}",
        annotation_position="bottom right",
        annotation_font={"size": 11, "color": RED},
    )
    return _layout(
        fig,
        xaxis_title="contour level (map units)",
        yaxis_title="atoms inside the contour (%)",
        yaxis_range=[0, 102],
        margin={"l": 60, "r": 20, "t": 50, "b": 50},
        height=380,
    )
