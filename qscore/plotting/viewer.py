"""3D view builder: py3Dmol HTML of a model coloured by Q, with a cropped density mesh.

Pure functions (no Streamlit): the dashboard embeds the returned HTML in an iframe. Design points:

* Colour scale (paper Fig. 3d): red at Q ≤ 0, white at Q_peak / 2, blue at Q ≥ Q_peak. The cartoon
  is coloured per residue through a discrete map on the B-factor column (which carries a colour
  level), so 3D colours and the legend come from the same Python function.
* The map never goes to the browser whole: only a box around the selection is sent, as a small
  CCP4 file. 3Dmol.js adds the header ORIGIN to NSTART *in grid units* before scaling by the voxel
  size, so the file stores NSTART = the integer part of origin / voxel and ORIGIN = the fractional
  remainder in grid units (usually 0); voxel (i, j, k) then lands at origin + (i, j, k) · voxel Å.
* The HTML is deterministic (same inputs, same bytes), so the browser does not rebuild the view —
  and reset its camera — on unrelated reruns; the camera is also kept per selection in
  ``sessionStorage`` across contour changes.
* 3Dmol.js is loaded from ``js_url`` (served locally), never from a CDN.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from dataclasses import dataclass

import numpy as np
import py3Dmol

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
MESH_COLOUR = "#3a7d44"
#: 3Dmol.js viewer options: coarser cartoons and no antialiasing keep a redraw well under a second
#: even without a GPU (software WebGL), at little visible cost.
VIEWER_CONFIG = {"backgroundColor": "white", "cartoonQuality": 4, "antialias": False}
#: Margin (Å) of the density box around the selected atoms.
DENSITY_MARGIN = 4.0


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


def colour_levels(q: np.ndarray, q_peak: float) -> np.ndarray:
    """Colour level 0…LEVELS of each Q (−1 for NaN), the value written to the B column."""
    t = np.clip(np.asarray(q, dtype=float) / max(q_peak, 1e-6), 0.0, 1.0)
    return np.where(np.isfinite(t), np.rint(np.nan_to_num(t) * LEVELS), -1).astype(int)


def level_colours(q_peak: float) -> dict[str, int]:
    """The discrete colour map level → 0xRRGGBB used by the cartoon."""
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
        f'<div class="qs-legend-sub"><span>residue colour: mean Q</span>'
        f"<span>white at {q_peak / 2:.2f}</span>"
        f'<span><span style="color:{NO_Q_COLOUR}">■</span> not scored</span></div>'
    )


def model_cif(model: AtomModel, residue_q: np.ndarray, q_peak: float) -> tuple[str, np.ndarray]:
    """Minimal mmCIF of the heavy atoms for 3Dmol.js, with residue colour levels as B-factors.

    Returns the text and, per model atom, its serial in the text (−1 for hydrogens), since
    3Dmol.js numbers mmCIF atoms by row.
    """
    heavy = np.flatnonzero(model.heavy)
    serial = np.full(model.n_atoms, -1, dtype=np.int64)
    serial[heavy] = np.arange(heavy.size)
    levels = colour_levels(np.asarray(residue_q, dtype=float), q_peak)[model.residue_index[heavy]]
    polymer = np.isin(model.kind[heavy], ["protein", "nucleic"])
    lines = [
        "data_model",
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
    ]
    xyz = model.xyz[heavy]
    for k, i in enumerate(heavy):
        name = str(model.name[i])
        name = f'"{name}"' if "'" in name else name
        lines.append(
            f"{'ATOM' if polymer[k] else 'HETATM'} {k + 1} {model.element[i] or 'X'} {name} "
            f"{model.resname[i]} {model.chain[i]} {int(model.resseq[i])} "
            f"{xyz[k, 0]:.3f} {xyz[k, 1]:.3f} {xyz[k, 2]:.3f} {levels[k]}"
        )
    return "\n".join(lines) + "\n", serial


def density_ccp4(dmap: DensityMap, points: np.ndarray, margin: float = DENSITY_MARGIN) -> bytes:
    """A CCP4 file of the map cropped to the box around ``points`` plus ``margin`` Å, laid out
    for 3Dmol.js (see the module notes on NSTART and ORIGIN)."""
    points = np.atleast_2d(np.asarray(points, dtype=float))
    box = crop_map(dmap, points.min(axis=0) - margin, points.max(axis=0) + margin)
    nx, ny, nz = box.shape_xyz
    grid_origin = box.origin / box.voxel_size
    start = np.floor(grid_origin + 1e-6)
    remainder = grid_origin - start
    ints = np.zeros(256, dtype="<i4")
    floats = ints.view("<f4")
    ints[0:4] = (nx, ny, nz, 2)
    ints[4:7] = start.astype(np.int64)
    ints[7:10] = (nx, ny, nz)
    floats[10:13] = np.array([nx, ny, nz]) * box.voxel_size
    floats[13:16] = 90.0
    ints[16:19] = (1, 2, 3)
    values = box.values
    floats[19:22] = (values.min(), values.max(), values.mean(dtype=np.float64))
    ints[22] = 1
    floats[49:52] = remainder
    raw = bytearray(ints.tobytes())
    raw[208:212] = b"MAP "
    raw[212:216] = b"\x44\x44\x00\x00"
    return bytes(raw) + values.astype("<f4", copy=False).tobytes()


def contour_default(dmap: DensityMap, model: AtomModel) -> float:
    """A contour level (in map units) at which most atoms sit inside the mesh: 0.7 × the median
    density at the heavy-atom centres."""
    from qscore.io.maps import sample

    values = sample(dmap, model.xyz[model.heavy])
    finite = values[np.isfinite(values)]
    return float(0.7 * np.median(finite)) if finite.size else float(dmap.values.mean())


@dataclass(frozen=True, eq=False)
class Overlay:
    """A second model and/or a second map drawn over the first (the Compare page's
    superposition): the model's ``atoms`` as cartoon and thin sticks in :data:`OVERLAY_COLOUR`,
    the map's mesh at ``contour`` in :data:`OVERLAY_MESH`."""

    model: AtomModel | None = None
    atoms: np.ndarray | None = None
    dmap: DensityMap | None = None
    contour: float | None = None


#: Colours of the overlaid model and of the overlaid map's mesh.
OVERLAY_COLOUR = "#c51b7d"
OVERLAY_MESH = "#e08214"


@dataclass(frozen=True)
class Focus:
    """The selected residue: its label, atoms (model indices) and their Q-scores."""

    label: str
    atoms: np.ndarray
    q: np.ndarray


_STYLE = """
<style>
body { margin: 0; font-family: sans-serif; font-size: 12px; color: #333; }
.qs-legend { display: flex; align-items: center; gap: 8px; margin: 6px 4px 0 4px; }
.qs-bar { flex: 1; height: 12px; border: 1px solid #ccc; border-radius: 2px; }
.qs-legend-sub { display: flex; justify-content: space-between; margin: 2px 4px; color: #666; }
#qs-status { position: absolute; top: 6px; left: 8px; z-index: 10; background: rgba(255,255,255,.85);
  padding: 2px 6px; border-radius: 3px; font-weight: 600; pointer-events: none; }
</style>
"""


def _add_overlay(view, overlay: Overlay | None, around: np.ndarray | None, show_map: bool) -> str:
    """Draw ``overlay`` into ``view`` after the first model; return a digest of what was drawn."""
    if overlay is None:
        return ""
    drawn = []
    atoms = np.asarray(overlay.atoms if overlay.atoms is not None else [], dtype=int)
    if overlay.model is not None and atoms.size:
        text, serial = model_cif(overlay.model, np.zeros(len(overlay.model.residues)), 1.0)
        view.addModel(text, "cif")
        view.setStyle({"model": -1}, {})
        serials = serial[atoms]
        shown = {"model": -1, "serial": [int(k) for k in serials[serials >= 0]]}
        view.addStyle(shown, {"cartoon": {"color": OVERLAY_COLOUR, "thickness": 0.3}})
        view.addStyle(shown, {"stick": {"color": OVERLAY_COLOUR, "radius": 0.15}})
        drawn.append(hashlib.sha256(text.encode()).hexdigest()[:12])
        drawn.append(hashlib.sha256(atoms.tobytes()).hexdigest()[:12])
    if overlay.dmap is not None and overlay.contour is not None and show_map and around is not None:
        raw = density_ccp4(overlay.dmap, around)
        view.addVolumetricData(
            base64.b64encode(raw).decode("ascii"),
            "ccp4",
            {"isoval": float(overlay.contour), "color": OVERLAY_MESH, "wireframe": True},
        )
        drawn.append(hashlib.sha256(raw).hexdigest()[:12] + f"{overlay.contour:.6g}")
    return "|".join(drawn)


def _extra_js(vid: str, focus: Focus | None, view_key: str) -> str:
    """Report the zoom target, keep the camera per selection and flag a finished render."""
    target = json.dumps(focus.label if focus else "whole model")
    return f"""
<script>
$3Dmolpromise.then(function() {{
  var v = viewer_{vid};
  var key = {json.dumps(view_key)};
  try {{
    var saved = window.sessionStorage.getItem(key);
    if (saved) {{ v.setView(JSON.parse(saved)); v.render(); }}
  }} catch (e) {{}}
  v.setViewChangeCallback(function(view) {{
    try {{ window.sessionStorage.setItem(key, JSON.stringify(view)); }} catch (e) {{}}
  }});
  var status = document.getElementById("qs-status");
  status.dataset.zoomTarget = {target};
  status.dataset.rendered = "1";
  status.textContent = {target};
  window.qsZoomTarget = {target};
}});
</script>
"""


def viewer_html(
    model: AtomModel,
    residue_q: np.ndarray,
    atom_q: np.ndarray,
    q_peak: float,
    *,
    focus: Focus | None = None,
    dmap: DensityMap | None = None,
    contour: float | None = None,
    show_map: bool = True,
    height: int = 520,
    js_url: str = JS_URL,
    overlay: Overlay | None = None,
) -> str:
    """HTML of a 3Dmol.js view: cartoon coloured by residue Q, the focus residue as sticks coloured
    by atom Q with its density mesh (cropped), zoomed to the focus (or the whole model).

    ``residue_q`` is aligned with ``model.residues``, ``atom_q`` with the model's atoms; ``q_peak``
    sets the colour scale (blue at Q_peak). ``overlay`` adds a second model and/or map.
    """
    text, serial = model_cif(model, residue_q, q_peak)
    view = py3Dmol.view(width="100%", height=f"{height}px", js=js_url)
    view.addModel(text, "cif")
    scheme = {"prop": "b", "map": level_colours(q_peak)}
    view.setStyle({}, {"cartoon": {"colorscheme": scheme, "thickness": 0.4}})
    hetero = {"hetflag": True, "not": {"resn": ["HOH", "WAT", "DOD"]}}
    view.addStyle(hetero, {"stick": {"colorscheme": scheme, "radius": 0.18}})
    view.addStyle(
        {"resn": ["HOH", "WAT", "DOD"]}, {"sphere": {"colorscheme": scheme, "radius": 0.3}}
    )
    if focus is not None and focus.atoms.size:
        serials = serial[focus.atoms]
        keep = serials >= 0
        for s, colour in zip(serials[keep], colour_hex(focus.q[keep], q_peak), strict=True):
            view.addStyle(
                {"serial": int(s)},
                {
                    "stick": {"color": colour, "radius": 0.25},
                    "sphere": {"color": colour, "radius": 0.35},
                },
            )
        selection = {"serial": [int(s) for s in serials[keep]]}
        if dmap is not None and show_map and contour is not None:
            raw = density_ccp4(dmap, model.xyz[focus.atoms])
            view.addVolumetricData(
                base64.b64encode(raw).decode("ascii"),
                "ccp4",
                {"isoval": float(contour), "color": MESH_COLOUR, "wireframe": True, "opacity": 0.9},
            )
        overlay_key = _add_overlay(view, overlay, model.xyz[focus.atoms], show_map)
        view.zoomTo({**selection, "model": 0} if overlay_key else selection)
        view.zoom(0.6)
    else:
        overlay_key = _add_overlay(view, overlay, None, show_map)
        view.zoomTo()
    html = view.write_html().replace(
        '{backgroundColor:"white"}', json.dumps(VIEWER_CONFIG, separators=(",", ":"))
    )
    digest = hashlib.sha256(
        json.dumps(
            [text, focus.label if focus else "", contour, show_map, q_peak, overlay_key]
        ).encode()
    ).hexdigest()[:16]
    vid = f"qs{digest}"
    html = html.replace(view.uniqueid, vid)
    model_digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    view_key = f"qs-view:{model_digest}:{focus.label if focus else 'all'}"
    return (
        _STYLE
        + '<div style="position: relative;"><div id="qs-status" data-rendered="0"></div>'
        + html
        + "</div>"
        + legend_html(q_peak)
        + _extra_js(vid, focus, view_key)
    )
