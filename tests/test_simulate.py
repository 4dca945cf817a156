"""Simulated maps: box placement, determinism, noise and the resolution cut."""

from __future__ import annotations

import numpy as np
import pytest

from qscore.errors import ParameterError
from qscore.io.maps import DensityMap, sample
from qscore.synthetic.builder.protein import build_protein
from qscore.synthetic.simulate import simulate_map


@pytest.fixture(scope="module")
def helix():
    return build_protein("MSPEELLKKAEELIKRAQEGS", "LLHHHHHHHHHHHHHHHHLLL", seed=1)


def _xyz(st) -> np.ndarray:
    return np.array([a.pos.tolist() for ch in st[0] for r in ch for a in r])


def _power(dmap: DensityMap) -> tuple[np.ndarray, np.ndarray]:
    """Radially averaged power spectrum: (spatial frequency 1/Å, power)."""
    v = dmap.values - dmap.values.mean()
    f = np.abs(np.fft.rfftn(v)) ** 2
    step = float(dmap.voxel_size[0])
    fz = np.fft.fftfreq(v.shape[0], step)
    fy = np.fft.fftfreq(v.shape[1], step)
    fx = np.fft.rfftfreq(v.shape[2], step)
    s = np.sqrt(fz[:, None, None] ** 2 + fy[None, :, None] ** 2 + fx[None, None, :] ** 2)
    return s.ravel(), f.ravel()


def test_box_covers_model_with_padding(helix):
    dmap = simulate_map(helix, 3.0, padding=5.0)
    xyz = _xyz(helix)
    step = dmap.voxel_size
    assert dmap.values.dtype == np.float32 and dmap.values.flags.c_contiguous
    assert np.allclose(step, 1.0)
    upper = dmap.origin + step * (np.array(dmap.values.shape[::-1]) - 1)
    assert np.all(dmap.origin <= xyz.min(axis=0) - 5.0 + 1e-9)
    assert np.all(upper >= xyz.max(axis=0) + 5.0 - 1.0)
    assert np.allclose(dmap.origin / step, np.round(dmap.origin / step))
    assert simulate_map(helix, 1.5).voxel_size[0] == pytest.approx(0.5)
    assert simulate_map(helix, 3.0, voxel=0.8).voxel_size[0] == pytest.approx(0.8)


def test_density_peaks_at_atoms(helix):
    dmap = simulate_map(helix, 2.0)
    at_atoms = sample(dmap, _xyz(helix))
    assert at_atoms.mean() > dmap.values.mean() + 3 * dmap.values.std()


def test_deterministic_and_seeded(helix):
    a = simulate_map(helix, 3.0, noise=0.3, seed=4)
    b = simulate_map(helix, 3.0, noise=0.3, seed=4)
    c = simulate_map(helix, 3.0, noise=0.3, seed=5)
    assert np.array_equal(a.values, b.values)
    assert not np.array_equal(a.values, c.values)
    clean = simulate_map(helix, 3.0)
    assert np.std(a.values - clean.values) > 0


def test_resolution_cut_removes_high_frequencies(helix):
    for d in (2.0, 4.0):
        s, p = _power(simulate_map(helix, d, voxel=0.5, noise=0.3, seed=1))
        inside = p[(s > 0.3 / d) & (s < 0.8 / d)].mean()
        outside = p[s > 1.2 / d].mean()
        assert outside < 1e-6 * inside
    sharp = _power(simulate_map(helix, 3.0, sharpen_b=-50.0))
    plain = _power(simulate_map(helix, 3.0))
    band = (plain[0] > 0.25) & (plain[0] < 0.3)
    assert sharp[1][band].mean() > plain[1][band].mean()


def test_b_factors_blur(helix):
    n = len(_xyz(helix))
    sharp = simulate_map(helix, 2.0, b_factors=np.full(n, 10.0))
    blurred = simulate_map(helix, 2.0, b_factors=np.full(n, 150.0))
    assert sharp.values.max() > 2.0 * blurred.values.max()
    with pytest.raises(ParameterError):
        simulate_map(helix, 2.0, b_factors=np.ones(3))
    with pytest.raises(ParameterError):
        simulate_map(helix, 0.0)
    with pytest.raises(ParameterError):
        simulate_map(helix, 3.0, noise=-1.0)
