"""The outlier walk: the same residues the per-residue plot marks red, in two orders; waters only
when asked."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qscore.analysis.expected import expected_q
from qscore.analysis.outliers import (
    ORDERS,
    outlier_rows,
    shortfall,
    step,
    without_water_verdicts,
)


@pytest.fixture(scope="module")
def residues(emd30342_pair):
    from qscore.engine import score
    from qscore.io.export import residues_frame

    dmap, model = emd30342_pair
    return residues_frame(model, score(dmap, model).q)


def test_outliers_are_the_red_points_of_the_plot(residues):
    from qscore.plotting.figures import residue_figure

    figure = residue_figure(residues, 3.9, 0.4)
    red = {
        int(float(c[0]))
        for trace in figure.data
        if trace.name == "below Q_low_95%"
        for c in trace.customdata
    }
    rows = outlier_rows(residues, 3.9, 0.4)
    assert red and set(rows) == red
    numbers = residues.loc[rows, "resseq"].to_numpy()
    assert np.all(np.diff(numbers) > 0)


def test_ordered_by_distance_below_the_band(residues):
    low = expected_q(3.9, 0.4).q_low95
    rows = outlier_rows(residues, 3.9, 0.4, order=ORDERS[1])
    depth = [
        low - np.nanmin(residues.loc[r, ["q_backbone", "q_sidechain"]].to_numpy(dtype=float))
        for r in rows
    ]
    assert depth == sorted(depth, reverse=True) and depth[-1] > 0
    assert set(rows) == set(outlier_rows(residues, 3.9, 0.4))
    assert shortfall(residues, low)[rows[0]] == pytest.approx(depth[0])


def test_no_resolution_no_outliers(residues):
    assert outlier_rows(residues, None, 0.4) == []
    assert outlier_rows(residues, 3.9, 0.9) == []


def test_waters_only_when_asked():
    table = pd.DataFrame(
        {
            "chain": ["A", "A", "A", "B"],
            "resseq": [5, 2, 300, 1],
            "kind": ["protein", "protein", "water", "ligand"],
            "q": [0.1, 0.5, 0.0, 0.05],
            "q_backbone": [0.1, 0.5, np.nan, np.nan],
            "q_sidechain": [0.4, 0.05, np.nan, np.nan],
        },
        index=[10, 11, 12, 13],
    )
    assert outlier_rows(table, 3.0, 0.4) == [11, 10, 13]
    assert outlier_rows(table, 3.0, 0.4, include_water=True) == [11, 10, 12, 13]
    assert outlier_rows(table, 3.0, 0.4, order=ORDERS[1]) == [11, 13, 10]
    annotated = table.assign(expected=0.5, deviation=table["q"] - 0.5, verdict="below")
    plain = without_water_verdicts(annotated)
    assert plain.loc[12, "verdict"] == "" and np.isnan(plain.loc[12, "deviation"])
    assert plain.loc[10, "verdict"] == "below"


def test_step_wraps_and_starts_from_anywhere():
    rows = [4, 9, 2]
    assert step(rows, 9, +1) == 2 and step(rows, 2, +1) == 4
    assert step(rows, 4, -1) == 2
    assert step(rows, None, +1) == 4 and step(rows, 77, -1) == 2
    assert step([], 3, 1) is None
