"""Plotly figures for teaching what a Q-score is and how to read it (no Streamlit).

The radial-profile figures plot the engine's own samples (:func:`qscore.engine.atom_samples`)
unchanged, so the Q recomputed from what is shown is the Q the engine reports. The density
pictures are maximum-intensity projections of a thin slab of the map around a group of atoms, in
the plane that best fits them: what a viewer would see looking straight at a side chain.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from scipy.spatial import cKDTree

from qscore.analysis.expected import ExpectedQ, expected_curves
from qscore.analysis.reference import ReferenceTable
from qscore.analysis.relative import EPSILON, RelativeQ
from qscore.engine import RadialSamples, overall_q
from qscore.io.maps import DensityMap, sample
from qscore.io.models import AtomModel
from qscore.plotting.colours import element_colour
from qscore.plotting.figures import BAND, PEAK, RED, archive_trace, band_curve_traces

ORANGE = "#e8770e"
SAMPLE = "#2b6cb0"
FIT = "#d62728"
VERDICT_COLOURS = {"below": RED, "typical": PEAK, "above": ORANGE, "": BAND}
DENSITY_SCALE = [
    [0.0, "#ffffff"],
    [0.3, "#deebf7"],
    [0.6, "#6baed6"],
    [0.85, "#2171b5"],
    [1.0, "#08306b"],
]
Q_SCALE = [[0.0, RED], [0.5, "#f7f7f7"], [1.0, PEAK]]
#: Bond length cut-off (Å) for drawing bonds between heavy atoms, and their colour.
BOND_CUTOFF = 1.9
BOND_COLOUR = "#333333"
#: The colour of a trace of one atom per residue (visible on dense, dark blue density).
TRACE_COLOUR = "#f28e2b"
#: Protein and nucleic-acid regions with more atoms than this are drawn as a trace of one
#: atom per residue, joined when closer than TRACE_BOND Å for that atom (consecutive CA are
#: 3.8 Å apart, P 6–7 Å).
TRACE_ABOVE = 30
TRACE_BOND = {"CA": 4.2, "P": 7.5, "C1'": 7.5, "C1": 7.5}
#: How far (Å) from a region's atoms its picture shows the map: the atoms' own density even
#: when they are a few Å off it, not the neighbours'.
REGION_REACH = 4.5


def _layout(fig: go.Figure, font_size: int, **extra) -> go.Figure:
    """Common look: white template, readable fonts, legend on top."""
    settings = {
        "template": "plotly_white",
        "font": {"family": "sans-serif", "size": font_size},
        "margin": {"l": 60, "r": 20, "t": 60, "b": 50},
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
    }
    fig.update_layout(**{**settings, **extra})
    return fig


# ---------------------------------------------------------------------------------------------
# Radial profile of one atom


def fit_reference(values: np.ndarray, reference: np.ndarray) -> tuple[float, float]:
    """Least-squares ``A, B`` so that ``A·reference + B`` best matches ``values``.

    Pearson's correlation ignores scale and offset, so this is only for drawing the reference
    Gaussian on the scale of the map values; it does not change Q.
    """
    design = np.column_stack([np.asarray(reference, float), np.ones(len(reference))])
    (a, b), *_ = np.linalg.lstsq(design, np.asarray(values, float), rcond=None)
    return float(a), float(b)


def radial_profile_figure(
    samples: RadialSamples,
    sigma: float,
    *,
    title: str = "",
    font_size: int = 14,
    height: int = 460,
) -> go.Figure:
    """Map value at every sample point against its distance from the atom, with the fitted
    reference Gaussian ``A·exp(−r²/2σ²) + B`` drawn over them.

    The first trace holds ``samples.radius`` and ``samples.values`` unchanged.
    """
    a, b = fit_reference(samples.values, samples.reference)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=samples.radius,
            y=samples.values,
            mode="markers",
            name=f"map value at a sample point ({samples.values.size} points)",
            marker={"color": SAMPLE, "size": 7, "opacity": 0.55, "line": {"width": 0}},
            hovertemplate="r = %{x:.2f} Å<br>map value %{y:.4g}<extra></extra>",
        )
    )
    top = max(float(np.max(samples.radius)), 2.0)
    r = np.linspace(0.0, top, 200)
    fig.add_trace(
        go.Scatter(
            x=r,
            y=a * np.exp(-0.5 * (r / sigma) ** 2) + b,
            mode="lines",
            name=f"reference Gaussian, σ = {sigma:g} Å (scaled: A·g + B)",
            line={"color": FIT, "width": 3},
            hoverinfo="skip",
        )
    )
    fig.add_annotation(
        x=0.98,
        y=0.95,
        xref="paper",
        yref="paper",
        xanchor="right",
        showarrow=False,
        text=f"<b>Q = {samples.q:.3f}</b>",
        font={"size": font_size + 8, "color": PEAK},
        bgcolor="rgba(255,255,255,0.8)",
    )
    fig.update_xaxes(title_text="distance from the atom centre (Å)", rangemode="tozero")
    fig.update_yaxes(title_text="map value")
    if not title:
        return _layout(fig, font_size, height=height)
    # The title takes the top, so the legend goes under the plot, where it cannot overlap it.
    return _layout(
        fig,
        font_size,
        title=title,
        height=height + 2 * font_size,
        margin={"l": 60, "r": 20, "t": 2 * font_size + 20, "b": 6 * font_size + 40},
        legend={"orientation": "h", "yanchor": "top", "y": -0.32, "x": 0},
    )


def sigma_sweep_figure(
    sigmas: Sequence[float],
    qs: Sequence[float],
    current: float | None = None,
    *,
    font_size: int = 14,
) -> go.Figure:
    """Q of one atom as the width of the reference Gaussian changes, the chosen sigma marked."""
    fig = go.Figure(
        go.Scatter(
            x=list(sigmas),
            y=list(qs),
            mode="lines+markers",
            name="Q at this sigma",
            line={"color": PEAK, "width": 3},
            hovertemplate="σ = %{x:.2f} Å<br>Q = %{y:.3f}<extra></extra>",
        )
    )
    if current is not None:
        at = int(np.argmin(np.abs(np.asarray(sigmas, float) - current)))
        fig.add_vline(x=current, line={"color": BAND, "dash": "dot"})
        fig.add_trace(
            go.Scatter(
                x=[sigmas[at]],
                y=[qs[at]],
                mode="markers",
                name="chosen sigma",
                marker={"color": FIT, "size": 14},
                hoverinfo="skip",
            )
        )
    fig.update_xaxes(title_text="sigma of the reference Gaussian (Å)")
    fig.update_yaxes(title_text="Q", range=[-0.2, 1.0])
    return _layout(fig, font_size, height=340, showlegend=False)


def sample_cloud_figure(
    samples: RadialSamples,
    model: AtomModel,
    *,
    neighbour_radius: float = 4.5,
    font_size: int = 14,
) -> go.Figure:
    """The sample points around the atom in 3D, coloured by radius, with the neighbouring atoms
    (element colours) and their bonds, so one sees why some shells have fewer points."""
    centre = model.xyz[samples.index]
    heavy = np.flatnonzero(~model.is_hydrogen)
    near = heavy[np.linalg.norm(model.xyz[heavy] - centre, axis=1) <= neighbour_radius]
    fig = go.Figure()
    for x, y, z in _bond_lines(model.xyz[near]):
        fig.add_trace(
            go.Scatter3d(
                x=x,
                y=y,
                z=z,
                mode="lines",
                line={"color": "#555555", "width": 6},
                hoverinfo="skip",
                showlegend=False,
            )
        )
    others = near[near != samples.index]
    fig.add_trace(
        go.Scatter3d(
            x=model.xyz[others, 0],
            y=model.xyz[others, 1],
            z=model.xyz[others, 2],
            mode="markers",
            name="neighbouring atoms",
            marker={
                "size": 9,
                "color": [element_colour(e) for e in model.element[others]],
                "line": {"color": "#222222", "width": 1},
            },
            text=[_atom_label(model, i) for i in others],
            hovertemplate="%{text}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter3d(
            x=samples.points[:, 0],
            y=samples.points[:, 1],
            z=samples.points[:, 2],
            mode="markers",
            name="sample points",
            marker={
                "size": 4,
                "color": samples.radius,
                "colorscale": "Viridis",
                "cmin": 0.0,
                "cmax": float(max(samples.radius.max(), 1e-6)),
                "colorbar": {"title": {"text": "radius (Å)"}, "len": 0.7},
            },
            customdata=np.column_stack([samples.radius, samples.values]),
            hovertemplate="r = %{customdata[0]:.2f} Å<br>map %{customdata[1]:.4g}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter3d(
            x=[centre[0]],
            y=[centre[1]],
            z=[centre[2]],
            mode="markers",
            name=_atom_label(model, samples.index),
            marker={
                "size": 14,
                "color": element_colour(model.element[samples.index]),
                "line": {"color": "#000000", "width": 2},
            },
            hovertemplate=f"{_atom_label(model, samples.index)}<extra></extra>",
        )
    )
    reach = max(float(samples.radius.max()), 1.0) + 1.2
    axes = {
        name: {"visible": False, "range": [centre[k] - reach, centre[k] + reach]}
        for k, name in enumerate(("xaxis", "yaxis", "zaxis"))
    }
    return _layout(
        fig,
        font_size,
        height=520,
        margin={"l": 0, "r": 0, "t": 30, "b": 0},
        scene={**axes, "aspectmode": "cube", "camera": {"eye": {"x": 1.1, "y": 1.1, "z": 0.7}}},
    )


def _atom_label(model: AtomModel, index: int) -> str:
    return (
        f"{model.chain[index]} {model.resseq[index]}{model.icode[index]} "
        f"{model.resname[index]} {model.name[index]}"
    )


def _bonded_pairs(xyz: np.ndarray, cutoff: float = BOND_CUTOFF) -> list[tuple[int, int]]:
    """Index pairs ``(i, j)``, ``i < j``, of the atoms in ``xyz`` within ``cutoff`` Å (bond
    length by default)."""
    d = np.linalg.norm(xyz[:, None, :] - xyz[None, :, :], axis=2)
    i, j = np.nonzero(np.triu((d > 0.1) & (d <= cutoff), k=1))
    return list(zip(i.tolist(), j.tolist(), strict=True))


def _polyline(points: np.ndarray, pairs: Sequence[tuple[int, int]]) -> tuple[list, ...]:
    """One coordinate list per column of ``points`` drawing each pair as a segment (segments
    separated by None), for a single Plotly line trace."""
    coords: tuple[list[float | None], ...] = tuple([] for _ in range(points.shape[1]))
    for a, b in pairs:
        for k, values in enumerate(coords):
            values.extend([float(points[a, k]), float(points[b, k]), None])
    return coords


def _bond_lines(xyz: np.ndarray) -> list[tuple[list[float | None], ...]]:
    """One polyline (x, y, z lists separated by None) of all bonds among ``xyz``."""
    pairs = _bonded_pairs(xyz)
    return [_polyline(xyz, pairs)] if pairs else []


# ---------------------------------------------------------------------------------------------
# Expected Q and the archive


def bands_figure(
    resolution: float,
    expected: ExpectedQ | None,
    *,
    sigma: float = 0.4,
    reference: ReferenceTable | None = None,
    point: tuple[float, float] | None = None,
    point_name: str = "your model",
    font_size: int = 14,
) -> go.Figure:
    """Q_peak and the 95% band against resolution (eq. 1–4), the archive behind them, the
    values at ``resolution`` marked and labelled, and optionally one model as a star at
    ``point`` = (resolution, Q). Every trace is WebGL so that drawing order is trace order and
    the archive cloud cannot cover the curves or the star."""
    fig = go.Figure()
    if reference is not None:
        fig.add_trace(archive_trace(reference.data, color="rgba(90, 100, 120, 0.09)", hover=False))
    for trace in band_curve_traces(
        expected_curves(np.linspace(1.0, 10.0, 181), sigma),
        trace=go.Scattergl,
        width=3,
        hover="{name} %{y:.3f} at %{x:.2f} Å<extra></extra>",
    ):
        fig.add_trace(trace)
    fig.add_vline(x=resolution, line={"color": "#333333", "width": 1.5, "dash": "dash"})
    if expected is not None:
        values = [expected.q_high95, expected.q_peak, expected.q_low95]
        fig.add_trace(
            go.Scattergl(
                x=[resolution] * 3,
                y=values,
                mode="markers",
                marker={"color": [BAND, PEAK, BAND], "size": 11},
                showlegend=False,
                hoverinfo="skip",
            )
        )
        for value, colour in zip(values, (BAND, PEAK, BAND), strict=True):
            fig.add_annotation(
                x=resolution,
                y=value,
                text=f"<b>{value:.2f}</b>",
                showarrow=False,
                xanchor="left",
                xshift=10,
                font={"size": font_size + 2, "color": colour},
                bgcolor="rgba(255,255,255,0.85)",
            )
    if point is not None and all(math.isfinite(v) for v in point):
        fig.add_trace(
            go.Scattergl(
                x=[point[0]],
                y=[point[1]],
                mode="markers",
                name=point_name,
                marker={
                    "color": FIT,
                    "size": 22,
                    "symbol": "star",
                    "line": {"color": "white", "width": 1.5},
                },
            )
        )
    fig.update_xaxes(title_text="reported resolution d (Å)", range=[0.8, 10.2])
    fig.update_yaxes(title_text="Q-score (model average)", range=[-0.05, 1.05])
    return _layout(fig, font_size, height=460)


def band_gauge_figure(
    q: float, expected: ExpectedQ | None, verdict_code: str = "", *, font_size: int = 14
) -> go.Figure:
    """A one-line gauge: the 95% band as a shaded bar, Q_peak as a line and Q as a big dot."""
    fig = go.Figure()
    if expected is not None:
        fig.add_shape(
            type="rect",
            x0=expected.q_low95,
            x1=expected.q_high95,
            y0=-0.5,
            y1=0.5,
            fillcolor="rgba(31, 95, 168, 0.15)",
            line={"width": 0},
        )
        fig.add_shape(
            type="line",
            x0=expected.q_peak,
            x1=expected.q_peak,
            y0=-0.6,
            y1=0.6,
            line={"color": PEAK, "width": 3},
        )
        fig.add_annotation(
            x=expected.q_peak,
            y=0.62,
            text="Q_peak",
            showarrow=False,
            yanchor="bottom",
            font={"size": font_size - 2, "color": PEAK},
        )
    fig.add_trace(
        go.Scatter(
            x=[q],
            y=[0],
            mode="markers",
            marker={
                "color": VERDICT_COLOURS.get(verdict_code, BAND),
                "size": 20,
                "line": {"color": "white", "width": 2},
            },
            hovertemplate="model Q %{x:.3f}<extra></extra>",
            showlegend=False,
        )
    )
    fig.add_annotation(
        x=q,
        y=-0.62,
        text=f"<b>{q:.3f}</b>",
        showarrow=False,
        yanchor="top",
        font={"size": font_size + 2, "color": VERDICT_COLOURS.get(verdict_code, BAND)},
    )
    fig.update_xaxes(range=[0, 1], dtick=0.2, title_text="Q (band: 95% of EMDB entries)")
    fig.update_yaxes(visible=False, range=[-1.5, 1.2])
    return _layout(fig, font_size, height=170, margin={"l": 20, "r": 20, "t": 10, "b": 45})


def relative_histogram_figure(
    reference: ReferenceTable, relative: RelativeQ, *, font_size: int = 14
) -> go.Figure:
    """Archive Q-scores within the resolution window as a histogram, split at Q: the share left
    of the marker is Q_relative_resolution (eq. 7)."""
    data = reference.data
    res = data["resolution"].to_numpy(float)
    qs = data["qscore"].to_numpy(float)
    inside = qs[np.abs(res - relative.resolution) <= relative.window + EPSILON]
    bins = {"start": -0.1, "end": 1.0, "size": 0.02}
    fig = go.Figure()
    for chosen, name, colour in (
        (inside[inside < relative.q], "entries with a lower Q", PEAK),
        (inside[inside >= relative.q], "entries with the same or a higher Q", "#b8c2d1"),
    ):
        fig.add_trace(
            go.Histogram(
                x=chosen, xbins=bins, name=f"{name} ({chosen.size:,})", marker_color=colour
            )
        )
    fig.add_vline(x=relative.q, line={"color": FIT, "width": 3})
    share = relative.q_relative_resolution
    text = "no entries in the window" if share is None else f"{share:.1f}% lower"
    fig.add_annotation(
        x=relative.q,
        y=1.0,
        yref="paper",
        text=f"<b>Q = {relative.q:.2f}</b>: {text}",
        showarrow=False,
        xanchor="left",
        xshift=6,
        font={"size": font_size + 2, "color": FIT},
        bgcolor="rgba(255,255,255,0.85)",
    )
    fig.update_layout(barmode="stack", bargap=0.05)
    fig.update_xaxes(title_text="Q-score of archive entries", range=[-0.1, 1.0])
    fig.update_yaxes(title_text="number of entries")
    return _layout(
        fig,
        font_size,
        height=420,
        title=(
            f"EMDB entries at {relative.resolution - relative.window:.2f}–"
            f"{relative.resolution + relative.window:.2f} Å ({relative.entries_window:,})"
        ),
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0},
        margin={"l": 60, "r": 20, "t": 100, "b": 50},
    )


def b_from_q_figure(f: float, q: float | None = None, *, font_size: int = 14) -> go.Figure:
    """Equation 5, B = f·(1 − Q), as a line for the chosen scale factor f."""
    qs = np.linspace(0.0, 1.0, 101)
    fig = go.Figure(
        go.Scatter(
            x=qs,
            y=f * (1.0 - qs),
            mode="lines",
            line={"color": PEAK, "width": 3},
            name=f"f = {f:g} Å²",
            hovertemplate="Q %{x:.2f} → B %{y:.0f} Å²<extra></extra>",
        )
    )
    if q is not None and math.isfinite(q):
        fig.add_trace(
            go.Scatter(
                x=[q],
                y=[f * (1.0 - q)],
                mode="markers+text",
                text=[f"B = {f * (1.0 - q):.0f} Å²"],
                textposition="top right",
                marker={"color": FIT, "size": 14},
                showlegend=False,
            )
        )
    fig.update_xaxes(title_text="atom Q", range=[0, 1])
    fig.update_yaxes(title_text="B-factor (Å²)", range=[0, 310])
    return _layout(fig, font_size, height=320, showlegend=False)


# ---------------------------------------------------------------------------------------------
# Density around a group of atoms


@dataclass(frozen=True)
class Frame:
    """A viewing plane: its centre (Å), two in-plane unit axes and the normal."""

    centre: np.ndarray
    u: np.ndarray
    v: np.ndarray
    normal: np.ndarray


@dataclass(frozen=True)
class SlabPanel:
    """A projected density image and the atoms drawn on it."""

    title: str
    u: np.ndarray
    v: np.ndarray
    image: np.ndarray
    atom_uv: np.ndarray
    atom_names: np.ndarray
    atom_elements: np.ndarray
    atom_q: np.ndarray | None
    bonds: list[tuple[int, int]]
    bond_colour: str = BOND_COLOUR


def best_plane(xyz: np.ndarray) -> Frame:
    """The plane through ``xyz`` that holds most of their spread (principal axes)."""
    pts = np.asarray(xyz, float).reshape(-1, 3)
    centre = pts.mean(axis=0)
    if len(pts) < 3:
        direction = pts[-1] - pts[0] if len(pts) == 2 else np.array([1.0, 0.0, 0.0])
        u = direction / (np.linalg.norm(direction) or 1.0)
        helper = np.array([0.0, 0.0, 1.0]) if abs(u[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
        normal = np.cross(u, helper)
        normal /= np.linalg.norm(normal)
        return Frame(centre, u, np.cross(normal, u), normal)
    _, _, vt = np.linalg.svd(pts - centre)
    return Frame(centre, vt[0], vt[1], vt[2])


def slab_bounds(
    uv: np.ndarray, margin: float = 2.5, aspect: float = 0.8
) -> tuple[np.ndarray, np.ndarray]:
    """Picture corners (u, v) around projected atoms plus a margin, the shorter side widened to
    at least ``aspect`` times the longer so that the surroundings stay in view."""
    lo = uv.min(axis=0) - margin
    hi = uv.max(axis=0) + margin
    span = hi - lo
    short = int(np.argmin(span))
    grow = max(aspect * span.max() - span[short], 0.0) / 2
    lo[short] -= grow
    hi[short] += grow
    return lo, hi


def density_slab(
    dmap: DensityMap,
    xyz: np.ndarray,
    *,
    title: str = "",
    names: Sequence[str] = (),
    elements: Sequence[str] = (),
    atom_q: np.ndarray | None = None,
    frame: Frame | None = None,
    margin: float = 2.5,
    step: float = 0.15,
    depth: float = 0.8,
    layers: int = 9,
    bounds: tuple[np.ndarray, np.ndarray] | None = None,
    top: float | None = None,
    around: np.ndarray | None = None,
    reach: float = 6.0,
    bond_cutoff: float = BOND_CUTOFF,
) -> SlabPanel:
    """The map around ``xyz`` seen face on: the largest value over a slab ``±depth`` Å thick
    around the plane, scaled from 0 (the map's mean) to 1 (``top``, by default the median value
    at the atoms, and above), so that atoms as well resolved as the typical atom of the group
    look solid. Give ``top`` (e.g. :func:`map_top` of the whole model) to keep weak density
    weak. With ``around`` (atom coordinates), only the map within ``reach`` Å of those atoms
    counts, so that the density of other parts of the model does not cover the picture; atoms
    closer than ``bond_cutoff`` Å are joined."""
    pts = np.asarray(xyz, float).reshape(-1, 3)
    frame = frame or best_plane(pts)
    rel = pts - frame.centre
    atom_uv = np.column_stack([rel @ frame.u, rel @ frame.v])
    lo, hi = slab_bounds(atom_uv, margin) if bounds is None else bounds
    us = np.arange(lo[0], hi[0] + step / 2, step)
    vs = np.arange(lo[1], hi[1] + step / 2, step)
    ts = np.linspace(-depth, depth, layers)
    grid = (
        frame.centre
        + us[None, None, :, None] * frame.u
        + vs[None, :, None, None] * frame.v
        + ts[:, None, None, None] * frame.normal
    )
    flat = grid.reshape(-1, 3)
    values = sample(dmap, flat)
    floor = float(np.mean(dmap.values))
    if around is not None:
        distance, _ = cKDTree(np.asarray(around, float).reshape(-1, 3)).query(
            flat, distance_upper_bound=reach
        )
        values = np.where(np.isfinite(distance), values, floor)
    values = values.reshape(len(ts), len(vs), len(us)).max(axis=0)
    top = float(np.median(sample(dmap, pts))) if top is None else float(top)
    image = np.clip((values - floor) / (top - floor), 0.0, 1.0) if top > floor else values * 0
    return SlabPanel(
        title=title,
        u=us,
        v=vs,
        image=image,
        atom_uv=atom_uv,
        atom_names=np.asarray(names if len(names) else [""] * len(pts), dtype=object),
        atom_elements=np.asarray(elements if len(elements) else ["C"] * len(pts), dtype=object),
        atom_q=None if atom_q is None else np.asarray(atom_q, float),
        bonds=_bonded_pairs(pts, bond_cutoff),
        bond_colour=BOND_COLOUR if bond_cutoff == BOND_CUTOFF else TRACE_COLOUR,
    )


def slab_figure(
    panels: Sequence[SlabPanel],
    *,
    height: int = 380,
    q_top: float = 1.0,
    font_size: int = 14,
    density_scale: bool = True,
) -> go.Figure:
    """Density pictures side by side with the atoms and bonds drawn on them; atoms are coloured
    by their Q-score when the panel has one (red 0 → white → blue ``q_top``, e.g. Q_peak),
    else by element. ``density_scale=False`` leaves out the density colour bar (for narrow
    places)."""
    fig = make_subplots(
        rows=1,
        cols=len(panels),
        subplot_titles=[p.title for p in panels],
        horizontal_spacing=0.03,
    )
    coloured_by_q = any(p.atom_q is not None for p in panels)
    for col, panel in enumerate(panels, start=1):
        fig.add_trace(
            go.Heatmap(
                x=panel.u,
                y=panel.v,
                z=panel.image,
                coloraxis="coloraxis",
                hoverinfo="skip",
            ),
            row=1,
            col=col,
        )
        xs, ys = _polyline(panel.atom_uv, panel.bonds)
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                line={"color": panel.bond_colour, "width": 3},
                hoverinfo="skip",
                showlegend=False,
            ),
            row=1,
            col=col,
        )
        fig.add_trace(_atom_markers(panel, coloured_by_q, col == 1, q_top), row=1, col=col)
        fig.update_xaxes(visible=False, row=1, col=col)
        fig.update_yaxes(visible=False, scaleanchor=f"x{col if col > 1 else ''}", row=1, col=col)
    fig.update_annotations(font={"size": font_size + 1})
    lines = max((p.title.count("<br>") + 1 for p in panels if p.title), default=0)
    return _layout(
        fig,
        font_size,
        height=height,
        margin={
            "l": 10,
            "r": 40 if density_scale else 10,
            "t": 16 + int(lines * (font_size + 1) * 1.45),
            "b": 10,
        },
        showlegend=False,
        coloraxis={
            "colorscale": DENSITY_SCALE,
            "cmin": 0.0,
            "cmax": 1.0,
            "showscale": density_scale,
            "colorbar": {"title": {"text": "density"}, "len": 0.8, "x": 1.02},
        },
    )


def _atom_markers(
    panel: SlabPanel, coloured_by_q: bool, show_scale: bool, q_top: float
) -> go.Scatter:
    if coloured_by_q and panel.atom_q is not None:
        marker = {
            "size": 13,
            "color": panel.atom_q,
            "colorscale": Q_SCALE,
            "cmin": 0.0,
            "cmax": q_top,
            "line": {"color": "#ffffff", "width": 2},
            "showscale": show_scale,
            "colorbar": {"title": {"text": "atom Q"}, "len": 0.8, "x": 1.1},
        }
        text = [f"{n}: Q {q:.2f}" for n, q in zip(panel.atom_names, panel.atom_q, strict=True)]
    else:
        marker = {
            "size": 11,
            "color": [element_colour(e) for e in panel.atom_elements],
            "line": {"color": "#ffffff", "width": 2},
        }
        text = [str(n) for n in panel.atom_names]
    return go.Scatter(
        x=panel.atom_uv[:, 0],
        y=panel.atom_uv[:, 1],
        mode="markers",
        marker=marker,
        text=text,
        hovertemplate="%{text}<extra></extra>",
        showlegend=False,
    )


def showcase_residue(model: AtomModel, q: np.ndarray) -> int:
    """Row of ``model.residues`` to show on the resolvability ladder: the best-scoring aromatic
    residue (big, flat side chains show the loss of detail best), else the best protein one."""
    residues = model.residues
    means = np.array(
        [
            np.nanmean(q[start:stop]) if stop > start else np.nan
            for start, stop in zip(residues["start"], residues["stop"], strict=True)
        ]
    )
    for names in (("TRP", "TYR", "PHE"), None):
        mask = residues["kind"].to_numpy() == "protein"
        if names is not None:
            mask &= residues["resname"].isin(names).to_numpy()
        mask &= np.isfinite(means)
        if mask.any():
            rows = np.flatnonzero(mask)
            return int(rows[np.argmax(means[rows])])
    return 0


def find_residue(model: AtomModel, chain: str, resseq: int, icode: str = "") -> int | None:
    """Row of ``model.residues`` with this chain, number and insertion code, or None."""
    residues = model.residues
    match = np.flatnonzero(
        (residues["chain"].to_numpy() == chain)
        & (residues["resseq"].to_numpy() == resseq)
        & (residues["icode"].to_numpy() == icode)
    )
    return int(match[0]) if match.size else None


def ligand_atoms(model: AtomModel, chain: str | None = None) -> np.ndarray:
    """Heavy atoms of the model's ligands (only chain ``chain`` if given)."""
    mask = (model.kind == "ligand") & ~model.is_hydrogen
    if chain is not None:
        mask &= model.chain == chain
    return np.flatnonzero(mask)


def group_panel(
    dmap: DensityMap,
    model: AtomModel,
    atoms: np.ndarray,
    *,
    title: str,
    q: np.ndarray | None = None,
    frame: Frame | None = None,
    bounds: tuple[np.ndarray, np.ndarray] | None = None,
    top: float | None = None,
    depth: float = 0.8,
    around: np.ndarray | None = None,
    reach: float = 6.0,
    bond_cutoff: float = BOND_CUTOFF,
) -> SlabPanel:
    """The density around a group of atoms of ``model`` (atoms coloured by ``q`` if given);
    ``around``, ``reach`` and ``bond_cutoff`` as in :func:`density_slab`."""
    return density_slab(
        dmap,
        model.xyz[atoms],
        title=title,
        names=[str(n) for n in model.name[atoms]],
        elements=[str(e) for e in model.element[atoms]],
        atom_q=None if q is None else q[atoms],
        frame=frame,
        bounds=bounds,
        top=top,
        depth=depth,
        layers=max(9, int(round(depth / 0.2)) * 2 + 1),
        around=around,
        reach=reach,
        bond_cutoff=bond_cutoff,
    )


def pose_panels(
    poses: dict[str, tuple[DensityMap, AtomModel, np.ndarray]],
    chain: str | None = None,
    *,
    scores: bool = True,
) -> list[SlabPanel]:
    """Alternative poses of a ligand in the same map, seen from the same side over the same
    area, atoms coloured by Q and titles carrying the ligand's mean Q (with ``scores=False``:
    atoms coloured by element, titles only the poses' names)."""
    first_map, first_model, _ = next(iter(poses.values()))
    frame = best_plane(first_model.xyz[ligand_atoms(first_model, chain)])
    projected = []
    for _, model, _ in poses.values():
        rel = model.xyz[ligand_atoms(model, chain)] - frame.centre
        projected.append(np.column_stack([rel @ frame.u, rel @ frame.v]))
    bounds = slab_bounds(np.concatenate(projected))
    panels = []
    for name, (dmap, model, q) in poses.items():
        atoms = ligand_atoms(model, chain)
        title = f"{name} · ligand Q {float(np.nanmean(q[atoms])):.2f}" if scores else name
        panels.append(
            group_panel(
                dmap,
                model,
                atoms,
                title=title,
                q=q if scores else None,
                frame=frame,
                bounds=bounds,
                top=map_top(dmap, model),
            )
        )
    return panels


def ladder_panels(
    items: Sequence[tuple[float, DensityMap, AtomModel, np.ndarray]],
) -> list[SlabPanel]:
    """The same residue in maps of several resolutions, seen from the same side (Fig. 1 b–i).

    ``items`` are (resolution, map, model, per-atom Q); the residue is picked on the first item
    with :func:`showcase_residue` and looked up by chain and number in the others. Titles are
    short lines (resolution, Q_residue, Q_model) so that four panels fit side by side; the
    residue's name is :func:`ladder_residue`'s.
    """
    _, _, first_model, first_q = items[0]
    row = showcase_residue(first_model, first_q)
    chosen = first_model.residues.iloc[row]
    frame = best_plane(first_model.xyz[first_model.residue_atoms(row)])
    panels = []
    for resolution, dmap, model, q in items:
        found = find_residue(model, chosen["chain"], int(chosen["resseq"]), chosen["icode"])
        if found is None:
            continue
        atoms = model.residue_atoms(found)
        q_residue = float(np.nanmean(q[atoms]))
        q_model = overall_q(q, model.heavy)
        title = f"<b>{resolution:g} Å</b><br>Q_residue {q_residue:.2f}<br>Q_model {q_model:.2f}"
        panels.append(group_panel(dmap, model, atoms, title=title, frame=frame))
    return panels


def ladder_residue(model: AtomModel, q: np.ndarray) -> tuple[str, int, str]:
    """(chain, number, name) of the residue the ladder shows (:func:`showcase_residue`)."""
    row = model.residues.iloc[showcase_residue(model, q)]
    return str(row["chain"]), int(row["resseq"]), str(row["resname"])


def map_top(dmap: DensityMap, model: AtomModel) -> float:
    """The median map value at the model's scored atoms: the value a typical atom of this
    map reaches, so that pictures scaled to it show weak parts as weak."""
    return float(np.median(sample(dmap, model.xyz[model.heavy])))


def region_atoms(model: AtomModel, chain: str, resseq: Sequence[int] = ()) -> np.ndarray:
    """Scored atoms of one chain, or of some of its residues."""
    mask = model.heavy & (model.chain == chain)
    if len(resseq):
        mask &= np.isin(model.resseq, list(resseq))
    return np.flatnonzero(mask)


def _region_depth(xyz: np.ndarray) -> float:
    """Half-thickness (Å) of a slab that holds a group of atoms seen face on, plus 1 Å."""
    frame = best_plane(xyz)
    spread = np.abs((xyz - frame.centre) @ frame.normal)
    return float(np.clip(spread.max() + 1.0, 0.8, 6.0))


def evidence_panels(
    dmap: DensityMap,
    model: AtomModel,
    *,
    regions: Sequence[tuple[str, np.ndarray]] = (),
    showcase: tuple[str, int] | None = None,
    references: Sequence[tuple[str, DensityMap, AtomModel]] = (),
) -> list[SlabPanel]:
    """What a class looks at before it sees any score: the density around atoms, drawn by
    element, each map scaled to its own typical atom (:func:`map_top`).

    Parameters
    ----------
    dmap, model
        The scenario's map and model.
    regions
        (title, atom indices) of parts of the model to show, each in the plane that best fits
        it, in a slab thick enough to hold all its atoms.
    showcase
        (chain, residue number) of a residue to show first, ...
    references
        ... beside the same residue in other maps of the same protein: (title, map, model).

    Returns
    -------
    list of SlabPanel
        For :func:`slab_figure`.
    """
    panels = []
    row = find_residue(model, *showcase) if showcase is not None else None
    if row is not None and showcase is not None:
        atoms = model.residue_atoms(row)
        frame = best_plane(model.xyz[atoms])
        name = f"{model.resname[atoms[0]]} {showcase[0]}{showcase[1]}"
        panels.append(group_panel(dmap, model, atoms, title=f"this map<br>{name}", frame=frame))
        for title, other_map, other in references:
            found = find_residue(other, *showcase)
            if found is not None:
                panels.append(
                    group_panel(
                        other_map,
                        other,
                        other.residue_atoms(found),
                        title=title,
                        frame=frame,
                    )
                )
    top = map_top(dmap, model)
    for title, atoms in regions:
        if not len(atoms):
            continue
        xyz = model.xyz[atoms]
        names = model.name[atoms]
        kind = next((n for n in PREFERRED_ATOMS if np.count_nonzero(names == n) > 1), None)
        trace = atoms[names == kind] if kind else atoms[:0]
        chain_like = np.isin(model.kind[atoms], ("protein", "nucleic")).all()
        many = chain_like and len(atoms) > TRACE_ABOVE and len(trace) > 1
        panels.append(
            group_panel(
                dmap,
                model,
                trace if many else atoms,
                title=title,
                top=top,
                frame=best_plane(xyz),
                bounds=slab_bounds(_projected(xyz, best_plane(xyz))),
                depth=_region_depth(xyz),
                around=xyz,
                reach=REGION_REACH,
                bond_cutoff=TRACE_BOND[kind] if many and kind else BOND_CUTOFF,
            )
        )
    return panels


def _projected(xyz: np.ndarray, frame: Frame) -> np.ndarray:
    rel = np.asarray(xyz, float) - frame.centre
    return np.column_stack([rel @ frame.u, rel @ frame.v])


#: Atom names that stand for a residue in teaching pictures, in order of preference.
PREFERRED_ATOMS = ("CA", "P", "C1'", "C1")


def contrast_atoms(model: AtomModel, q: np.ndarray) -> tuple[int, int] | None:
    """A well resolved and a poorly resolved atom to show side by side: among the atoms that
    stand for their residue (:data:`PREFERRED_ATOMS`), the one with the highest Q and the one
    with the lowest Q that is not negative (weak density rather than density elsewhere; the
    lowest of all when every low one is negative). None when fewer than two are scored."""
    q = np.asarray(q, dtype=float)
    candidates = np.flatnonzero(model.heavy & np.isin(model.name, PREFERRED_ATOMS) & np.isfinite(q))
    if candidates.size < 2:
        candidates = np.flatnonzero(model.heavy & np.isfinite(q))
    if candidates.size < 2:
        return None
    good = int(candidates[np.argmax(q[candidates])])
    weak = candidates[q[candidates] >= 0.0]
    pool = weak if weak.size and weak.size < candidates.size else candidates
    poor = int(pool[np.argmin(q[pool])])
    return (good, poor) if good != poor else None


def enlarge(fig: go.Figure, font_size: int, *, height_factor: float = 1.25) -> go.Figure:
    """A figure made for a screen, readable on a projector: every font ``font_size − base``
    points larger (base: the figure's font size), markers and the height scaled with it."""
    base = fig.layout.font.size or 13
    step = font_size - base
    if step <= 0:
        return fig
    scale = font_size / base
    for annotation in fig.layout.annotations:
        if annotation.font.size:
            annotation.font.size += step
    for trace in fig.data:
        textfont = getattr(trace, "textfont", None)
        if textfont is not None and textfont.size:
            textfont.size += step
        marker = getattr(trace, "marker", None)
        if marker is not None and isinstance(marker.size, (int, float)):
            marker.size = marker.size * scale
    fig.update_layout(font={"size": font_size})
    if fig.layout.title.font.size:
        fig.update_layout(title_font_size=fig.layout.title.font.size + step)
    if fig.layout.height:
        fig.update_layout(height=int(fig.layout.height * height_factor))
    return fig
