"""Figure builders for B-factors from Q-scores and the residue slices they draw."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qscore.analysis.modelmap import molmap, residue_slices
from qscore.errors import ParameterError
from qscore.io.maps import sample
from qscore.plotting.bfactor import (
    BEST,
    OTHER,
    f_scan_figure,
    residue_label,
    residue_slices_figure,
    worst_residues,
)
from tests.test_modelmap import experimental_like, small_model


def test_f_scan_figure_highlights_the_best_bar():
    scan = pd.DataFrame({"f": [0.0, 20.0, 40.0, 60.0], "cc_mean": [0.80, 0.84, 0.83, 0.81]})
    fig = f_scan_figure(scan, 20.0)
    bar = fig.data[0]
    assert list(bar.x) == [0, 20, 40, 60]
    assert list(bar.marker.color) == [OTHER, BEST, OTHER, OTHER]
    assert "f = 20" in fig.layout.title.text and "0.8400" in fig.layout.title.text
    lo, hi = fig.layout.yaxis.range
    assert lo < 0.80 and 0.84 < hi < 0.85


def test_f_scan_figure_with_nan_values():
    scan = pd.DataFrame({"f": [0.0, 20.0], "cc_mean": [np.nan, 0.5]})
    fig = f_scan_figure(scan, 20.0)
    assert list(fig.data[0].marker.color) == [OTHER, BEST]


def test_residue_slices_lie_in_the_residue_plane():
    model = small_model()
    dmap = experimental_like(model)
    mol = molmap(model, 4.0)
    slices = residue_slices({"Map": dmap, "Model": mol}, model, 2, step=0.5)
    assert slices.values["Map"].shape == (len(slices.v), len(slices.u))
    np.testing.assert_allclose(slices.axes @ slices.axes.T, np.eye(3), atol=1e-9)
    assert np.linalg.det(slices.axes) > 0
    assert len(slices.atoms) == 5
    j, i = len(slices.v) // 3, len(slices.u) // 2
    point = slices.centre + slices.u[i] * slices.axes[0] + slices.v[j] * slices.axes[1]
    assert slices.values["Model"][j, i] == pytest.approx(sample(mol, point[None])[0], rel=1e-5)
    xyz = model.xyz[model.residue_index == 2]
    back = slices.centre + slices.atoms[["u", "v", "depth"]].to_numpy() @ slices.axes
    np.testing.assert_allclose(back, xyz, atol=1e-9)
    with pytest.raises(ParameterError, match="no atoms"):
        residue_slices({"Map": dmap}, model, 99)


def test_residue_slices_figure_panels_and_shared_model_scale():
    model = small_model()
    dmap = experimental_like(model)
    maps = {"Map": dmap, "B = 0": molmap(model, 3.0), "B from Q": molmap(model, 5.0)}
    fig = residue_slices_figure(residue_slices(maps, model, 1), title="A 2 ALA")
    heatmaps = [t for t in fig.data if t.type == "heatmap"]
    assert len(heatmaps) == 3
    assert (heatmaps[1].zmin, heatmaps[1].zmax) == (heatmaps[2].zmin, heatmaps[2].zmax)
    assert [a.text for a in fig.layout.annotations] == list(maps)
    assert fig.layout.title.text == "A 2 ALA"


def test_worst_residues_and_labels():
    table = pd.DataFrame(
        {
            "chain": ["A", "A", "B"],
            "resseq": [1, 2, 3],
            "icode": ["", "A", ""],
            "resname": ["ALA", "GLY", "SER"],
            "cc_mean": [0.5, np.nan, 0.2],
        }
    )
    worst = worst_residues(table, n=2)
    assert list(worst.index) == [2, 0]
    assert residue_label(table.iloc[1]) == "A 2A GLY"
