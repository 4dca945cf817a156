"""3D view builder: colour scale, minimal mmCIF, cropped density placement and the HTML."""

from __future__ import annotations

import numpy as np
import pytest

from qscore.io.maps import DensityMap, sample
from qscore.plotting import viewer


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


@pytest.fixture(scope="module")
def scored(emd30342_pair):
    from qscore.engine import score

    dmap, model = emd30342_pair
    return dmap, model, score(dmap, model)


def test_viewer_html_is_local_deterministic_and_reports_target(scored):
    from qscore.io.export import residues_frame

    dmap, model, result = scored
    residues = residues_frame(model, result.q)
    atoms = np.arange(model.residues.at[5, "start"], model.residues.at[5, "stop"])
    focus = viewer.Focus("A 6 XXX", atoms, result.q[atoms])
    args = (model, residues["q"].to_numpy(), result.q, 0.38)
    html = viewer.viewer_html(*args, focus=focus, dmap=dmap, contour=0.05)
    assert html == viewer.viewer_html(*args, focus=focus, dmap=dmap, contour=0.05)
    assert viewer.JS_URL in html and "cdn" not in html.lower()
    assert '"A 6 XXX"' in html and "addVolumetricData" in html
    assert "Q_peak 0.38" in html
    whole = viewer.viewer_html(*args)
    assert "whole model" in whole and "addVolumetricData" not in whole
    text, serial = viewer.model_cif(model, residues["q"].to_numpy(), 0.38)
    assert text.count("\n") == 13 + int(model.heavy.sum())
    assert serial[model.heavy].tolist() == list(range(int(model.heavy.sum())))
