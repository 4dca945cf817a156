"""Plotly figure builders: traces, bands, outlier marking and click payloads."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qscore.analysis.expected import expected_q
from qscore.plotting import figures


def _residues() -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "chain": ["A"] * 5,
            "resseq": [1, 2, 3, 4, 5],
            "icode": [""] * 5,
            "resname": ["ALA", "GLY", "LYS", "SER", "TRP"],
            "kind": ["protein"] * 5,
            "atoms": [5, 4, 9, 6, 14],
            "q": [0.5, 0.45, 0.05, 0.52, 0.6],
            "q_backbone": [0.55, 0.45, 0.3, 0.55, 0.6],
            "q_sidechain": [0.45, np.nan, -0.1, 0.5, 0.6],
        }
    )
    for col in ("q_phosphate", "q_sugar", "q_base"):
        frame[col] = np.nan
    frame.index = [10, 11, 12, 13, 14]
    return frame


def test_residue_figure_marks_outliers_and_carries_rows():
    fig = figures.residue_figure(_residues(), 3.0, 0.4)
    names = [t.name for t in fig.data]
    assert names[0] == "Backbone" and "Side chain" in names
    below = [t for t in fig.data if t.name == "below Q_low_95%"]
    assert below and all(np.all(np.asarray(t.y) < expected_q(3.0, 0.4).q_low95) for t in below)
    rows = {int(c[0]) for t in fig.data for c in t.customdata}
    assert rows == {10, 11, 12, 13, 14}
    texts = [a.text for a in fig.layout.annotations]
    assert any("LYS 3" in t for t in texts)
    assert any("Q_peak" in t for t in texts)


def test_residue_figure_smoothing_and_nucleic_series():
    residues = _residues()
    residues["q_backbone_avg3"] = 0.4
    residues["q_sidechain_avg3"] = 0.3
    fig = figures.residue_figure(residues, 3.0, 0.4, smoothing="avg3")
    assert np.allclose(fig.data[0].y, 0.4)
    assert figures.residue_series("nucleic") == ("phosphate", "sugar", "base")


def test_no_bands_without_resolution_or_for_other_sigma():
    for resolution, sigma in ((None, 0.4), (3.0, 0.5)):
        fig = figures.residue_figure(_residues(), resolution, sigma)
        assert not fig.layout.shapes
        assert all(t.name != "below Q_low_95%" for t in fig.data)


def test_annotate_residues_verdicts():
    table = figures.annotate_residues(_residues(), 3.0, 0.4)
    assert table.loc[12, "verdict"] == "below"
    assert table.loc[10, "verdict"] == "typical"
    assert table.loc[10, "deviation"] == pytest.approx(0.5 - expected_q(3.0, 0.4).q_peak)
    assert figures.annotate_residues(_residues(), None, 0.4)["verdict"].eq("").all()


def test_archive_figure_highlights_model():
    reference = pd.DataFrame({"id": ["1", "2"], "resolution": [2.0, 4.0], "qscore": [0.6, 0.3]})
    fig = figures.archive_figure(reference, model_q=0.4, resolution=3.0, label="Mine")
    assert [t.name for t in fig.data][-1] == "Mine"
    assert {"Q_peak", "Q_low_95%", "Q_high_95%"} <= {t.name for t in fig.data}


def test_archive_density_counts_every_entry_in_its_cell():
    rng = np.random.default_rng(7)
    reference = pd.DataFrame(
        {
            "id": [f"EMD-{k}" for k in range(2_003)],
            "resolution": np.r_[rng.uniform(1.5, 9.0, 2_000), 3.0, 2.99, np.nan],
            "qscore": np.r_[rng.uniform(0.0, 0.9, 2_000), 0.55, 0.546, 0.5],
        }
    )
    heatmap, legend = figures.archive_density_traces(reference)
    counts = np.asarray(heatmap.customdata)
    assert counts.sum() == 2_002  # every entry with a resolution and a Q, once
    x, y = np.asarray(heatmap.x), np.asarray(heatmap.y)
    assert np.allclose(np.diff(x), 0.1) and np.allclose(np.diff(y), 0.01)
    # The cell around 3.0 Å and Q 0.55 holds the two planted entries and any random ones in it.
    column, row = int(np.argmin(abs(x - 3.0))), int(np.argmin(abs(y - 0.55)))
    assert x[column] == pytest.approx(3.0) and y[row] == pytest.approx(0.55)
    inside = reference[
        reference["resolution"].between(2.95, 3.05, inclusive="left")
        & reference["qscore"].between(0.545, 0.555, inclusive="left")
    ]
    assert counts[row, column] == len(inside) >= 2
    z = np.asarray(heatmap.z, dtype=float)
    assert np.isnan(z[counts == 0]).all()
    assert np.allclose(z[counts > 0], np.log1p(counts[counts > 0]))
    assert legend.name == "EMDB entries (2,003), shaded by count"
    # A table with an absurd entry keeps a grid of the plot's size.
    wild = pd.concat(
        [reference, pd.DataFrame({"id": ["x"], "resolution": [1e9], "qscore": [40.0]})]
    )
    heatmap = figures.archive_density_traces(wild)[0]
    assert np.asarray(heatmap.customdata).sum() == 2_002
    assert np.asarray(heatmap.z).size < 200 * 200


def test_archive_figure_as_density_draws_no_webgl():
    reference = pd.DataFrame(
        {"id": ["1", "2", "3"], "resolution": [2.0, 3.0, 4.0], "qscore": [0.6, 0.45, 0.3]}
    )
    fig = figures.archive_figure(
        reference, model_q=0.4, resolution=3.0, label="Mine", entries="density"
    )
    assert {t.type for t in fig.data} == {"heatmap", "scatter"}
    assert fig.data[-1].name == "Mine" and fig.data[-1].type == "scatter"
    assert fig.data[-1].textfont.shadow == "auto"
    points = figures.archive_figure(reference, model_q=0.4, resolution=3.0, label="Mine")
    assert points.data[0].type == "scattergl" and points.data[-1].type == "scattergl"
    with pytest.raises(ValueError, match="entries"):
        figures.archive_figure(reference, entries="dots")


def test_molecule_and_statistics_figures_build():
    molecules = _residues().assign(kind=["ligand", "glycan", "glycan", "ion", "water"])
    fig = figures.molecule_figure(molecules, 3.0, 0.4)
    assert {t.name for t in fig.data} == {"ligand", "glycan", "ion", "water"}
    folds = {3: pd.DataFrame({"fold": [0, 1], "r2": [0.7, 0.72]})}
    assert len(figures.cross_validation_figure(folds).data) == 1
    residual = figures.residual_figure(np.array([2.0, 3.0]), np.array([0.1, -0.1]))
    assert len(residual.data) == 2
    stats = pd.DataFrame(
        {
            "window": [0.1, 0.5],
            "entries_min": [1, 5],
            "entries_mean": [10.0, 50.0],
            "entries_max": [20, 90],
            "r_below_split": [-0.1, -0.3],
            "r_from_split": [0.0, 0.01],
        }
    )
    assert len(figures.window_figure(stats).data) == 5


def test_outlier_labels_do_not_overlap_on_emd30342(emd30342_pair):
    """Chain A of EMD-30342 has clusters of outliers (A 440–470, A 590–597) whose labels used to
    print over each other: the labelled ones keep apart, the lowest is always labelled, and every
    outlier keeps its red marker."""
    from qscore.analysis.aggregate import residue_table
    from qscore.engine import score

    dmap, model = emd30342_pair
    table = residue_table(model, score(dmap, model).q)
    chain = table[(table["chain"] == "A") & (table["kind"] == "protein")]
    fig = figures.residue_figure(chain, 3.9, 0.4)
    red = [a for a in fig.layout.annotations if a.font.color == figures.RED]
    span = float(np.ptp(chain["resseq"]))
    assert len(red) >= 5
    for i, a in enumerate(red):
        for b in red[i + 1 :]:
            assert abs(a.x - b.x) >= 0.07 * span or abs(a.y - b.y) >= 0.06, (a.text, b.text)
    low = expected_q(3.9, 0.4).q_low95
    lowest = min(min(t.y) for t in fig.data if t.name == "below Q_low_95%")
    assert min(a.y for a in red) == pytest.approx(lowest)
    marked = sum(len(t.y) for t in fig.data if t.name == "below Q_low_95%")
    below = sum(
        int(np.count_nonzero(chain[c].to_numpy(dtype=float) < low))
        for c in ("q_backbone", "q_sidechain")
    )
    assert marked == below
