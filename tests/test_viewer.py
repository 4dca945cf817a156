"""3D view builder: colour scale, cropped density placement, the residue scene and the page."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import gemmi
import numpy as np
import pytest

from qscore.analysis.contour import MapStats
from qscore.io.maps import DensityMap, sample
from qscore.plotting import viewer
from tests.viewer_data import residue_scene

HOSTILE = "</script><script>alert(1)</script>"


def test_colour_scale_ends_and_middle():
    red, white, blue = viewer.colour_hex(np.array([-0.3, 0.25, 0.5]), 0.5)
    assert red == "#d73027"
    assert white == "#f7f7f7"
    assert blue == "#2166ac"
    assert viewer.colour_hex(np.nan, 0.5) == [viewer.NO_Q_COLOUR]
    levels = viewer.colour_levels(np.array([0.0, 0.25, 1.0, np.nan]), 0.5)
    assert levels.tolist() == [0, viewer.LEVELS // 2, viewer.LEVELS, -1]
    assert len(viewer.level_colours(0.5)) == viewer.LEVELS + 2


def _read_like_3dmol(raw: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Voxel positions and values the way 3Dmol.js's CCP4 parser places them: world = voxel ·
    (index + NSTART + ORIGIN), with data in x-fastest order."""
    ints = np.frombuffer(raw[:1024], dtype="<i4")
    floats = np.frombuffer(raw[:1024], dtype="<f4")
    n = ints[0:3]
    start = ints[4:7].astype(float)
    voxel = floats[10:13] / ints[7:10]
    origin_grid = floats[49:52].astype(float)
    values = np.frombuffer(raw[1024:], dtype="<f4").reshape(n[2], n[1], n[0])
    return voxel * (start + origin_grid), values


@pytest.mark.parametrize("origin", [(0.0, 0.0, 0.0), (145.825, 112.825, 120.517), (-7.3, 2.2, 0.4)])
def test_cropped_density_lands_where_the_map_is(origin):
    rng = np.random.default_rng(1)
    dmap = DensityMap(rng.random((30, 40, 50), dtype=np.float32), origin, (1.113, 1.2, 0.9))
    points = np.array(origin) + np.array([[20.0, 15.0, 12.0], [24.0, 18.0, 14.0]])
    first, values = _read_like_3dmol(viewer.density_ccp4(dmap, points, margin=3.0))
    assert values.size < dmap.values.size
    # The first voxel of the cropped file is a voxel of the full map with the same value.
    assert sample(dmap, first[None])[0] == pytest.approx(float(values[0, 0, 0]), abs=1e-6)
    k = np.array([3, 2, 1])
    position = first + k * dmap.voxel_size
    assert sample(dmap, position[None])[0] == pytest.approx(
        float(values[k[2], k[1], k[0]]), abs=1e-6
    )
    assert np.all(first <= points.min(axis=0)) and np.all(first >= points.min(axis=0) - 3.0 - 1.3)


def test_density_in_sigma_units_is_shifted_and_rounded():
    rng = np.random.default_rng(2)
    dmap = DensityMap(rng.normal(0.3, 0.05, (20, 20, 20)).astype(np.float32), (0, 0, 0), (1, 1, 1))
    stats = MapStats.of(dmap)
    points = np.array([[8.0, 8.0, 8.0], [11.0, 11.0, 11.0]])
    first, values = _read_like_3dmol(viewer.density_ccp4(dmap, points, margin=2.0, stats=stats))
    raw = sample(dmap, first[None])[0]
    expected = max((raw - stats.mean) / stats.sd + viewer.SIGMA_OFFSET, 0.0)
    assert float(values[0, 0, 0]) == pytest.approx(expected, abs=1 / 128 + 1e-6)
    assert np.all(values * 64 == np.rint(values * 64))


@pytest.fixture(scope="module")
def scored(emd30342_pair):
    from qscore.engine import score
    from qscore.io.export import residues_frame

    dmap, model = emd30342_pair
    result = score(dmap, model)
    return dmap, model, result.q, residues_frame(model, result.q)


def _scene(dmap, model, q, residues, row):
    return residue_scene(dmap, model, q, residues["q"].to_numpy(), row)


def _cif_rows(text: str) -> list[dict]:
    """The scene's atom table read back with gemmi (an independent mmCIF parser)."""
    block = gemmi.cif.read_string(text).sole_block()
    table = block.find("_atom_site.", ["auth_comp_id", "auth_atom_id", "Cartn_x", "Cartn_y"])
    return [
        {"resname": gemmi.cif.as_string(r[0]), "atom": gemmi.cif.as_string(r[1])} for r in table
    ]


def test_residue_scene_holds_the_neighbourhood_only(scored):
    dmap, model, q, residues = scored
    row = 120
    focus, contour, scene = _scene(dmap, model, q, residues, row)
    n = len(scene["q"])
    heavy = np.flatnonzero(model.heavy)
    assert 0 < n < heavy.size
    # Every heavy atom within the context radius of the residue is in the scene, and the
    # per-atom distances are the true distances to the nearest focus atom.
    centre = model.xyz[focus.atoms]
    d_all = np.linalg.norm(model.xyz[heavy][:, None] - centre[None], axis=2).min(axis=1)
    assert n >= int((d_all <= viewer.CONTEXT_RADIUS).sum())
    assert len(scene["d"]) == n and min(scene["d"]) == 0.0
    assert sorted(scene["d"])[: focus.atoms.size] == [0.0] * focus.atoms.size
    assert len(scene["focus"]) == focus.atoms.size
    assert [scene["q"][i] for i in scene["focus"]] == pytest.approx(np.round(focus.q, 3).tolist())
    assert len(_cif_rows(scene["cif"])) == n
    assert scene["contour"]["sigma"] == pytest.approx(contour.sigma_level, abs=0.026)
    assert scene["density"] and scene["contour"]["offset"] == viewer.SIGMA_OFFSET


def test_whole_model_view_of_a_large_model_is_a_trace(scored, monkeypatch):
    dmap, model, q, residues = scored
    whole = viewer.build_scene(model, q, residues["q"].to_numpy(), 0.38)
    assert len(whole["q"]) == int(model.heavy.sum()) and not whole["trace"]
    assert "density" not in whole and whole["focus"] == []
    monkeypatch.setattr(viewer, "OVERVIEW_MAX_ATOMS", 100)
    trace = viewer.build_scene(model, q, residues["q"].to_numpy(), 0.38)
    polymer = residues["kind"].isin(["protein", "nucleic"]).sum()
    assert trace["trace"] and len(trace["q"]) == polymer


def test_page_is_local_small_and_the_scene_round_trips(scored):
    dmap, model, q, residues = scored
    _, _, scene = _scene(dmap, model, q, residues, 30)
    embedded = viewer.viewer_html(scene)
    assert re.findall(r'src="([^"]*)"', embedded) == [viewer.JS_URL]
    assert "://" not in embedded
    assert embedded == viewer.viewer_html(scene)
    script = "/app/static/scenes/" + "e" * 40 + ".js"
    following = viewer.viewer_html(follow="[data-qs-scene]", q_peak=0.38, script_url=script)
    # Under Streamlit's 10 kB threshold for cached messages, so it is never sent by reference.
    assert len(following.encode()) < 5000
    assert re.findall(r'src="([^"]*)"', following) == [viewer.JS_URL, script]
    assert "Q_peak 0.38" in following and '"follow": "[data-qs-scene]"' in following
    with pytest.raises(ValueError):
        viewer.viewer_html()


def test_names_from_files_cannot_escape_the_page(scored):
    dmap, model, q, residues = scored
    row = 40
    start, stop = model.residues.at[row, "start"], model.residues.at[row, "stop"]
    resname = model.resname.astype(object).copy()
    resname[start:stop] = HOSTILE
    name = model.name.astype(object).copy()
    name[start] = 'O5\' "x"'
    table = model.residues.copy()
    table.loc[row, "resname"] = HOSTILE
    hostile = replace(model, resname=resname, name=name, residues=table)
    focus, _, scene = _scene(dmap, hostile, q, residues, row)
    html = viewer.viewer_html(scene)
    assert HOSTILE not in html and "<script>alert" not in html
    assert len(re.findall(r"<script", html, flags=re.IGNORECASE)) == 3
    assert len(re.findall(r"</script", html, flags=re.IGNORECASE)) == 3
    embedded = re.search(r"window.QS_ARGS = (\{.*?\});</script>", html).group(1)
    back = json.loads(embedded)["scene"]
    rows = _cif_rows(back["cif"])
    assert sum(r["resname"] == HOSTILE for r in rows) == focus.atoms.size
    assert any(r["atom"].startswith("O5") and "x" in r["atom"] for r in rows)


def test_cif_tokens_quote_what_is_not_plain():
    assert viewer.cif_token("CA") == "CA"
    assert viewer.cif_token("O5'") == '"O5\'"'
    assert viewer.cif_token("") == "."
    assert viewer.cif_token("loop_x") == "'loop_x'"
    assert viewer.cif_token("a b\nc") == "'a b c'"
    for value in ("_x", "#y", "$z", "'q", "[r]", ";s", "both ' and \""):
        block = gemmi.cif.read_string(f"data_t\n_t.v {viewer.cif_token(value)}\n").sole_block()
        assert gemmi.cif.as_string(block.find_value("_t.v"))


def test_categorical_residue_colours_replace_the_q_scale_on_the_cartoon_only(scored):
    dmap, model, q, residues = scored
    colours = ["#d73027" if i % 2 else "#4575b4" for i in range(len(residues))]
    colours[0] = ""
    scene = viewer.build_scene(model, q, residues["q"].to_numpy(), 0.38, residue_colours=colours)
    levels = scene["residueLevels"]
    assert {levels["0"], levels["1"]} == {0xD73027, 0x4575B4}
    assert levels["-1"] == int(viewer.NO_Q_COLOUR[1:], 16)
    # Each atom's B column holds its residue's category, read back by an independent parser.
    block = gemmi.cif.read_string(scene["cif"]).sole_block()
    b = np.array([float(v) for v in block.find_values("_atom_site.B_iso_or_equiv")])
    expected = [colours[r] for r in model.residue_index[model.heavy]]
    got = ["" if v < 0 else f"#{levels[str(int(v))]:06x}" for v in b]
    assert got == expected
    # Atoms keep the Q scale.
    assert scene["levels"] == viewer.level_colours(0.38)
