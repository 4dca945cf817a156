"""Archive statistics: synthetic checks and the paper's 10,188-entry data set."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from qscore.analysis.archive import (
    cross_validate,
    fit_statistical_model,
    offsets,
    peak_offset,
    polynomial_fits,
    window_statistics,
)
from qscore.analysis.reference import ReferenceTable, load_reference

SHARED = Path(__file__).resolve().parents[2] / "shared"
PAPER_CSV = SHARED / "data" / "emdb" / "emdb_qscores_sigma0.4_10188.csv"
EQUATION_1 = [-0.0016, 0.0434, -0.3956, 1.3366]


@pytest.fixture(scope="module")
def paper_table() -> ReferenceTable:
    if not PAPER_CSV.is_file():
        pytest.skip(f"shared paper data not found at {PAPER_CSV}")
    return load_reference(PAPER_CSV)


def _synthetic(noise: float = 0.0, n: int = 500) -> ReferenceTable:
    rng = np.random.default_rng(3)
    d = rng.uniform(1, 10, n)
    q = np.polyval([0.01, -0.2, 1.2], d) + noise * rng.standard_normal(n)
    data = pd.DataFrame({"id": [str(i) for i in range(n)], "resolution": d, "qscore": q})
    return ReferenceTable(data=data, source="synthetic")


def test_exact_quadratic_recovered():
    fits = polynomial_fits(_synthetic())
    row = fits[fits["degree"] == 2].iloc[0]
    assert row["r2"] == pytest.approx(1.0)
    assert row["coefficients"] == pytest.approx([0.01, -0.2, 1.2], abs=1e-9)


def test_cross_validation_deterministic():
    table = _synthetic(noise=0.05)
    a, b = cross_validate(table, 2), cross_validate(table, 2)
    assert a.rmse == b.rmse and a.mae == b.mae
    assert len(a.per_fold) == 10
    assert (a.per_fold["test"] == 50).all() and (a.per_fold["train"] == 450).all()
    assert a.rmse == pytest.approx(0.05, abs=0.01)


def test_peak_bins_are_aligned_on_multiples_of_width():
    assert peak_offset(np.array([0.021, 0.029, 0.025, 0.011, 0.5]))[0] == pytest.approx(0.025)
    assert peak_offset(np.array([-0.001, -0.009, 0.001]))[0] == pytest.approx(-0.005)


def test_window_statistics_counts():
    data = pd.DataFrame(
        {"id": list("abcd"), "resolution": [2.0, 2.5, 3.0, 8.0], "qscore": [0.8, 0.6, 0.5, 0.1]}
    )
    frame = window_statistics(ReferenceTable(data=data, source="t"), windows=(0.5,))
    row = frame.iloc[0]
    assert row["entries_min"] == 1 and row["entries_max"] == 3
    assert row["entries_mean"] == pytest.approx((2 + 3 + 2 + 1) / 4)


def test_paper_r2_and_coefficients(paper_table):
    fits = polynomial_fits(paper_table).set_index("degree")
    for degree, r2 in zip((1, 2, 3, 4), (0.596, 0.700, 0.704, 0.706), strict=True):
        print(f"degree {degree}: R2 {fits.loc[degree, 'r2']:.4f} (paper {r2})")
        assert fits.loc[degree, "r2"] == pytest.approx(r2, abs=0.002)
    assert fits.loc[3, "coefficients"] == pytest.approx(EQUATION_1, abs=0.001)


def test_paper_cross_validation(paper_table):
    cv = cross_validate(paper_table, 3)
    print(f"CV R2 {cv.r2:.4f} RMSE {cv.rmse:.4f} MAE {cv.mae:.4f} (paper 0.7 / 0.07 / 0.05)")
    assert cv.rmse == pytest.approx(0.07, abs=0.01)
    assert cv.mae == pytest.approx(0.05, abs=0.01)
    assert cv.r2 == pytest.approx(0.70, abs=0.01)


def test_paper_offsets(paper_table):
    off = offsets(paper_table, np.array(EQUATION_1))
    print(f"offsets peak {off.peak:+.3f} low {off.low95:+.3f} high {off.high95:+.3f}")
    assert off.peak == pytest.approx(0.024, abs=0.01)
    assert off.low95 == pytest.approx(-0.126, abs=0.015)
    assert off.high95 == pytest.approx(0.109, abs=0.015)


def test_paper_correlations_fig_s5(paper_table):
    frame = window_statistics(paper_table, windows=(0.1, 0.5)).set_index("window")
    assert abs(frame.loc[0.1, "r_below_split"]) < 0.1
    assert frame.loc[0.5, "r_below_split"] == pytest.approx(-0.3, abs=0.05)
    assert abs(frame.loc[0.5, "r_from_split"]) < 0.2


def test_fit_statistical_model_json(paper_table):
    result = fit_statistical_model(paper_table, windows=False)
    text = json.dumps(result, allow_nan=False)
    assert {"polynomial", "cross_validation", "offsets", "entries", "source"} <= set(
        json.loads(text)
    )
    assert result["entries"] == 10188
    assert [p["degree"] for p in result["polynomial"]] == [1, 2, 3, 4]
    assert "windows" not in result
