"""Plotly figure builders: data in, figure out, no Streamlit (usable from notebooks and tests).

Colours and line styles follow the paper: Q_peak solid, Q_low_95% and Q_high_95% dotted, values
below Q_low_95% in red and labelled.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from qscore.analysis.context import archive_comparable
from qscore.analysis.expected import (
    MEAN_COEFFICIENTS_04,
    expected_curves,
    expected_q,
    verdict_codes,
)

RED = "#d62728"
PEAK = "#1f5fa8"
BAND = "#6b7a8f"
ARCHIVE = "rgba(90, 100, 120, 0.18)"
SERIES = {
    "backbone": ("Backbone", "#1f77b4"),
    "sidechain": ("Side chain", "#ff7f0e"),
    "phosphate": ("Phosphate", "#9467bd"),
    "sugar": ("Sugar", "#2ca02c"),
    "base": ("Base", "#8c564b"),
    "q": ("Residue", "#17becf"),
}
KIND_COLOURS = {
    "ligand": "#e377c2",
    "glycan": "#2ca02c",
    "ion": "#7f7f7f",
    "water": "#17becf",
    "protein": "#1f77b4",
    "nucleic": "#9467bd",
}
#: Coarsest resolution (Å) the archive's shaded density covers (the plot stops at 12.3 Å).
DENSITY_MAX_RESOLUTION = 20.0
#: Most outliers labelled on one plot; beyond that only the lowest are named.
MAX_LABELS = 15
VERDICT_WORDS = {
    "below": "below Q_low_95%",
    "typical": "as commonly observed",
    "above": "above Q_high_95%",
}
_LAYOUT = {
    "template": "plotly_white",
    "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
    "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
    "font": {"family": "sans-serif", "size": 13},
}


def _layout(fig: go.Figure, **extra) -> go.Figure:
    fig.update_layout(**{**_LAYOUT, **extra})
    return fig


def spread_labels(
    points: list[tuple[float, float, str]],
    *,
    x_span: float,
    max_labels: int = MAX_LABELS,
    x_gap: float = 0.07,
    y_gap: float = 0.06,
) -> list[tuple[float, float, str]]:
    """The points to label, lowest first, none close enough to an already chosen one to overlap.

    Parameters
    ----------
    points : list of (x, y, text)
        Candidate points (e.g. residue number, Q, label).
    x_span : float
        Width of the plotted x range; labels closer than ``x_gap`` of it horizontally and
        ``y_gap`` (in y units) vertically would overlap.
    max_labels : int, optional
        At most this many labels.
    x_gap, y_gap : float, optional
        The minimal separations.

    Returns
    -------
    list of (x, y, text)
        The chosen points, lowest y first; the others keep their marker and hover text.

    Examples
    --------
    >>> spread_labels([(10, 0.1, "A"), (12, 0.12, "B"), (80, 0.2, "C")], x_span=100)
    [(10, 0.1, 'A'), (80, 0.2, 'C')]
    """
    chosen: list[tuple[float, float, str]] = []
    for x, y, text in sorted(points, key=lambda p: p[1]):
        if len(chosen) >= max_labels:
            break
        if all(abs(x - cx) >= x_gap * x_span or abs(y - cy) >= y_gap for cx, cy, _ in chosen):
            chosen.append((x, y, text))
    return chosen


def residue_label(row: pd.Series | dict) -> str:
    """Short residue label, e.g. ``A 123 LYS`` (insertion code appended to the number)."""
    return f"{row['chain']} {int(row['resseq'])}{row['icode'] or ''} {row['resname']}"


def annotate_residues(
    residues: pd.DataFrame, resolution: float | None, sigma: float, column: str = "q"
) -> pd.DataFrame:
    """Copy of a residue table with ``expected`` (Q_peak), ``low95``, ``high95``, ``deviation``
    (Q − Q_peak) and ``verdict`` (below / typical / above, "" without bands) from ``column``."""
    out = residues.copy()
    bands = expected_q(resolution, sigma) if resolution else None
    if bands is None or not resolution:
        for name in ("expected", "low95", "high95", "deviation"):
            out[name] = np.nan
        out["verdict"] = ""
        return out
    out["expected"] = bands.q_peak
    out["low95"] = bands.q_low95
    out["high95"] = bands.q_high95
    out["deviation"] = out[column] - bands.q_peak
    out["verdict"] = verdict_codes(out[column].to_numpy(dtype=float), resolution, sigma)
    return out


def _band_lines(resolution: float | None, sigma: float) -> dict[str, list[dict]]:
    """Horizontal Q_peak and 95% lines at one resolution, labelled on the right, as layout
    ``shapes`` and ``annotations`` (given to one layout update with the figure's other ones)."""
    bands = expected_q(resolution, sigma) if resolution else None
    shapes: list[dict] = []
    labels: list[dict] = []
    if bands is None:
        return {"shapes": shapes, "annotations": labels}
    for value, name, dash in (
        (bands.q_high95, "Q_high_95%", "dot"),
        (bands.q_peak, "Q_peak", "solid"),
        (bands.q_low95, "Q_low_95%", "dot"),
    ):
        colour = PEAK if name == "Q_peak" else BAND
        shapes.append(
            {
                "type": "line",
                "xref": "x domain",
                "x0": 0,
                "x1": 1,
                "yref": "y",
                "y0": value,
                "y1": value,
                "line": {"color": colour, "dash": dash, "width": 1.5},
            }
        )
        labels.append(
            {
                "x": 1.0,
                "xref": "paper",
                "xanchor": "left",
                "y": value,
                "text": f" {name} {value:.2f}",
                "showarrow": False,
                "font": {"size": 11, "color": colour},
            }
        )
    return {"shapes": shapes, "annotations": labels}


def residue_series(kind: str) -> tuple[str, ...]:
    """Subset columns plotted for a residue kind: backbone/side chain or phosphate/sugar/base."""
    if kind == "nucleic":
        return ("phosphate", "sugar", "base")
    if kind == "protein":
        return ("backbone", "sidechain")
    return ("q",)


#: How a per-residue plot shows the point a click selected (Plotly's own selection).
CLICKED = {"selected": {"marker": {"size": 12}}, "unselected": {"marker": {"opacity": 0.35}}}


def residue_figure(
    residues: pd.DataFrame,
    resolution: float | None,
    sigma: float,
    *,
    kind: str = "protein",
    smoothing: str | None = None,
    title: str = "",
) -> go.Figure:
    """Per-residue Q of one chain: one trace per atom subset, bands, outliers red and labelled.

    ``residues`` is a residue table (rows of one chain) whose index is the residue row; each
    point carries that row as ``customdata[0]`` so a click can select the residue. ``smoothing``
    is a MapQ window name (``avg3``, ``avg5``, ``avg7``, ``avg11``) applied to backbone and
    side-chain columns when present. A clicked point is enlarged and the others faded.
    """
    fig = go.Figure()
    bands = expected_q(resolution, sigma) if resolution else None
    outliers: list[tuple[float, float, str]] = []
    for subset in residue_series(kind):
        base = "q" if subset == "q" else f"q_{subset}"
        column = f"{base}_{smoothing}" if smoothing and f"{base}_{smoothing}" in residues else base
        data = residues[np.isfinite(residues[column].to_numpy(dtype=float))]
        if data.empty:
            continue
        name, colour = SERIES[subset]
        values = data[column].to_numpy(dtype=float)
        low = bands.q_low95 if bands else -math.inf
        expected = f"{bands.q_peak:.3f}" if bands else "n/a"
        custom = np.column_stack(
            [
                data.index.to_numpy(),
                data["chain"].astype(str),
                [f"{int(r)}{i or ''}" for r, i in zip(data["resseq"], data["icode"], strict=True)],
                data["resname"].astype(str),
                np.where(values < low, "below Q_low_95%", ""),
            ]
        )
        hover = (
            "<b>%{customdata[1]} %{customdata[2]} %{customdata[3]}</b><br>"
            f"{name} Q = %{{y:.3f}}<br>expected (Q_peak) = {expected}"
            "<br><span style='color:#d62728'>%{customdata[4]}</span><extra></extra>"
        )
        fig.add_trace(
            go.Scatter(
                x=data["resseq"],
                y=values,
                mode="lines+markers",
                name=name,
                line={"color": colour, "width": 1},
                marker={"color": colour, "size": 6},
                customdata=custom,
                hovertemplate=hover,
                **CLICKED,
            )
        )
        below = values < low
        if below.any():
            fig.add_trace(
                go.Scatter(
                    x=data["resseq"][below],
                    y=values[below],
                    mode="markers",
                    name="below Q_low_95%",
                    legendgroup="below",
                    showlegend=not any(t.legendgroup == "below" for t in fig.data),
                    marker={"color": RED, "size": 8, "line": {"color": "white", "width": 1}},
                    customdata=custom[below],
                    hovertemplate=hover,
                    **CLICKED,
                )
            )
        for x, y, (_, _chain, number, resname, _flag) in zip(
            data["resseq"], values, custom, strict=True
        ):
            if y < low:
                outliers.append((float(y), float(x), f"{resname} {number}"))
    lowest: dict[float, tuple[float, str]] = {}
    for y, x, text in sorted(outliers):
        lowest.setdefault(x, (y, text))
    band = _band_lines(resolution, sigma)
    labels = [
        {
            "x": x,
            "y": y,
            "text": text,
            "showarrow": False,
            "yshift": -11,
            "font": {"size": 10, "color": RED},
        }
        for x, y, text in spread_labels(
            [(x, y, text) for x, (y, text) in lowest.items()],
            x_span=float(np.ptp(residues["resseq"].to_numpy(dtype=float)))
            if len(residues)
            else 0.0,
        )
    ]
    return _layout(
        fig,
        shapes=band["shapes"],
        annotations=labels + band["annotations"],
        title={"text": title, "x": 0.01, "xanchor": "left", "y": 0.97, "font": {"size": 15}},
        legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1.02, "yanchor": "bottom"},
        margin={"l": 60, "r": 120, "t": 70, "b": 50},
        xaxis_title="Residue number" if kind != "nucleic" else "Nucleotide number",
        yaxis_title="Q-score",
        yaxis_range=[min(-0.1, _lowest(residues)), 1.0],
        hovermode="closest",
        clickmode="event+select",
        dragmode="pan",
        height=420,
    )


def _lowest(residues: pd.DataFrame) -> float:
    values = residues.filter(like="q").select_dtypes("number").to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    return float(finite.min()) - 0.05 if finite.size else 0.0


def molecule_figure(
    molecules: pd.DataFrame,
    resolution: float | None,
    sigma: float,
    *,
    selected: int | None = None,
    judge_water: bool = True,
) -> go.Figure:
    """One point per ligand, saccharide, ion or water molecule, coloured by kind, with bands.

    The frame's index is the residue row (``customdata[0]``), as in :func:`residue_figure`.
    With ``judge_water=False`` waters are never marked as below the band.
    """
    fig = go.Figure()
    bands = expected_q(resolution, sigma) if resolution else None
    floor = bands.q_low95 if bands else -math.inf
    labels = [residue_label(r) for _, r in molecules.iterrows()]
    frame = molecules.assign(label=labels)
    for kind, group in frame.groupby("kind", sort=False):
        values = group["q"].to_numpy(dtype=float)
        low = -math.inf if (kind == "water" and not judge_water) else floor
        custom = np.column_stack(
            [
                group.index.to_numpy(),
                group["label"],
                group["atoms"],
                np.where(values < low, "below Q_low_95%", ""),
            ]
        )
        fig.add_trace(
            go.Scatter(
                x=group["label"],
                y=values,
                mode="markers",
                name=str(kind),
                marker={
                    "color": np.where(values < low, RED, KIND_COLOURS.get(str(kind), "#333")),
                    "size": 11,
                    "symbol": "diamond" if kind == "glycan" else "circle",
                    "line": {"color": "white", "width": 1},
                },
                customdata=custom,
                hovertemplate=(
                    "<b>%{customdata[1]}</b> (%{customdata[2]} atoms)<br>Q = %{y:.3f}"
                    + (f"<br>expected (Q_peak) = {bands.q_peak:.3f}" if bands else "")
                    + "<br><span style='color:#d62728'>%{customdata[3]}</span><extra></extra>"
                ),
            )
        )
    band = _band_lines(resolution, sigma)
    if selected is not None and selected in frame.index:
        fig.add_vline(x=frame.loc[selected, "label"], line={"color": "#444", "dash": "dash"})
    return _layout(
        fig,
        shapes=[*fig.layout.shapes, *band["shapes"]],
        annotations=band["annotations"],
        xaxis_title="Molecule",
        yaxis_title="Q-score",
        yaxis_range=[min(-0.1, float(np.nanmin(molecules["q"])) - 0.05), 1.0],
        xaxis={"type": "category", "tickangle": -45},
        clickmode="event+select",
        margin={"l": 60, "r": 120, "t": 50, "b": 110},
        height=440,
    )


def band_curve_traces(
    curves: pd.DataFrame,
    *,
    trace: type = go.Scatter,
    width: float = 2,
    hover: str = "{name} at %{x:.2f} Å: %{y:.3f}<extra></extra>",
) -> list:
    """Q_high_95% dotted, Q_peak solid and Q_low_95% dotted, as lines of ``trace`` over the
    frame of :func:`qscore.analysis.expected.expected_curves`; ``{name}`` in ``hover`` is the curve's."""
    return [
        trace(
            x=curves["resolution"],
            y=curves[column],
            mode="lines",
            name=name,
            line={"color": colour, "dash": dash, "width": width},
            hovertemplate=hover.replace("{name}", name),
        )
        for column, name, dash, colour in (
            ("q_high95", "Q_high_95%", "dot", BAND),
            ("q_peak", "Q_peak", "solid", PEAK),
            ("q_low95", "Q_low_95%", "dot", BAND),
        )
    ]


def _curve_traces(fig: go.Figure, sigma: float, lo: float, hi: float, **where) -> None:
    """Q_peak solid and the 95% curves dotted over ``[lo, hi]`` Å."""
    curves = expected_curves(np.linspace(lo, hi, 200), sigma)
    if curves["q_peak"].isna().all():
        return
    for trace in band_curve_traces(curves):
        fig.add_trace(trace, **where)


def archive_trace(
    reference: pd.DataFrame, *, color: str = ARCHIVE, hover: bool = True
) -> go.Scattergl:
    """The reference entries as a WebGL point cloud (Q against resolution), optionally hoverable."""
    points = {
        "x": reference["resolution"],
        "y": reference["qscore"],
        "mode": "markers",
        "name": f"EMDB entries ({len(reference):,})",
        "marker": {"color": color, "size": 4},
    }
    if hover:
        return go.Scattergl(
            **points,
            text=reference["id"],
            hovertemplate="%{text}<br>%{x:.2f} Å, Q %{y:.3f}<extra></extra>",
        )
    return go.Scattergl(**points, hoverinfo="skip")


def archive_density_traces(
    reference: pd.DataFrame, *, resolution_step: float = 0.1, q_step: float = 0.01
) -> list[go.BaseTraceType]:
    """The reference entries as a shaded density, and a legend entry for it.

    Entries are counted in cells of ``resolution_step`` Å by ``q_step`` in Q, centred on
    multiples of the steps; a cell is darker where more entries lie (on a log scale, so that a
    cell of one entry still shows).

    Drawn as one image, so it costs the browser a fraction of a point cloud of tens of thousands
    of entries; hovering a cell gives its count and place. Entries beyond
    ``DENSITY_MAX_RESOLUTION`` or with a Q outside [-1, 1] lie off the plot and are left out,
    which also bounds the grid whatever a table holds.
    """
    x = reference["resolution"].to_numpy(float)
    y = reference["qscore"].to_numpy(float)
    keep = (x >= 0) & (x <= DENSITY_MAX_RESOLUTION) & (y >= -1) & (y <= 1)
    x, y = x[keep], y[keep]
    name = f"EMDB entries ({len(reference):,}), shaded by count"
    if not len(x):
        return []
    # Cells centred on multiples of the step: a resolution reported as 3.0 Å lies mid-cell,
    # never on an edge where rounding would decide its cell.
    x_centres = np.arange(round(x.min() / resolution_step), round(x.max() / resolution_step) + 1)
    y_centres = np.arange(round(y.min() / q_step), round(y.max() / q_step) + 1)
    x_edges = (np.r_[x_centres, x_centres[-1] + 1] - 0.5) * resolution_step
    y_edges = (np.r_[y_centres, y_centres[-1] + 1] - 0.5) * q_step
    counts, _, _ = np.histogram2d(x, y, bins=[x_edges, y_edges])
    counts = counts.T
    shown = np.where(counts > 0, np.log1p(counts), np.nan)
    return [
        go.Heatmap(
            x=x_centres * resolution_step,
            y=y_centres * q_step,
            z=shown,
            customdata=counts.astype(int),
            colorscale=[[0.0, "rgb(222, 226, 233)"], [1.0, "rgb(55, 64, 82)"]],
            zmin=0.0,
            showscale=False,
            name=name,
            showlegend=False,
            legendgroup="archive",
            hovertemplate="%{customdata} EMDB entries<br>%{x:.2f} Å, Q %{y:.2f}<extra></extra>",
        ),
        go.Scatter(
            x=[None],
            y=[None],
            mode="markers",
            name=name,
            legendgroup="archive",
            marker={"symbol": "square", "size": 10, "color": "rgb(120, 129, 146)"},
        ),
    ]


def archive_figure(
    reference: pd.DataFrame,
    *,
    sigma: float = 0.4,
    model_q: float | None = None,
    resolution: float | None = None,
    label: str = "Your model",
    fits: pd.DataFrame | None = None,
    show_bands: bool = True,
    equation_1: bool = False,
    entries: str = "points",
) -> go.Figure:
    """Q-score against resolution for the reference entries (faint), the expected curves and,
    optionally, polynomial fits (one dashed line per degree), the paper's equation 1 and the
    user's model as a star.

    ``reference`` has columns ``id, resolution, qscore`` (Q-scores at sigma 0.4); ``fits`` is the
    output of :func:`qscore.analysis.archive.polynomial_fits`. At another ``sigma`` the entries
    are not drawn, since they do not compare with Q-scores at that sigma
    (:func:`qscore.analysis.context.archive_note` says so in words). ``entries`` is
    ``"points"`` (one hoverable WebGL point per entry) or ``"density"``
    (:func:`archive_density_traces`: quick to draw, no WebGL).
    """
    if entries not in ("points", "density"):
        raise ValueError(f"entries must be 'points' or 'density', not {entries!r}")
    fig = go.Figure()
    if archive_comparable(sigma):
        if entries == "points":
            fig.add_trace(archive_trace(reference))
        else:
            fig.add_traces(archive_density_traces(reference))
    lo = max(0.5, float(reference["resolution"].min())) if len(reference) else 1.0
    hi = min(12.0, float(reference["resolution"].max())) if len(reference) else 10.0
    lo, hi = min(lo, 1.0), max(hi, 10.0)
    if fits is not None:
        x = np.linspace(lo, hi, 200)
        for row in fits.itertuples():
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=np.polyval(row.coefficients, x),
                    mode="lines",
                    name=f"degree {row.degree} (R² {row.r2:.4f})",
                    line={"width": 2, "dash": "dash" if row.degree != 3 else "solid"},
                )
            )
    if equation_1:
        x = np.linspace(lo, hi, 200)
        fig.add_trace(
            go.Scatter(
                x=x,
                y=np.polyval(MEAN_COEFFICIENTS_04, x),
                mode="lines",
                name="equation 1 (paper)",
                line={"width": 3, "dash": "dot", "color": "black"},
            )
        )
    if show_bands:
        _curve_traces(fig, sigma, lo, hi)
    if model_q is not None and resolution is not None and math.isfinite(model_q):
        # Over a WebGL cloud only a WebGL star shows; without one, no WebGL at all, and the
        # label gets a contrasting halo over the dark cells (WebGL text has none).
        star, font = (
            (go.Scattergl, {"color": RED, "size": 13})
            if entries == "points"
            else (go.Scatter, {"color": RED, "size": 13, "shadow": "auto"})
        )
        fig.add_trace(
            star(
                x=[resolution],
                y=[model_q],
                mode="markers+text",
                name=label,
                text=[label],
                textposition="top right",
                textfont=font,
                marker={
                    "color": RED,
                    "size": 18,
                    "symbol": "star",
                    "line": {"color": "white", "width": 1.5},
                },
                hovertemplate=f"{label}<br>%{{x:.2f}} Å, Q %{{y:.3f}}<extra></extra>",
            )
        )
    return _layout(
        fig,
        xaxis_title="Reported resolution (Å)",
        yaxis_title="Q-score (model average)",
        xaxis_range=[0, hi + 0.3],
        yaxis_range=[-0.1, 1.05],
        height=480,
    )


def cross_validation_figure(folds: dict[int, pd.DataFrame]) -> go.Figure:
    """Held-out R² per fold for each polynomial degree (``folds``: degree → per-fold frame)."""
    fig = go.Figure()
    for degree, frame in sorted(folds.items()):
        fig.add_trace(
            go.Bar(
                x=[f"fold {k + 1}" for k in frame["fold"]],
                y=frame["r2"],
                name=f"degree {degree} (mean {frame['r2'].mean():.4f})",
            )
        )
    low = min(float(f["r2"].min()) for f in folds.values()) if folds else 0.0
    return _layout(
        fig,
        barmode="group",
        xaxis_title="Held-out fold (10% of entries)",
        yaxis_title="R² on held-out entries",
        yaxis_range=[max(0.0, low - 0.05), 1.0],
        height=400,
    )


def residual_figure(
    resolution: np.ndarray,
    residuals: np.ndarray,
    *,
    offsets: Sequence[tuple[str, float]] = (),
) -> go.Figure:
    """Residuals (Q − fitted curve) against resolution, with their histogram on the right."""
    fig = make_subplots(
        rows=1, cols=2, column_widths=[0.78, 0.22], shared_yaxes=True, horizontal_spacing=0.02
    )
    fig.add_trace(
        go.Scattergl(
            x=resolution,
            y=residuals,
            mode="markers",
            marker={"color": ARCHIVE, "size": 4},
            name="entries",
            hovertemplate="%{x:.2f} Å, residual %{y:.3f}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Histogram(y=residuals, nbinsy=80, marker={"color": BAND}, name="distribution"),
        row=1,
        col=2,
    )
    fig.add_hline(y=0, line={"color": "#333", "width": 1})
    for name, value in offsets:
        if value is not None and math.isfinite(value):
            fig.add_hline(
                y=value,
                line={"color": PEAK if "peak" in name.lower() else BAND, "dash": "dot"},
                annotation_text=f"{name} {value:+.3f}",
                annotation_position="top left",
            )
    fig.update_xaxes(title_text="Reported resolution (Å)", row=1, col=1)
    fig.update_xaxes(title_text="entries", row=1, col=2)
    fig.update_yaxes(title_text="Q − fitted curve", row=1, col=1)
    return _layout(fig, height=420, showlegend=False)


def window_figure(stats: pd.DataFrame, split: float = 5.0) -> go.Figure:
    """Entries per window (min / mean / max, log scale) and the Pearson correlation between
    Q_relative_resolution and resolution for each window size (paper Table 1, Fig. S5)."""
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("Entries in the window", "Correlation with resolution"),
        horizontal_spacing=0.12,
    )
    for column, name, dash in (
        ("entries_max", "maximum", "dot"),
        ("entries_mean", "mean", "solid"),
        ("entries_min", "minimum", "dash"),
    ):
        fig.add_trace(
            go.Scatter(
                x=stats["window"],
                y=stats[column],
                mode="lines+markers",
                name=f"{name} entries",
                line={"dash": dash, "color": PEAK},
            ),
            row=1,
            col=1,
        )
    for column, name, colour in (
        ("r_below_split", f"resolution < {split:g} Å", PEAK),
        ("r_from_split", f"resolution ≥ {split:g} Å", RED),
    ):
        fig.add_trace(
            go.Scatter(
                x=stats["window"],
                y=stats[column],
                mode="lines+markers",
                name=name,
                line={"color": colour},
            ),
            row=1,
            col=2,
        )
    fig.update_yaxes(type="log", title_text="#entries", row=1, col=1)
    fig.update_yaxes(title_text="Pearson r", range=[-1, 1], row=1, col=2)
    fig.update_xaxes(title_text="Window size w (Å)")
    return _layout(fig, height=420)


def verdict_word(code: str) -> str:
    """Readable verdict for a code from :func:`qscore.analysis.expected.verdict_codes`."""
    return VERDICT_WORDS.get(code, "")
