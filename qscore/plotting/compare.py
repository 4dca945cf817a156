"""Figures of a comparison of two Q-score results: per-residue differences with their
significance, and ligand poses against the expected band (paper Fig. 4 e–j)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from qscore.plotting.figures import MAX_LABELS, PEAK, RED, _band_lines, _layout, residue_label

WORSE = RED
BETTER = "#2166ac"
UNCHANGED = "#9a9a9a"
#: Colours of the results in the pose figure, in order (A, B, then the other map's A, B).
RESULT_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a")
_GROUPS = (
    ("not significant", "", UNCHANGED, 7),
    ("worse in B", "worse", WORSE, 10),
    ("better in B", "better", BETTER, 10),
)


def delta_figure(
    table: pd.DataFrame,
    *,
    chain: str,
    min_dq: float,
    labels: tuple[str, str] = ("A", "B"),
    selected: int | None = None,
    height: int = 420,
) -> go.Figure:
    """dq = Q_B − Q_A along one chain's protein and nucleic-acid residues, ±2 standard errors,
    significant residues in colour (red worse, blue better) and labelled.

    ``table`` is :attr:`qscore.analysis.compare.Comparison.residues`; ``customdata[0]`` of each
    point is the residue's row in model A (``row_a``), as in the other residue plots, and
    ``selected`` (such a row) is ringed.
    """
    shown = table[
        (table["chain"] == chain)
        & table["kind"].isin(["protein", "nucleic"])
        & np.isfinite(table["dq"])
    ]
    named = set(shown[shown["significant"]]["dq"].abs().nlargest(MAX_LABELS).index)
    fig = go.Figure()
    for name, change, colour, size in _GROUPS:
        group = shown[shown["change"] == change]
        if group.empty:
            continue
        custom = np.column_stack(
            [
                group["row_a"].to_numpy(),
                [residue_label(r) for _, r in group.iterrows()],
                group["q_a"],
                group["q_b"],
                group["dq_se"],
                group["p"],
            ]
        )
        fig.add_trace(
            go.Scatter(
                x=group["resseq"],
                y=group["dq"],
                mode="markers+text" if change else "markers",
                name=name,
                text=[
                    f"{r['resname']}{r['resseq']}" if i in named else ""
                    for i, r in group.iterrows()
                ]
                if change
                else None,
                textposition="bottom center" if change == "worse" else "top center",
                textfont={"size": 10, "color": colour},
                marker={"color": colour, "size": size, "line": {"color": "white", "width": 1}},
                error_y={
                    "type": "data",
                    "array": 2.0 * group["dq_se"].to_numpy(dtype=float),
                    "color": "rgba(120,120,120,0.35)",
                    "thickness": 1,
                    "width": 0,
                },
                customdata=custom,
                hovertemplate=(
                    "<b>%{customdata[1]}</b><br>"
                    f"Q {labels[0]} = %{{customdata[2]:.3f}}, Q {labels[1]} = %{{customdata[3]:.3f}}"
                    "<br>dq = %{y:+.3f} ± %{customdata[4]:.3f} (p = %{customdata[5]:.2g})"
                    "<extra></extra>"
                ),
            )
        )
    fig.add_hline(y=0.0, line={"color": "#444", "width": 1})
    for level in (min_dq, -min_dq):
        fig.add_hline(y=level, line={"color": "#bbb", "width": 1, "dash": "dot"})
    if selected is not None:
        picked = shown[shown["row_a"] == selected]
        if not picked.empty:
            fig.add_trace(
                go.Scatter(
                    x=picked["resseq"],
                    y=picked["dq"],
                    mode="markers",
                    name="selected",
                    marker={
                        "size": 18,
                        "color": "rgba(0,0,0,0)",
                        "line": {"color": "#111", "width": 2},
                    },
                    hoverinfo="skip",
                )
            )
    return _layout(
        fig,
        title={
            "text": f"Chain {chain}: dq = Q_{labels[1]} − Q_{labels[0]} per residue (bars ±2 s.e.)",
            "y": 0.98,
            "yanchor": "top",
        },
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0},
        margin={"l": 60, "r": 20, "t": 80, "b": 50},
        xaxis_title="Residue number",
        yaxis_title="dq",
        clickmode="event+select",
        dragmode="pan",
        height=height,
    )


def pose_figure(
    ligands: pd.DataFrame, resolution: float | None, sigma: float, *, height: int = 420
) -> go.Figure:
    """Q of every ligand and saccharide in each result (poses, maps) side by side, against
    Q_peak and the 95% band at ``resolution``.

    ``ligands`` is :func:`qscore.analysis.compare.ligand_table`'s frame.
    """
    frame = ligands.assign(label=[residue_label(r) for _, r in ligands.iterrows()])
    fig = go.Figure()
    for k, (name, group) in enumerate(frame.groupby("result", sort=False)):
        fig.add_trace(
            go.Bar(
                x=group["label"],
                y=group["q"],
                name=str(name),
                marker={"color": RESULT_COLOURS[k % len(RESULT_COLOURS)]},
                text=[f"{q:.2f}" for q in group["q"]],
                textposition="outside",
                hovertemplate=f"<b>%{{x}}</b> · {name}<br>Q = %{{y:.3f}}<extra></extra>",
            )
        )
    band = _band_lines(resolution, sigma)
    top = float(np.nanmax(frame["q"])) if len(frame) else 1.0
    return _layout(
        fig,
        barmode="group",
        title={
            "text": "Q of each molecule in each model and map, against the EMDB band",
            "y": 0.98,
            "yanchor": "top",
        },
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0},
        xaxis={"type": "category", "title": "Molecule"},
        yaxis={
            "title": "Q-score",
            "range": [
                min(0.0, float(np.nanmin(frame["q"])) - 0.05) if len(frame) else 0.0,
                max(1.0, top + 0.1),
            ],
        },
        margin={"l": 60, "r": 130, "t": 80, "b": 60},
        height=height,
        legend_title_text="",
        colorway=[PEAK],
        **band,
    )
