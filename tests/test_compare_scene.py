"""The Compare page's 3D overlay in the viewer's scene (EMD-30342 / 7cec chain A): model B's
atoms where they are, with their Q; map B's density boxed like map A's and in map B's own σ,
so that both meshes are drawn at the same σ level."""

from __future__ import annotations

import base64
import gzip
import json
from dataclasses import replace

import gemmi
import numpy as np
import pytest

from qscore.analysis.contour import MapStats, residue_contour
from qscore.plotting import viewer
from qscore.synthetic.variants import shift_residues

ROWS = list(range(190, 198))


@pytest.fixture(scope="module")
def pair(emd30342_pair):
    dmap, model = emd30342_pair
    moved = shift_residues(model, ROWS, 2.5)
    return dmap, model, moved


def _atoms(model, rows):
    atoms = np.concatenate(
        [np.arange(model.residues.at[r, "start"], model.residues.at[r, "stop"]) for r in rows]
    )
    return atoms[model.heavy[atoms]]


def _scene(dmap, model, overlay, row=193, with_focus=True):
    atoms = _atoms(model, [row])
    q = np.linspace(0.0, 1.0, len(model.xyz))
    focus = viewer.Focus("A 194", atoms, q[atoms]) if with_focus else None
    stats = MapStats.of(dmap)
    contour = residue_contour(dmap, model.xyz[atoms], q[atoms], q_good=0.2, stats=stats)
    return viewer.build_scene(
        model,
        q,
        np.full(len(model.residues), 0.5),
        0.5,
        focus=focus,
        dmap=dmap,
        contour=contour if with_focus else None,
        stats=stats,
        overlay=overlay,
    )


def _xyz(cif_text: str) -> np.ndarray:
    """Coordinates of a scene's atom table, read back with gemmi."""
    block = gemmi.cif.read_string(cif_text).sole_block()
    table = block.find("_atom_site.", ["Cartn_x", "Cartn_y", "Cartn_z"])
    return np.array([[float(v) for v in row] for row in table])


def _density(encoded: str) -> np.ndarray:
    raw = gzip.decompress(base64.b64decode(encoded))
    return np.frombuffer(raw[1024:], dtype="<f4")


def test_model_b_is_in_the_scene_where_it_is_with_its_q(pair):
    dmap, model, moved = pair
    atoms = _atoms(moved, ROWS)
    q_b = np.linspace(1.0, 0.0, len(moved.xyz))
    scene = _scene(dmap, model, viewer.Overlay(model=moved, atoms=atoms, q=q_b))
    part = scene["overlay"]
    xyz = _xyz(part["cif"])
    assert xyz == pytest.approx(moved.xyz[atoms], abs=1e-3)
    # The moved atoms are 2.5 Å from model A's (which the scene draws as usual).
    shift = np.linalg.norm(xyz - model.xyz[atoms], axis=1)
    assert shift == pytest.approx(2.5, abs=1e-3)
    assert part["q"] == pytest.approx(np.round(q_b[atoms], 3).tolist())
    assert part["colour"] == viewer.OVERLAY_COLOUR and "density" not in part
    assert len(_xyz(scene["cif"])) == len(scene["q"])  # model A's part unchanged
    json.loads(viewer.scene_json(scene))


def test_map_b_is_drawn_at_the_same_sigma_level(pair):
    dmap, model, _ = pair
    # Map B = 3 × map A + 2: the same map in other units. In σ units the two boxes are identical,
    # so one slider level draws both meshes through the same density.
    other = replace(dmap, values=dmap.values * 3.0 + 2.0)
    overlay = viewer.Overlay(dmap=other, stats=MapStats.of(other))
    scene = _scene(dmap, model, overlay)
    a, b = _density(scene["density"]), _density(scene["overlay"]["density"])
    assert a.size == b.size > 1000
    assert b == pytest.approx(a, abs=1 / 64 + 1e-6)
    assert scene["overlay"]["mesh"] == viewer.OVERLAY_MESH and "cif" not in scene["overlay"]
    # A noisier map B differs from map A in σ units.
    rng = np.random.default_rng(0)
    noisy = replace(dmap, values=dmap.values + rng.normal(0, dmap.values.std(), dmap.values.shape))
    c = _density(_scene(dmap, model, viewer.Overlay(dmap=noisy))["overlay"]["density"])
    assert np.abs(c - a).mean() > 0.2


def test_without_a_residue_no_map_b_is_sent(pair):
    dmap, model, moved = pair
    overlay = viewer.Overlay(dmap=dmap, stats=MapStats.of(dmap))
    scene = _scene(dmap, model, overlay, with_focus=False)
    assert "density" not in scene and "density" not in scene["overlay"]
    empty = viewer.Overlay(model=moved, atoms=np.zeros(0, dtype=int))
    assert "cif" not in _scene(dmap, model, empty)["overlay"]
