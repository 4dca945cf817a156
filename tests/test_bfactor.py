"""B-factors from Q-scores: the f scan, a simulated map with known B-factors, and EMD-30342."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from qscore import defaults
from qscore.analysis.bfactor import (
    b_from_q,
    estimate_bfactors,
    f_values,
    model_correlations,
    parse_f_range,
    residue_b_table,
    residue_correlations,
)
from qscore.analysis.modelmap import electron_map_box
from qscore.engine import score
from qscore.errors import NoOverlapError, ParameterError
from qscore.io.maps import DensityMap
from tests.conftest import EMD30342, require
from tests.test_modelmap import experimental_like, small_model


def simulated(model, b_true: np.ndarray, resolution: float, noise: float, seed: int) -> DensityMap:
    """The model's electron map with ``b_true`` at ``resolution`` on a 1 Å grid, plus noise."""
    clean = electron_map_box(model, resolution, voxel=1.0, b_iso=b_true)
    rng = np.random.default_rng(seed)
    values = clean.values + rng.normal(0.0, noise * clean.values.std(), clean.values.shape)
    return DensityMap(values, clean.origin, clean.voxel_size)


def test_f_values_and_parsing():
    np.testing.assert_allclose(f_values(), np.arange(0, 301, 20))
    assert len(f_values(defaults.F_RANGE)) == 16
    np.testing.assert_allclose(f_values((50, 50, 10)), [50])
    assert parse_f_range("0:300:20") == (0.0, 300.0, 20.0)
    assert parse_f_range("10:100:45") == (10.0, 100.0, 45.0)
    np.testing.assert_allclose(f_values((10, 100, 45)), [10, 55, 100])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("300:0:20", "empty"),
        ("0:300", "START:STOP:STEP"),
        ("a:b:c", "with numbers"),
        ("0:300:0", "step must be positive"),
        ("0:300:-20", "step must be positive"),
        ("-20:300:20", "cannot be negative"),
        ("0:1e9:1", "at most 1000"),
        ("0:inf:20", "finite"),
    ],
)
def test_bad_f_range(text, message):
    with pytest.raises(ParameterError, match=message):
        parse_f_range(text)


def test_b_from_q_clips_and_fills():
    q = np.array([1.2, 1.0, 0.5, 0.0, -0.3, np.nan])
    np.testing.assert_allclose(b_from_q(q, 200), [0, 0, 100, 200, 200, 200])


def test_small_scan_progress_and_hydrogen_free_results():
    model = small_model()
    dmap = experimental_like(model)
    q = score(dmap, model, sigma=0.6).q
    calls = []
    result = estimate_bfactors(
        dmap, model, q, 4.0, f_range=(0, 100, 50), progress=lambda *a: calls.append(a)
    )
    assert list(result.scan["f"]) == [0.0, 50.0, 100.0]
    assert list(result.scan.columns) == ["f", "cc_mean", "cc", "n_points"]
    assert result.best_f in (0.0, 50.0, 100.0)
    assert result.cc_mean_best == pytest.approx(result.scan["cc_mean"].max())
    assert result.cc_mean_b0 == pytest.approx(result.scan["cc_mean"].iloc[0])
    np.testing.assert_allclose(result.b_iso, b_from_q(q, result.best_f))
    assert calls[0][0] == 0 and calls[-1][0] == calls[-1][1]
    assert [c[0] for c in calls] == sorted(c[0] for c in calls)
    with pytest.raises(ParameterError, match="aligned"):
        estimate_bfactors(dmap, model, q[:-1], 4.0)


@pytest.mark.parametrize("resolution", [0.0, -3.0])
def test_bad_resolution(resolution):
    model = small_model()
    dmap = experimental_like(model)
    with pytest.raises(ParameterError, match="positive number"):
        estimate_bfactors(dmap, model, np.full(model.n_atoms, 0.5), resolution)


def test_no_overlap():
    model = small_model()
    dmap = experimental_like(model)
    far = small_model(shift=400.0)
    with pytest.raises(NoOverlapError, match="outside the map"):
        estimate_bfactors(dmap, far, np.full(far.n_atoms, 0.5), 4.0)


def test_simulated_map_recovers_smooth_b_factors():
    model = require(EMD30342 / "7cec_chainA.cif")
    from qscore.io.models import read_model

    model = read_model(model)
    rng = np.random.default_rng(11)
    phase = model.residue_index / len(model.residues)
    b_true = 85.0 - 65.0 * np.cos(4.0 * np.pi * phase) + rng.normal(0.0, 8.0, model.n_atoms)
    b_true = np.clip(b_true, 20.0, 150.0)
    model = replace(model, b_iso=b_true)
    dmap = simulated(model, b_true, 3.0, noise=0.1, seed=5)
    q = score(dmap, model, sigma=defaults.SIGMA).q
    result = estimate_bfactors(dmap, model, q, 3.0)
    b_res = residue_b_table(model, result.b_iso)["mean_b"].to_numpy()
    t_res = residue_b_table(model, b_true)["mean_b"].to_numpy()
    r_residue = np.corrcoef(b_res, t_res)[0, 1]
    heavy = model.heavy
    r_atom = np.corrcoef(result.b_iso[heavy], b_true[heavy])[0, 1]
    print(
        f"\nsimulated 3 Å map: best f {result.best_f:g}; Pearson r of B from Q with the true B: "
        f"residues {r_residue:.3f}, atoms {r_atom:.3f}; CC-mean B from Q "
        f"{result.cc_mean_best:.4f}, B = 0 {result.cc_mean_b0:.4f}, true B "
        f"{result.cc_mean_deposited:.4f}"
    )
    assert r_residue >= 0.8
    assert r_atom > 0.3
    assert result.cc_mean_best > result.cc_mean_b0


def test_emd30342(emd30342_pair):
    dmap, model = emd30342_pair
    q = score(dmap, model, sigma=defaults.SIGMA).q
    result = estimate_bfactors(dmap, model, q, 3.9)
    corr = model_correlations(dmap, model, 3.9)
    print(
        f"\nEMD-30342 / 7cec chain A at 3.9 Å: best f {result.best_f:g}; CC-mean B from Q "
        f"{result.cc_mean_best:.4f}, B = 0 {result.cc_mean_b0:.4f}, deposited "
        f"{result.cc_mean_deposited:.4f}; molmap CC {corr['cc']:.4f}, CC-mean "
        f"{corr['cc_mean']:.4f}; scan {result.seconds:.2f} s"
    )
    assert result.cc_mean_best >= result.cc_mean_b0
    assert 0 < result.best_f < 300
    assert 0.7 < corr["cc"] < 1 and 0.4 < corr["cc_mean"] < 1
    assert set(corr["chains"]) == {"A"}
    table = residue_correlations(dmap, model, 3.9, result.b_iso)
    assert len(table) == len(model.residues)
    assert table["cc_mean_b"].median() > table["cc_mean"].median()
    assert np.isfinite(table["mean_b"]).all()
