"""3D residue view: a JSON scene of the atoms around a residue and its density, and the
self-contained 3Dmol.js page that draws it.

Pure functions (no Streamlit). Design points:

* Colour scale (paper Fig. 3d): red at Q ≤ 0, white at Q_peak / 2, blue at Q ≥ Q_peak, drawn on a
  dark background (like Coot, ChimeraX and PyMOL) so that white is visible. The cartoon is coloured
  per residue through a discrete map on the B-factor column (a colour level), the sticks per atom
  from the same levels, so 3D colours and the legend come from one Python function.
* A residue view holds only what can be seen at that zoom: the residues within
  :data:`CONTEXT_RADIUS` Å of the selected one (whole residues, so the cartoon is continuous),
  whatever the model's size, and the map cropped to the residue plus :data:`DENSITY_MARGIN` Å.
  The whole-model view of a large model keeps one trace atom per residue.
* Everything the viewer offers (contour, mesh, neighbour distance, waters, ions) is decided in the
  browser from the scene: moving the contour slider never talks to the server. The density is
  sent in σ units shifted by :data:`SIGMA_OFFSET` (3Dmol.js flips negative iso-values) and
  rounded to 1/64 σ before gzip, which compresses it several-fold.
* Strings from files reach the page only inside JSON (``json.dumps``, ``<`` ``>`` ``&`` escaped), are
  quoted as mmCIF tokens, and are shown with ``textContent`` or canvas labels, never as HTML.
* A second model and a second map can be drawn over the first (the Compare page,
  :class:`Overlay`): the model's atoms in :data:`OVERLAY_COLOUR`, the map's mesh in
  :data:`OVERLAY_MESH` at the same σ level as the first map's (each in its own σ).
* 3Dmol.js is loaded from ``js_url`` (served locally), never from a CDN. The CCP4 header places
  the box as 3Dmol.js reads it: it adds ORIGIN to NSTART *in grid units*, so NSTART holds the
  integer part of origin / voxel and ORIGIN the remainder.
"""

from __future__ import annotations

import base64
import gzip
import html
import json
import math
import re
from dataclasses import dataclass

import numpy as np

from qscore.analysis.contour import ContourChoice, MapStats
from qscore.io.maps import DensityMap, crop_map
from qscore.io.models import AtomModel

#: Where Streamlit's static file server exposes the locally installed 3Dmol.js.
JS_URL = "/app/static/vendor/3Dmol-min.js"
#: Number of colour steps of the residue colouring (plus one for residues without Q).
LEVELS = 32
NO_Q_COLOUR = "#b0b0b0"
RED = np.array([215, 48, 39], dtype=float)
WHITE = np.array([247, 247, 247], dtype=float)
BLUE = np.array([33, 102, 172], dtype=float)
BACKGROUND = "#3a3d44"
MESH_COLOUR = "#8fd18f"
#: Colours of a second model and of a second map's mesh drawn over the first.
OVERLAY_COLOUR = "#ff5ccf"
OVERLAY_MESH = "#ffa640"
#: Residues with an atom within this distance (Å) of the selected residue are in its scene.
CONTEXT_RADIUS = 16.0
#: Margin (Å) of the density box around the selected residue.
DENSITY_MARGIN = 6.0
#: The mesh is drawn within this distance (Å) of the selected residue's atoms.
MESH_ZONE = 3.0
#: Default distance (Å) within which neighbouring atoms are drawn as thin sticks.
NEIGHBOUR_RADIUS = 5.0
#: Above this many heavy atoms the whole-model view keeps one trace atom per residue.
OVERVIEW_MAX_ATOMS = 20000
#: Density is sent as σ + SIGMA_OFFSET (clipped at 0), so every slider level is positive.
SIGMA_OFFSET = 3.0
#: Range of the contour slider, in σ above the mean.
SLIDER_SIGMA = (-2.0, 12.0)
KIND_CODES = {"protein": 0, "nucleic": 0, "ligand": 1, "glycan": 1, "water": 2, "ion": 3}
TRACE_ATOMS = ("CA", "P")


def colour_rgb(q: np.ndarray, q_peak: float) -> np.ndarray:
    """(n, 3) RGB in 0–255 on the red (Q ≤ 0) → white (Q_peak/2) → blue (Q ≥ Q_peak) scale."""
    t = np.clip(np.asarray(q, dtype=float) / max(q_peak, 1e-6), 0.0, 1.0)
    t = np.where(np.isfinite(t), t, 0.5)[..., None]
    lower = RED + (WHITE - RED) * (t / 0.5)
    upper = WHITE + (BLUE - WHITE) * ((t - 0.5) / 0.5)
    return np.where(t < 0.5, lower, upper)


def colour_hex(q: float | np.ndarray, q_peak: float) -> list[str]:
    """Hex colours of Q values on the scale of :func:`colour_rgb` (grey for NaN)."""
    values = np.atleast_1d(np.asarray(q, dtype=float))
    rgb = np.rint(colour_rgb(values, q_peak)).astype(int)
    return [
        NO_Q_COLOUR if not math.isfinite(v) else "#{:02x}{:02x}{:02x}".format(*c)
        for v, c in zip(values, rgb, strict=True)
    ]


def scale_top(residue_q: np.ndarray, resolution: float | None, sigma: float) -> tuple[float, str]:
    """Q at which the colour scale turns fully blue, and a phrase saying why: Q_peak at the
    resolution, or the 95th percentile of residue Q when there are no bands (no resolution, or
    a sigma without expected values)."""
    from qscore.analysis.expected import expected_q

    bands = expected_q(resolution, sigma) if resolution else None
    if bands is not None:
        return float(bands.q_peak), f"Q_peak at {resolution:g} Å"
    values = np.asarray(residue_q, dtype=float)
    top = float(np.nanpercentile(values, 95)) if np.isfinite(values).any() else 1.0
    return max(top, 0.05), "95th percentile of residue Q (no expected Q-scores available)"


def colour_levels(q: np.ndarray, q_peak: float) -> np.ndarray:
    """Colour level 0…LEVELS of each Q (−1 for NaN), the value written to the B column."""
    t = np.clip(np.asarray(q, dtype=float) / max(q_peak, 1e-6), 0.0, 1.0)
    return np.where(np.isfinite(t), np.rint(np.nan_to_num(t) * LEVELS), -1).astype(int)


def level_colours(q_peak: float) -> dict[str, int]:
    """The discrete colour map level → 0xRRGGBB used by cartoon, sticks and spheres."""
    levels = np.arange(LEVELS + 1)
    rgb = np.rint(colour_rgb(levels / LEVELS * q_peak, q_peak)).astype(int)
    mapping = {str(k): int(r) << 16 | int(g) << 8 | int(b) for k, (r, g, b) in enumerate(rgb)}
    mapping["-1"] = int(NO_Q_COLOUR[1:], 16)
    return mapping


def legend_html(q_peak: float) -> str:
    """A horizontal colour bar labelled 0, Q_peak/2 and Q_peak."""
    stops = ", ".join(
        f"{c} {100 * k / 8:.0f}%"
        for k, c in enumerate(colour_hex(np.linspace(0, q_peak, 9), q_peak))
    )
    return (
        '<div class="qs-legend"><span>Q ≤ 0</span>'
        f'<div class="qs-bar" style="background: linear-gradient(to right, {stops});"></div>'
        f"<span>Q_peak {q_peak:.2f}</span></div>"
        f'<div class="qs-legend-sub"><span>cartoon: residue mean Q · sticks: atom Q</span>'
        f"<span>white at {q_peak / 2:.2f}</span>"
        f'<span><span style="color:{NO_Q_COLOUR}">■</span> not scored</span></div>'
    )


@dataclass(frozen=True)
class Focus:
    """The selected residue: its label, atoms (model indices of heavy atoms) and their Q."""

    label: str
    atoms: np.ndarray
    q: np.ndarray


@dataclass(frozen=True, eq=False)
class Overlay:
    """A second model and/or a second map drawn over the first (the Compare page's superposition).

    ``atoms`` (indices into ``model``) are drawn as cartoon and thin sticks in
    :data:`OVERLAY_COLOUR`, with their ``q`` (aligned with ``model``'s atoms, optional) shown on
    hover; ``dmap``'s mesh, cropped like the first map's, in :data:`OVERLAY_MESH` at the same σ
    level as the first map's, ``stats`` being ``dmap``'s mean and σ.
    """

    model: AtomModel | None = None
    atoms: np.ndarray | None = None
    q: np.ndarray | None = None
    dmap: DensityMap | None = None
    stats: MapStats | None = None


_PLAIN_TOKEN = re.compile(r"[A-Za-z0-9][^\s'\"]*")
_RESERVED = ("data_", "loop_", "save_", "global_", "stop_")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def cif_token(value: object) -> str:
    """``value`` as one mmCIF token: bare when safe, otherwise quoted (quotes it cannot hold
    are replaced, control characters become ``_``), so no file-derived name can break the
    table."""
    text = _CONTROL.sub("_", " ".join(str(value).split()))
    if not text:
        return "."
    if _PLAIN_TOKEN.fullmatch(text) and not text.lower().startswith(_RESERVED):
        return text
    if "'" not in text:
        return f"'{text}'"
    if '"' not in text:
        return f'"{text}"'
    return "'" + text.replace("'", "`") + "'"


_CIF_HEADER = (
    "data_scene",
    "loop_",
    "_atom_site.group_PDB",
    "_atom_site.id",
    "_atom_site.type_symbol",
    "_atom_site.auth_atom_id",
    "_atom_site.auth_comp_id",
    "_atom_site.auth_asym_id",
    "_atom_site.auth_seq_id",
    "_atom_site.Cartn_x",
    "_atom_site.Cartn_y",
    "_atom_site.Cartn_z",
    "_atom_site.B_iso_or_equiv",
)


def model_cif(
    model: AtomModel,
    atoms: np.ndarray,
    residue_q: np.ndarray,
    q_peak: float,
    *,
    residue_levels: np.ndarray | None = None,
) -> str:
    """Minimal mmCIF of ``atoms`` (model indices) for 3Dmol.js, with each residue's colour level
    as the B-factor. 3Dmol.js numbers mmCIF atoms by row: atom ``k`` of ``atoms`` is serial k.
    ``residue_levels`` (an integer per residue) replaces the levels computed from ``residue_q``."""
    atoms = np.asarray(atoms, dtype=np.int64)
    if residue_levels is None:
        residue_levels = colour_levels(np.asarray(residue_q, dtype=float), q_peak)
    levels = np.asarray(residue_levels)[model.residue_index[atoms]]
    polymer = np.isin(model.kind[atoms], ["protein", "nucleic"])
    xyz = model.xyz[atoms]
    memo: dict[object, str] = {}

    def token(value: object) -> str:
        found = memo.get(value)
        if found is None:
            found = memo[value] = cif_token(value)
        return found

    lines = list(_CIF_HEADER)
    for k, i in enumerate(atoms):
        lines.append(
            f"{'ATOM' if polymer[k] else 'HETATM'} {k + 1} {token(model.element[i] or 'X')} "
            f"{token(model.name[i])} {token(model.resname[i])} {token(model.chain[i])} "
            f"{int(model.resseq[i])} {xyz[k, 0]:.3f} {xyz[k, 1]:.3f} {xyz[k, 2]:.3f} {levels[k]}"
        )
    return "\n".join(lines) + "\n"


def category_levels(colours: list[str]) -> tuple[np.ndarray, dict[str, int]]:
    """Per-residue colour levels and the level → 0xRRGGBB map for hex colours ("" for none)."""
    palette = list(dict.fromkeys(c for c in colours if c))
    levels = np.array([palette.index(c) if c else -1 for c in colours], dtype=int)
    mapping = {str(k): int(c[1:], 16) for k, c in enumerate(palette)}
    mapping["-1"] = int(NO_Q_COLOUR[1:], 16)
    return levels, mapping


def density_ccp4(
    dmap: DensityMap,
    points: np.ndarray,
    margin: float = DENSITY_MARGIN,
    *,
    stats: MapStats | None = None,
) -> bytes:
    """A CCP4 file of the map cropped to the box around ``points`` plus ``margin`` Å, laid out
    for 3Dmol.js (see the module notes). With ``stats`` the values are σ above the mean plus
    :data:`SIGMA_OFFSET`, clipped at 0 and rounded to 1/64 σ; without, the map's own values."""
    points = np.atleast_2d(np.asarray(points, dtype=float))
    box = crop_map(dmap, points.min(axis=0) - margin, points.max(axis=0) + margin)
    nx, ny, nz = box.shape_xyz
    grid_origin = box.origin / box.voxel_size
    start = np.floor(grid_origin + 1e-6)
    remainder = grid_origin - start
    values = np.asarray(box.values, dtype=np.float32)
    if stats is not None:
        scaled = (values.astype(np.float64) - stats.mean) / stats.sd + SIGMA_OFFSET
        values = (np.rint(np.clip(scaled, 0.0, None) * 64.0) / 64.0).astype(np.float32)
    ints = np.zeros(256, dtype="<i4")
    floats = ints.view("<f4")
    ints[0:4] = (nx, ny, nz, 2)
    ints[4:7] = start.astype(np.int64)
    ints[7:10] = (nx, ny, nz)
    floats[10:13] = np.array([nx, ny, nz]) * box.voxel_size
    floats[13:16] = 90.0
    ints[16:19] = (1, 2, 3)
    floats[19:22] = (values.min(), values.max(), values.mean(dtype=np.float64))
    ints[22] = 1
    floats[49:52] = remainder
    raw = bytearray(ints.tobytes())
    raw[208:212] = b"MAP "
    raw[212:216] = b"\x44\x44\x00\x00"
    return bytes(raw) + values.astype("<f4", copy=False).tobytes()


def _context_atoms(model: AtomModel, focus: Focus, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Heavy atoms of the residues within ``radius`` Å of the focus, and each one's distance
    to the nearest focus atom."""
    from scipy.spatial import cKDTree

    centre = model.xyz[focus.atoms]
    lo, hi = centre.min(axis=0) - radius, centre.max(axis=0) + radius
    near_box = np.flatnonzero(np.all((model.xyz >= lo) & (model.xyz <= hi), axis=1) & model.heavy)
    distance, _ = cKDTree(centre).query(model.xyz[near_box], distance_upper_bound=radius)
    residues = np.unique(model.residue_index[near_box[np.isfinite(distance)]])
    keep = np.flatnonzero(np.isin(model.residue_index, residues) & model.heavy)
    distance, _ = cKDTree(centre).query(model.xyz[keep])
    return keep, distance


def _overview_atoms(model: AtomModel) -> np.ndarray:
    """Every heavy atom, or one trace atom per polymer residue for a large model."""
    heavy = np.flatnonzero(model.heavy)
    if heavy.size <= OVERVIEW_MAX_ATOMS:
        return heavy
    trace = np.isin(model.name, TRACE_ATOMS) & np.isin(model.kind, ["protein", "nucleic"])
    return np.flatnonzero(trace & model.heavy)


def _rounded(values: np.ndarray, digits: int) -> list[float | None]:
    values = np.round(np.asarray(values, dtype=float), digits)
    return [float(v) if math.isfinite(v) else None for v in values]


def build_scene(
    model: AtomModel,
    atom_q: np.ndarray,
    residue_q: np.ndarray,
    q_peak: float,
    *,
    focus: Focus | None = None,
    dmap: DensityMap | None = None,
    contour: ContourChoice | None = None,
    stats: MapStats | None = None,
    context_radius: float = CONTEXT_RADIUS,
    neighbour_radius: float = NEIGHBOUR_RADIUS,
    residue_colours: list[str] | None = None,
    overlay: Overlay | None = None,
) -> dict:
    """The data of one 3D view, ready for :func:`scene_json`.

    Parameters
    ----------
    model : AtomModel
        The model.
    atom_q, residue_q : numpy.ndarray
        Q of every model atom, and of every residue (aligned with ``model.residues``).
    q_peak : float
        Top of the colour scale (blue).
    focus : Focus, optional
        The selected residue; without it the scene is the whole model.
    dmap, contour, stats : optional
        The map, the default contour for the focus and the map's mean and σ; the density box is
        included when all three are given.
    context_radius, neighbour_radius : float
        Residues within ``context_radius`` Å are in the scene; atoms within ``neighbour_radius``
        Å are drawn as thin sticks by default (the viewer has a control for it).
    residue_colours : list of str, optional
        A hex colour per residue ("" for none) for the cartoon instead of the residue-Q scale
        (a categorical reading such as the local-resolution verdict); atoms keep the Q scale.
    overlay : Overlay, optional
        A second model and/or map drawn over the first (its map only with a focus and a
        density box of the first map).

    Returns
    -------
    dict
        ``cif`` (text), per-atom ``q``, ``d`` (Å to the focus, None without one), ``k`` (kind
        code: 0 polymer, 1 ligand/glycan, 2 water, 3 ion) and ``focus`` (indices), the colour
        ``levels``, ``label``, ``trace`` (one atom per residue), and with a map ``density``
        (base64 gzip CCP4 in σ + offset) and ``contour`` (σ level, mean, σ, reference); with an
        overlay, ``overlay`` (``cif``, ``q``, ``colour``; ``density``, ``mesh``).
    """
    residue_q = np.asarray(residue_q, dtype=float)
    if focus is not None and focus.atoms.size:
        atoms, distance = _context_atoms(model, focus, context_radius)
        in_focus = np.flatnonzero(np.isin(atoms, focus.atoms))
        label = focus.label
    else:
        atoms, distance, in_focus, label = _overview_atoms(model), None, np.zeros(0, int), ""
    kinds = model.kind[atoms]
    residue_levels, residue_map = None, level_colours(q_peak)
    if residue_colours is not None:
        residue_levels, residue_map = category_levels(residue_colours)
    scene: dict = {
        "label": label,
        "cif": model_cif(model, atoms, residue_q, q_peak, residue_levels=residue_levels),
        "q": _rounded(np.asarray(atom_q, dtype=float)[atoms], 3),
        "d": _rounded(distance, 2) if distance is not None else None,
        "k": [KIND_CODES.get(str(k), 1) for k in kinds],
        "focus": [int(i) for i in in_focus],
        "levels": level_colours(q_peak),
        "residueLevels": residue_map,
        "qPeak": float(q_peak),
        "trace": bool(focus is None and atoms.size < int(model.heavy.sum())),
        "neighbourRadius": float(neighbour_radius),
        "background": BACKGROUND,
        "mesh": MESH_COLOUR,
        "meshZone": MESH_ZONE,
    }
    if focus is not None and focus.atoms.size and dmap is not None and contour and stats:
        raw = density_ccp4(dmap, model.xyz[focus.atoms], stats=stats)
        scene["density"] = base64.b64encode(gzip.compress(raw, mtime=0)).decode("ascii")
        scene["contour"] = {
            "sigma": round(contour.sigma_level * 20) / 20,
            "mean": stats.mean,
            "sd": stats.sd,
            "offset": SIGMA_OFFSET,
            "min": SLIDER_SIGMA[0],
            "max": SLIDER_SIGMA[1],
            "reference": contour.reference,
        }
    if overlay is not None:
        centre = model.xyz[focus.atoms] if focus is not None and "density" in scene else None
        scene["overlay"] = _overlay_scene(overlay, centre)
    return scene


def _overlay_scene(overlay: Overlay, centre: np.ndarray | None) -> dict:
    """The overlay's part of a scene: model B's atoms and map B's density around ``centre``."""
    part: dict = {"colour": OVERLAY_COLOUR, "mesh": OVERLAY_MESH}
    atoms = np.asarray(overlay.atoms if overlay.atoms is not None else [], dtype=np.int64)
    if overlay.model is not None and atoms.size:
        no_q = np.full(len(overlay.model.residues), np.nan)
        part["cif"] = model_cif(overlay.model, atoms, no_q, 1.0)
        if overlay.q is not None:
            part["q"] = _rounded(np.asarray(overlay.q, dtype=float)[atoms], 3)
    if overlay.dmap is not None and centre is not None:
        stats = overlay.stats or MapStats.of(overlay.dmap)
        raw = density_ccp4(overlay.dmap, centre, stats=stats)
        part["density"] = base64.b64encode(gzip.compress(raw, mtime=0)).decode("ascii")
    return part


def scene_json(scene: dict) -> str:
    """The scene as JSON that is also safe inside an HTML ``<script>`` element."""
    return _script_safe(json.dumps(scene, separators=(",", ":"), allow_nan=False))


def _script_safe(text: str) -> str:
    """JSON text with ``<``, ``>`` and ``&`` as unicode escapes: still the same JSON (and JS), but
    nothing in it can close or open an HTML element (``</script>``, ``<!--``)."""
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


_STYLE = """
<style>
body { margin: 0; font-family: sans-serif; font-size: 13px; color: #222; }
#qs-bar { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 16px; padding: 4px 2px 6px; }
#qs-bar label { display: inline-flex; align-items: center; gap: 6px; white-space: nowrap; }
#qs-bar input[type=range] { width: 170px; }
#qs-bar button { font-size: 12px; padding: 1px 8px; }
#qs-level-text { font-variant-numeric: tabular-nums; min-width: 15em; }
#qs-wrap { position: relative; width: 100%; }
#qs-view { position: absolute; inset: 0; }
#qs-status { position: absolute; top: 8px; left: 10px; z-index: 10; color: #fff;
  background: rgba(0,0,0,.55); padding: 3px 8px; border-radius: 3px; font-size: 16px;
  font-weight: 600; pointer-events: none; }
#qs-hint { position: absolute; bottom: 6px; right: 10px; z-index: 10; color: #ccc;
  font-size: 11px; pointer-events: none; }
.qs-legend { display: flex; align-items: center; gap: 8px; margin: 6px 4px 0 4px; }
.qs-bar { flex: 1; height: 12px; border: 1px solid #ccc; border-radius: 2px; }
.qs-legend-sub { display: flex; justify-content: space-between; margin: 2px 4px; color: #666;
  font-size: 12px; }
.qs-off { display: none !important; }
</style>
"""

_BODY = """
<div id="qs-bar">
  <label id="qs-level-box" title="Map value of the mesh. 'auto' puts it where most well-scored
atoms of the selected residue sit inside the surface.">Contour
    <input id="qs-level" type="range" step="0.05"> <span id="qs-level-text"></span></label>
  <button id="qs-auto" type="button">auto</button>
  <label id="qs-mesh-box"><input id="qs-mesh" type="checkbox" checked> mesh</label>
  <label title="Atoms within this distance of the selected residue are drawn as thin sticks."
    >Neighbours <input id="qs-near" type="range" min="0" max="10" step="0.5">
    <span id="qs-near-text"></span></label>
  <label id="qs-water-box"><input id="qs-water" type="checkbox"> waters</label>
  <label id="qs-ion-box"><input id="qs-ion" type="checkbox"> ions</label>
</div>
<div id="qs-wrap" style="height: __HEIGHT__px">
  <div id="qs-status" data-rendered="0"></div>
  <div id="qs-view"></div>
  <div id="qs-hint">drag: rotate · scroll: zoom · hover an atom: name and Q</div>
</div>
"""

_SCRIPT = """
(function () {
  var ARGS = window.QS_ARGS || {};
  var SCENE = ARGS.scene || null;
  var SCENE_URL = ARGS.sceneUrl || null;
  var FOLLOW = ARGS.follow || null;
  var $ = function (id) { return document.getElementById(id); };
  var status = $("qs-status");
  var v = null, S = null, label = null, volume = null, surface = null, pending = false;
  var mA = null, mB = null, volumeB = null, surfaceB = null;
  var loaded = null, loading = null;
  function now() { return Math.round(window.performance.now()); }
  function store(key, value) {
    try { if (value === undefined) return window.sessionStorage.getItem(key);
          window.sessionStorage.setItem(key, value); } catch (e) { return null; }
  }
  function fail(message) {
    status.textContent = message; status.dataset.error = "1"; status.dataset.rendered = "1";
  }
  function level(value) {
    if (value === null || value === undefined) return -1;
    return Math.round(Math.min(Math.max(value / S.qPeak, 0), 1) * 32);
  }
  function atomColour(atom) { return S.levels[String(level(S.q[atom.serial]))]; }
  function residueColour(atom) { return S.residueLevels[String(Math.round(atom.b))]; }
  function kindOf(a) { return S.k[a.serial]; }
  function focused(a) { return S.inFocus[a.serial] === true; }
  function near(a, r) { return S.d !== null && S.d[a.serial] <= r; }
  function inA(test) { return {model: mA, predicate: test}; }

  function restyle(draw) {
    var r = parseFloat($("qs-near").value);
    var showWater = $("qs-water").checked, showIon = $("qs-ion").checked;
    var hasFocus = S.focus.length > 0;
    $("qs-near-text").textContent = r.toFixed(1) + " \\u00c5";
    v.setStyle({}, {});
    v.setStyle(inA(function (a) { return kindOf(a) === 0 && !focused(a); }),
      S.trace || hasFocus
        ? {cartoon: {style: "trace", colorfunc: residueColour,
                     thickness: hasFocus ? 0.12 : 0.3, opacity: hasFocus ? 0.4 : 1.0}}
        : {cartoon: {colorfunc: residueColour, thickness: 0.4}});
    v.addStyle(inA(function (a) {
      return kindOf(a) === 1 && !focused(a) && (!hasFocus || !near(a, r));
    }), {stick: {radius: 0.12, colorfunc: atomColour, opacity: hasFocus ? 0.5 : 1.0}});
    v.addStyle(inA(function (a) { return kindOf(a) === 2 && showWater && !focused(a); }),
      {sphere: {radius: 0.22, colorfunc: atomColour}});
    v.addStyle(inA(function (a) { return kindOf(a) === 3 && showIon && !focused(a); }),
      {sphere: {radius: 0.45, colorfunc: atomColour}});
    if (hasFocus) {
      v.addStyle(inA(function (a) {
        var k = kindOf(a);
        return !focused(a) && near(a, r) &&
          (k < 2 || (k === 2 && showWater) || (k === 3 && showIon));
      }), {stick: {radius: 0.08, colorfunc: atomColour}});
      v.addStyle(inA(focused), {stick: {radius: 0.22, colorfunc: atomColour},
        sphere: {radius: 0.3, colorfunc: atomColour}});
    }
    if (mB) {
      var c = S.overlay.colour;
      v.setStyle({model: mB}, {cartoon: {color: c, thickness: 0.3},
        stick: {color: c, radius: 0.15}});
    }
    if (draw) v.render();
  }
  function levelText(sigma) {
    var c = S.contour, value = c.mean + sigma * c.sd;
    return sigma.toFixed(2) + " \\u03c3 = " + value.toPrecision(4) + " (map units)" +
      (Math.abs(sigma - c.sigma) < 0.01 ? " \\u00b7 auto" : "");
  }
  function drawMesh() {
    pending = false;
    if (surface) { v.removeShape(surface); surface = null; }
    if (surfaceB) { v.removeShape(surfaceB); surfaceB = null; }
    if (!volume) { return; }
    var sigma = parseFloat($("qs-level").value);
    $("qs-level-text").textContent = levelText(sigma);
    status.dataset.contour = sigma.toFixed(2);
    if ($("qs-mesh").checked) {
      surface = v.addIsosurface(volume, {isoval: sigma + S.contour.offset, color: S.mesh,
        wireframe: true, linewidth: 1, opacity: 0.95, smoothness: 1,
        coords: S.focusPoints, seldist: S.meshZone});
      if (volumeB) {
        surfaceB = v.addIsosurface(volumeB, {isoval: sigma + S.contour.offset,
          color: S.overlay.mesh, wireframe: true, linewidth: 1, opacity: 0.95, smoothness: 1,
          coords: S.focusPoints, seldist: S.meshZone});
      }
    }
    status.dataset.overlayMesh = surfaceB ? "1" : "0";
    status.dataset.meshDraws = String(parseInt(status.dataset.meshDraws || "0", 10) + 1);
  }
  function scheduleMesh() {
    if (!pending) {
      pending = true;
      window.requestAnimationFrame(function () { drawMesh(); v.render(); });
    }
  }
  function controls(scene) {
    $("qs-level").addEventListener("input", scheduleMesh);
    $("qs-auto").addEventListener("click", function () {
      $("qs-level").value = S.contour.sigma; scheduleMesh();
    });
    $("qs-mesh").addEventListener("change", function () {
      store("qs-mesh", $("qs-mesh").checked ? "1" : "0"); scheduleMesh();
    });
    $("qs-near").addEventListener("input", function () {
      store("qs-near", $("qs-near").value); restyle(true);
    });
    $("qs-water").addEventListener("change", function () {
      store("qs-water", $("qs-water").checked ? "1" : "0"); restyle(true);
    });
    $("qs-ion").addEventListener("change", function () {
      store("qs-ion", $("qs-ion").checked ? "1" : "0"); restyle(true);
    });
    $("qs-near").value = store("qs-near") || scene.neighbourRadius;
    $("qs-water").checked = store("qs-water") === "1";
    $("qs-ion").checked = store("qs-ion") === "1";
    $("qs-mesh").checked = store("qs-mesh") !== "0";
  }
  function show(scene) {
    if (typeof $3Dmol === "undefined") { fail("3Dmol.js did not load."); return; }
    var marks = {start: now()};
    if (!v) {
      v = $3Dmol.createViewer($("qs-view"), {backgroundColor: scene.background,
        antialias: false, cartoonQuality: 4, hoverDuration: 150});
      controls(scene);
      v.setViewChangeCallback(function (view) {
        if (S) store("qs-view:" + S.viewKey, JSON.stringify(view));
      });
    } else {
      v.removeAllModels(); v.removeAllShapes(); v.removeAllLabels();
      surface = null; surfaceB = null; label = null;
    }
    S = scene;
    S.inFocus = {}; scene.focus.forEach(function (i) { S.inFocus[i] = true; });
    var model = mA = v.addModel(scene.cif, "cif");
    var atoms = model.selectedAtoms({});
    var over = scene.overlay || {};
    mB = over.cif ? v.addModel(over.cif, "cif") : null;
    status.dataset.overlayAtoms = mB ? String(mB.selectedAtoms({}).length) : "0";
    S.focusPoints = atoms.filter(focused).map(function (a) { return {x: a.x, y: a.y, z: a.z}; });
    marks.parsed = now();
    var present = {2: false, 3: false};
    atoms.forEach(function (a) { present[kindOf(a)] = true; });
    $("qs-water-box").classList.toggle("qs-off", !present[2]);
    $("qs-ion-box").classList.toggle("qs-off", !present[3]);
    var hasFocus = scene.focus.length > 0;
    $("qs-near").parentNode.classList.toggle("qs-off", !hasFocus);
    volume = null; volumeB = null;
    if (scene.density && scene.contour) {
      volume = new $3Dmol.VolumeData(scene.density, "ccp4.gz");
      if (over.density) { volumeB = new $3Dmol.VolumeData(over.density, "ccp4.gz"); }
      $("qs-level").min = scene.contour.min; $("qs-level").max = scene.contour.max;
      $("qs-level").value = scene.contour.sigma;
      status.dataset.autoContour = scene.contour.sigma.toFixed(2);
    }
    ["qs-level-box", "qs-auto", "qs-mesh-box"].forEach(function (id) {
      $(id).classList.toggle("qs-off", !volume);
    });
    v.setHoverable({}, true, function (atom) {
      if (label || atom.serial === undefined) return;
      var isB = mB !== null && atom.model === mB.getID();
      var qs = isB ? (S.overlay.q || []) : S.q;
      var value = qs[atom.serial] === undefined ? null : qs[atom.serial];
      label = v.addLabel((isB ? "B: " : "") + atom.chain + " " + atom.resi + " " + atom.resn + " " + atom.atom +
        "  Q " + (value === null ? "n/a" : value.toFixed(3)),
        {position: atom, backgroundColor: "#000000", backgroundOpacity: 0.75,
         fontColor: "#ffffff", fontSize: 15, inFront: true});
      status.dataset.hover = "1";
    }, function () { if (label) { v.removeLabel(label); label = null; } });
    restyle(false);
    if (hasFocus) { v.zoomTo(inA(focused)); v.zoom(0.8); } else { v.zoomTo({model: mA}); }
    try {
      var saved = store("qs-view:" + scene.viewKey);
      if (saved) { v.setView(JSON.parse(saved)); }
    } catch (e) {}
    marks.styled = now();
    drawMesh();
    v.render();
    marks.drawn = now();
    var target = scene.label || "whole model";
    status.textContent = target;
    status.dataset.zoomTarget = target;
    status.dataset.marks = JSON.stringify(marks);
    status.dataset.renderMs = String(marks.drawn);
    status.dataset.loads = String(parseInt(status.dataset.loads || "0", 10) + 1);
    status.dataset.rendered = "1";
    window.qsViewer = v;
  }
  function load(url) {
    if (url === loaded || url === loading) return;
    loading = url;
    status.dataset.rendered = "0";
    fetch(url).then(function (r) {
      if (!r.ok) { throw new Error("status " + r.status); }
      return r.json();
    }).then(function (scene) {
      if (loading !== url) return;
      loaded = url; loading = null; show(scene);
    }).catch(function () {
      loading = null; fail("The 3D scene is no longer on the server: select the residue again.");
    });
  }
  function follow() {
    var element = null;
    try { element = window.parent.document.querySelector(FOLLOW); } catch (e) {}
    var url = element && element.getAttribute("data-qs-scene");
    if (url && url.indexOf("/") === 0) { load(url); }
  }
  if (SCENE) { show(SCENE); }
  else if (SCENE_URL) { load(SCENE_URL); }
  if (FOLLOW) { follow(); window.setInterval(follow, 120); }
})();
"""


def viewer_script() -> str:
    """The viewer's JavaScript (reads ``window.QS_ARGS``: ``scene``, ``sceneUrl``, ``follow``)."""
    return _compact(_SCRIPT)


def _compact(text: str) -> str:
    """``text`` without indentation and blank lines (the page stays under 10 kB, the size from
    which Streamlit caches a message and may later refer to it by hash)."""
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def viewer_html(
    scene: dict | None = None,
    *,
    scene_url: str | None = None,
    q_peak: float | None = None,
    follow: str | None = None,
    height: int = 620,
    js_url: str = JS_URL,
    script_url: str | None = None,
    legend: str | None = None,
) -> str:
    """A self-contained page drawing ``scene`` (embedded) or the scene at ``scene_url``.

    Parameters
    ----------
    scene : dict, optional
        A scene from :func:`build_scene` to embed; give either this or ``scene_url``.
    scene_url : str, optional
        Where the page fetches the scene's JSON instead (keeps the page a few kilobytes).
    q_peak : float, optional
        Top of the colour scale for the legend (taken from ``scene`` when embedded).
    follow : str, optional
        A CSS selector of an element of the embedding page whose ``data-qs-scene`` attribute
        holds the URL of the scene to show: the page then loads each new scene into the same
        viewer (no reload, no new WebGL context), so the page itself never changes.
    height : int
        Height of the 3D canvas in pixels.
    js_url : str
        Where 3Dmol.js is served.
    script_url : str, optional
        Where :func:`viewer_script` is served; without it the script is inlined.
    legend : str, optional
        HTML under the view instead of the Q colour bar (for a categorical colouring).

    Returns
    -------
    str
        The HTML. Nothing from the model's files appears in it outside JSON.
    """
    if scene is not None and (scene_url is not None or follow is not None):
        raise ValueError("an embedded scene cannot be combined with scene_url or follow")
    if scene is None and scene_url is None and follow is None:
        raise ValueError("give a scene, a scene_url or a selector to follow")
    if scene is not None:
        q_peak = float(scene["qPeak"])
    args = {"scene": scene, "sceneUrl": scene_url, "follow": follow}
    code = (
        f'<script src="{html.escape(script_url)}"></script>'
        if script_url
        else f"<script>\n{viewer_script()}</script>"
    )
    script = (
        f'<script src="{html.escape(js_url)}"></script>'
        + f"<script>window.QS_ARGS = {_script_safe(json.dumps(args, allow_nan=False))};</script>"
        + code
    )
    if legend is None:
        legend = legend_html(q_peak) if q_peak is not None else ""
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        + _compact(_STYLE)
        + "</head><body>"
        + _compact(_BODY).replace("__HEIGHT__", str(int(height)))
        + legend
        + script
        + "</body></html>"
    )
