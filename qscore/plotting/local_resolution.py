"""Figures of local-resolution-aware verdicts: residue Q against the band at each residue's local
resolution beside the band at the reported resolution, and local versus Q-implied resolution.

Pure Plotly (no Streamlit). Every point carries its residue row as ``customdata[0]`` so a click
can select the residue, as on the other per-residue plots.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from qscore.plotting.figures import BAND, RED, _band_lines, _layout

#: Colour of each reading (see :data:`qscore.analysis.local_resolution.READINGS`).
READING_COLOURS = {
    "possible misfit": RED,
    "poorly resolved region": "#f28e2b",
    "above local band": "#1f5fa8",
    "as expected locally": "#8c9aa8",
    "": "#c8c8c8",
}
LOCAL_BAND = "rgba(242, 142, 43, 0.18)"


def reading_colours(readings) -> list[str]:
    """Hex colour per reading, for the 3D view ("" where a residue has no local verdict)."""
    return [READING_COLOURS[r] if r else "" for r in readings]


def reading_legend_html() -> str:
    """An HTML legend of the reading colours, for the 3D view."""
    items = "".join(
        f'<span style="margin-right:14px"><span style="color:{c}">■</span> {name}</span>'
        for name, c in READING_COLOURS.items()
        if name
    )
    return f'<div style="font: 12px sans-serif; margin: 6px 4px">{items}</div>'


def local_residue_figure(
    table: pd.DataFrame,
    resolution: float | None,
    sigma: float,
    *,
    title: str = "",
    selected: int | None = None,
) -> go.Figure:
    """Residue Q with the local 95% band (per residue, shaded) and the global band (dotted lines);
    below, each residue's local resolution and its Q-implied resolution.

    ``table`` holds one chain's rows of a residue table with the local columns
    (:func:`qscore.analysis.local_resolution.local_verdicts`), indexed by residue row.
    """
    data = table.sort_values("resseq")
    x = data["resseq"].to_numpy()
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.68, 0.32],
        vertical_spacing=0.06,
    )
    low = data["q_low95_local"].to_numpy(dtype=float)
    high = data["q_high95_local"].to_numpy(dtype=float)
    fig.add_trace(
        go.Scatter(x=x, y=high, mode="lines", line={"width": 0, "shape": "hvh"}, hoverinfo="skip",
                   showlegend=False),
        row=1, col=1,
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(x=x, y=low, mode="lines", fill="tonexty", fillcolor=LOCAL_BAND,
                   line={"width": 0, "shape": "hvh"}, name="95% band at the local resolution",
                   hoverinfo="skip"),
        row=1, col=1,
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(x=x, y=data["q_peak_local"], mode="lines", name="Q_peak at the local resolution",
                   line={"color": "#f28e2b", "width": 1.5, "shape": "hvh"}, hoverinfo="skip"),
        row=1, col=1,
    )  # fmt: skip
    custom = np.column_stack(
        [
            data.index.to_numpy(),
            data["chain"].astype(str),
            data["resseq"].astype(str),
            data["resname"].astype(str),
            data["local_resolution"].to_numpy(dtype=float),
            data["q_resolution"].to_numpy(dtype=float),
            data["local_reading"].astype(str),
        ]
    )
    hover = (
        "<b>%{customdata[1]} %{customdata[2]} %{customdata[3]}</b><br>Q = %{y:.3f}<br>"
        "local resolution %{customdata[4]:.2f} Å<br>Q-implied resolution %{customdata[5]:.2f} Å"
        "<br>%{customdata[6]}<extra></extra>"
    )
    readings = data["local_reading"].astype(str).to_numpy()
    for reading, colour in READING_COLOURS.items():
        pick = readings == reading
        if not pick.any():
            continue
        fig.add_trace(
            go.Scatter(
                x=x[pick],
                y=data["q"].to_numpy(dtype=float)[pick],
                mode="markers",
                name=reading or "no local resolution",
                marker={"color": colour, "size": 7, "line": {"color": "white", "width": 0.5}},
                customdata=custom[pick],
                hovertemplate=hover,
            ),
            row=1,
            col=1,
        )
    band = _band_lines(resolution, sigma)  # on the first row's axes (x, y)
    fig.add_trace(
        go.Scatter(x=x, y=data["local_resolution"], mode="lines", name="local resolution",
                   line={"color": "#f28e2b", "width": 2}, customdata=custom,
                   hovertemplate=hover),
        row=2, col=1,
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(x=x, y=data["q_resolution"], mode="markers", name="Q-implied resolution",
                   marker={"color": "#555", "size": 4}, customdata=custom, hovertemplate=hover),
        row=2, col=1,
    )  # fmt: skip
    if resolution:
        fig.add_hline(y=resolution, line={"color": BAND, "dash": "dot", "width": 1}, row=2, col=1)
    if selected is not None and selected in data.index:
        fig.add_vline(x=float(data.at[selected, "resseq"]), line={"color": "#444", "dash": "dash"})
    fig.update_yaxes(title_text="Q-score", row=1, col=1)
    fig.update_yaxes(title_text="Resolution (Å)", autorange="reversed", row=2, col=1)
    fig.update_xaxes(title_text="Residue number", row=2, col=1)
    return _layout(
        fig,
        shapes=[*fig.layout.shapes, *band["shapes"]],
        annotations=[*fig.layout.annotations, *band["annotations"]],
        title={"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 15}},
        legend={"orientation": "h", "x": 0, "y": -0.12, "yanchor": "top"},
        margin={"l": 60, "r": 130, "t": 50, "b": 110},
        height=680,
        hovermode="closest",
        clickmode="event+select",
        dragmode="pan",
    )
