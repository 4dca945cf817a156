"""The NumPy reference engine: the same numbers as the compiled kernel, MapQ's rejection rule
checked against a plain transcription, and the engine choice (``QSCORE_ENGINE``, fallback)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qscore import engine
from qscore.cli.main import main
from qscore.engine import choice, compiled, numpy_engine, shells
from qscore.errors import DenseModelError, EngineError
from qscore.io.export import pdb_text
from qscore.io.maps import DensityMap, write_map
from qscore.pipeline import load
from tests.test_engine import gaussian_map, make_model

MODES = ("direct", "mapq-multiprocess")
#: The issue's bound; the two engines do the same arithmetic, so the difference is 0 in practice.
AGREEMENT = 1e-9


def _both(dmap, model, **kwargs) -> tuple[np.ndarray, np.ndarray]:
    """Q from the compiled kernel and from the NumPy engine, each checked to be the one used."""
    results = {name: engine.score(dmap, model, engine=name, **kwargs) for name in engine.ENGINES}
    for name, result in results.items():
        assert result.engine == name
    return results["compiled"].q, results["numpy"].q


def _max_difference(a: np.ndarray, b: np.ndarray) -> float:
    assert np.array_equal(np.isnan(a), np.isnan(b))
    return float(np.nanmax(np.abs(a - b), initial=0.0))


# --------------------------------------------------------------------------- EMD-30342


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("sigma", [0.6, 0.4])
def test_numpy_engine_matches_the_kernel_on_emd30342(emd30342_pair, sigma, mode):
    dmap, model = emd30342_pair
    kernel, numpy = _both(dmap, model, sigma=sigma, mode=mode)
    worst = _max_difference(kernel, numpy)
    print(f"EMD-30342 sigma {sigma} {mode}: max |dQ| numpy vs kernel {worst:.3g}")
    assert worst <= AGREEMENT
    assert np.count_nonzero(np.isfinite(numpy)) == 4308


# --------------------------------------------------------------------------- generated models

_CARBONS = 24


def _carbons(n: int):
    """A model of ``n`` carbon atoms (one ligand), to be moved with ``with_coordinates``."""
    return make_model([("C", f"C{i}", "LIG", 1, (float(i), 0.0, 0.0)) for i in range(n)])


_MODELS = {n: _carbons(n) for n in (2, 6, 12, _CARBONS)}


def _noisy_map(xyz: np.ndarray, seed: int, axes: np.ndarray | None, voxel: float) -> DensityMap:
    """Gaussians at the atoms plus noise, on a grid that ends close to some of them."""
    base = gaussian_map(xyz, 0.8, voxel=voxel, pad=1.5)
    rng = np.random.default_rng(seed)
    values = base.values + 0.1 * rng.standard_normal(base.values.shape).astype(np.float32)
    return DensityMap(values, base.origin, base.voxel_size, axes=axes)


def _skewed_axes(beta: float, gamma: float) -> np.ndarray:
    """Grid axes of a cell with angles alpha = 90°, beta and gamma (degrees), as unit columns."""
    b, g = np.radians(beta), np.radians(gamma)
    a_axis = np.array([1.0, 0.0, 0.0])
    b_axis = np.array([np.cos(g), np.sin(g), 0.0])
    cx = np.cos(b)
    cy = (0.0 - np.cos(b) * np.cos(g)) / np.sin(g)
    c_axis = np.array([cx, cy, np.sqrt(1.0 - cx * cx - cy * cy)])
    return np.stack([a_axis, b_axis, c_axis], axis=1)


@st.composite
def crowded_models(draw):
    """Atoms in clusters: pairs closer than 1 Å, neighbours around 0.9·R–1.9·R, duplicates."""
    n = draw(st.sampled_from(sorted(_MODELS)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    spread = draw(st.sampled_from([0.6, 1.5, 3.0]))
    xyz = 6.0 + rng.uniform(0.0, spread * n ** (1 / 3), size=(n, 3))
    if draw(st.booleans()):
        xyz[1] = xyz[0] + rng.normal(0.0, 1.0, 3) * draw(st.floats(0.05, 1.9))
    if n > 2 and draw(st.booleans()):
        xyz[2] = xyz[0]
    return _MODELS[n].with_coordinates(xyz.round(draw(st.sampled_from([3, 6, 12]))))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    model=crowded_models(),
    seed=st.integers(0, 1000),
    mode=st.sampled_from(MODES),
    sigma=st.sampled_from([0.4, 0.6, 1.0]),
    skew=st.sampled_from([None, (90.0, 120.0), (100.0, 75.0)]),
    voxel=st.sampled_from([0.5, 0.83, 1.1]),
    edge=st.floats(-1.0, 2.5),
)
def test_numpy_engine_matches_the_kernel_on_generated_models(
    model, seed, mode, sigma, skew, voxel, edge
):
    """Close neighbours, atoms on and beyond the map's edge, orthogonal and skewed cells."""
    axes = None if skew is None else _skewed_axes(*skew)
    dmap = _noisy_map(model.xyz, seed, axes, voxel)
    # The first atom moves to `edge` Å inside (negative: outside) the map's lower x face.
    xyz = model.xyz.copy()
    xyz[0, 0] = dmap.origin[0] + edge
    model = model.with_coordinates(xyz)
    kernel, numpy = _both(dmap, model, sigma=sigma, mode=mode)
    assert _max_difference(kernel, numpy) <= AGREEMENT


# --------------------------------------------------------------------------- the rule itself


def _plain_shell(centre, radius: float, others: np.ndarray, others32: np.ndarray | None):
    """MapQ's shell points written out point by point with Python floats (no NumPy engine)."""
    lim2 = (0.9 * radius) * (0.9 * radius)
    for n_points in range(8, 108, 2):
        kept = []
        for ux, uy, uz in shells.spiral_points(n_points).tolist():
            p = (centre[0] + radius * ux, centre[1] + radius * uy, centre[2] + radius * uz)

            def close(atom, p=p):
                d = [p[a] - atom[a] for a in range(3)]
                return d[0] * d[0] + d[1] * d[1] + d[2] * d[2] < lim2

            rejected = any(
                close(atom) and (others32 is None or close(others32[k]))
                for k, atom in enumerate(others.tolist())
            )
            if not rejected:
                kept.append(p)
        if len(kept) >= 8:
            return np.array(kept)
    return np.empty((0, 3))


@settings(max_examples=20, deadline=None)
@given(model=crowded_models(), single=st.booleans())
def test_shell_points_follow_mapqs_rule_written_out(model, single):
    """The shells of the first atoms equal the point-by-point rule over every other atom."""
    xyz = model.xyz
    xyz32 = xyz.astype(np.float32).astype(np.float64) if single else None
    near, _ = numpy_engine.find_neighbours(xyz, xyz, single_precision_check=single)
    for radius in shells.RADII[1::4]:
        points, count = numpy_engine.shell_points(xyz, float(radius), near)
        for i in range(min(len(xyz), 4)):
            expected = _plain_shell(xyz[i].tolist(), float(radius), xyz, xyz32)
            np.testing.assert_array_equal(points[i, : count[i]], expected)


def test_crowded_atoms_match_the_kernel_and_the_rule():
    """80 atoms piled within a few Å (about 30 within 2 Å of each, still under the packing
    check's limit): more neighbours in reach than are tested one at a time, so the points still
    standing are tested against the farther ones in blocks."""
    rng = np.random.default_rng(11)
    model = _carbons(80).with_coordinates(8.0 + rng.normal(0.0, 1.2, (80, 3)))
    near, _ = numpy_engine.find_neighbours(model.xyz, model.xyz, single_precision_check=True)
    assert near.dist.shape[1] > numpy_engine._COLUMNS
    dmap = _noisy_map(model.xyz, 2, None, 0.5)
    for mode in MODES:
        kernel, numpy = _both(dmap, model, sigma=0.6, mode=mode)
        assert _max_difference(kernel, numpy) <= AGREEMENT
    xyz32 = model.xyz.astype(np.float32).astype(np.float64)
    first, _ = numpy_engine.find_neighbours(model.xyz[:2], model.xyz, single_precision_check=True)
    for radius in (shells.RADII[9], shells.RADII[19]):
        points, count = numpy_engine.shell_points(model.xyz[:2], float(radius), first)
        for i in range(2):
            expected = _plain_shell(model.xyz[i].tolist(), float(radius), model.xyz, xyz32)
            np.testing.assert_array_equal(points[i, : count[i]], expected)


def _directions(rng: np.random.Generator, n: int, sign: float) -> np.ndarray:
    """``n`` random unit vectors in the hemisphere of ``sign``·z."""
    v = rng.normal(size=(n, 3))
    v[:, 2] = sign * np.abs(v[:, 2])
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_capped_neighbours_match_the_kernel_and_say_so(monkeypatch):
    """An atom with 210 others within 3.8 Å: 150 close ones below it, 60 farther ones above. Both
    engines keep only the nearest 128 (all below), so the upper points of the large shells stand;
    with every neighbour they would fall, and Q would differ."""
    rng = np.random.default_rng(5)
    below = _directions(rng, 150, -1.0) * rng.uniform(2.0, 2.6, (150, 1))
    above = _directions(rng, 60, 1.0) * rng.uniform(3.0, 3.6, (60, 1))
    centre = np.array([20.0, 20.0, 20.0])
    atoms = [("C", "C1", "LIG", 1, tuple(centre))]
    atoms += [("O", "O1", "HOH", i + 2, tuple(centre + v)) for i, v in enumerate([*below, *above])]
    model = make_model(atoms)
    dmap = _noisy_map(model.xyz, 4, None, 0.5)
    results = {
        name: engine.score(dmap, model, selection=[0], engine=name) for name in engine.ENGINES
    }
    assert _max_difference(results["compiled"].q, results["numpy"].q) <= AGREEMENT
    assert results["compiled"].notes == results["numpy"].notes
    assert any(f"only the nearest {shells.NEIGHBOUR_LIMIT}" in n for n in results["numpy"].notes)
    near, over = numpy_engine.find_neighbours(centre, model.xyz, single_precision_check=False)
    assert over == 1 and near.dist.shape == (1, shells.NEIGHBOUR_LIMIT)
    monkeypatch.setattr(numpy_engine, "NEIGHBOUR_LIMIT", 1000)
    uncapped = engine.score(dmap, model, selection=[0], engine="numpy")
    assert abs(uncapped.q[0] - results["numpy"].q[0]) > 0.05


def test_a_dense_pile_is_refused_by_both_engines_with_the_same_count():
    """16,000 atoms spaced like a protein and 14,000 piled into a 3 Å cube: the NumPy engine
    counts the neighbour search's work exactly as the kernel does (no distances, so the count
    itself is fast), and refuses the model with the same sentence."""
    rng = np.random.default_rng(3)
    grid = np.stack(np.meshgrid(*[np.arange(25) * 2.5] * 3, indexing="ij"), -1).reshape(-1, 3)
    xyz = np.vstack([grid[:16000] + 10.0, 40.0 + rng.uniform(0, 3, (14000, 3))])
    index = compiled.cell_index(xyz, shells.REACH)
    for centres in (xyz, xyz[:500] + 0.3, np.array([[1e4, 0.0, 0.0]])):
        expected = compiled.candidates(index, centres, shells.REACH)
        assert numpy_engine.candidates(centres, xyz) == expected
    assert numpy_engine.candidates(xyz, xyz) > 14_000**2
    model = make_model([("C", "C1", "LIG", i + 1, tuple(p)) for i, p in enumerate(xyz)])
    dmap = DensityMap(
        rng.normal(size=(20, 20, 20)).astype(np.float32), np.zeros(3), np.full(3, 5.0)
    )
    for name in engine.ENGINES:
        with pytest.raises(DenseModelError, match="denser than any molecule.*nm rather than Å"):
            engine.score(dmap, model, engine=name)


def _float32_tie():
    """A centre and a neighbour that rejects the first spiral point of the 1 Å shell in float64
    (0.9·R minus 1e-9 away) but not at its float32-rounded position (2e-7 Å further)."""
    radius = float(shells.RADII[9])
    f = float(np.float32(10.25))
    neighbour = np.array([4.0, 5.0, f + 2e-7])
    assert float(np.float32(neighbour[2])) == f
    point = neighbour + np.array([0.0, 0.0, 0.9 * radius - 1e-9])
    centre = point - radius * shells.spiral_points(8)[0]
    return radius, centre, neighbour


def test_float32_rule_decides_a_tie_only_in_direct_mode():
    radius, centre, neighbour = _float32_tie()
    xyz = np.stack([centre, neighbour])
    counts = {}
    for single in (True, False):
        near, _ = numpy_engine.find_neighbours(xyz[:1], xyz, single_precision_check=single)
        points, count = numpy_engine.shell_points(xyz[:1], radius, near)
        xyz32 = xyz.astype(np.float32).astype(np.float64) if single else None
        np.testing.assert_array_equal(
            points[0, : count[0]], _plain_shell(centre, radius, xyz, xyz32)
        )
        counts[single] = int(count[0])
    # Direct mode keeps the 8-point spiral whole; double precision alone rejects one point and
    # moves on to a larger spiral.
    assert counts[True] == 8 and counts[False] == 9


def test_both_engines_sample_the_float32_tie_alike():
    radius, centre, neighbour = _float32_tie()
    model = _MODELS[2].with_coordinates(np.stack([centre, neighbour]))
    dmap = _noisy_map(model.xyz, 1, None, 0.5)
    for mode in MODES:
        a = engine.atom_samples(dmap, model, 0, sigma=0.6, mode=mode, engine="compiled")
        b = engine.atom_samples(dmap, model, 0, sigma=0.6, mode=mode, engine="numpy")
        np.testing.assert_array_equal(a.points, b.points)
        np.testing.assert_array_equal(a.values, b.values)
        assert a.q == b.q
        assert np.count_nonzero(a.radius == radius) == (8 if mode == "direct" else 9)


def test_sampling_matches_the_kernel_bit_for_bit_on_a_skewed_cell():
    rng = np.random.default_rng(5)
    values = rng.standard_normal((12, 14, 16)).astype(np.float32)
    dmap = DensityMap(values, np.array([1.3, -2.1, 0.7]), np.array([0.9, 1.1, 1.0]))
    skewed = DensityMap(values, dmap.origin, dmap.voxel_size, axes=_skewed_axes(104.0, 71.0))
    for m in (dmap, skewed):
        points = rng.uniform(-3.0, 20.0, size=(20000, 3))
        np.testing.assert_array_equal(
            engine.sample_points(m, points, engine="numpy"),
            engine.sample_points(m, points, engine="compiled"),
        )


# --------------------------------------------------------------------------- choosing the engine


def test_the_numpy_engine_stands_in_when_the_kernel_is_missing(monkeypatch, caplog):
    """Without a kernel, ``auto`` scores with NumPy (same numbers) and says so once."""
    model = make_model([("C", f"C{i}", "LIG", 1, (5.0 + i, 5.0 + 0.7 * i, 5.0)) for i in range(5)])
    dmap = gaussian_map(model.xyz, 0.9)
    expected = engine.score(dmap, model, engine="compiled").q
    monkeypatch.delenv(choice.ENV, raising=False)
    monkeypatch.setattr(compiled, "available", lambda: False)
    choice._notice_fallback.cache_clear()
    with caplog.at_level(logging.WARNING, logger="qscore"):
        first = engine.score(dmap, model)
        second = engine.score(dmap, model, mode="mapq-multiprocess")
    assert first.engine == second.engine == "numpy"
    np.testing.assert_array_equal(first.q, expected)
    notices = [r.getMessage() for r in caplog.records if "compiled kernel" in r.getMessage()]
    assert notices == [choice.FALLBACK_NOTICE]
    assert "\n" not in notices[0]
    with pytest.raises(EngineError, match="not available"):
        engine.score(dmap, model, engine="compiled")
    choice._notice_fallback.cache_clear()


def test_an_unknown_engine_is_refused(monkeypatch):
    monkeypatch.setenv(choice.ENV, "gpu")
    with pytest.raises(EngineError, match="Unknown scoring engine 'gpu' \\(from QSCORE_ENGINE\\)"):
        choice.choose_engine()
    assert choice.choose_engine("NumPy") == "numpy"


@pytest.fixture
def small_case(tmp_path) -> tuple[Path, Path]:
    """A 30-atom model (a helix-like ribbon of ligand atoms) and a map of it, on disk."""
    t = np.arange(30) * 0.55
    xyz = np.stack([6.0 + 2.3 * np.cos(t), 6.0 + 2.3 * np.sin(t), 4.0 + 0.8 * t], axis=1)
    model = make_model([("C", f"C{i}", "LIG", 1, tuple(p)) for i, p in enumerate(xyz)])
    dmap = _noisy_map(model.xyz, 3, None, 0.7)
    write_map(tmp_path / "small.mrc", dmap)
    (tmp_path / "small.pdb").write_text(pdb_text(model, model.b_iso))
    return tmp_path / "small.mrc", tmp_path / "small.pdb"


def test_cli_reports_the_engine_chosen_by_the_environment(small_case, capsys, monkeypatch):
    map_path, model_path = small_case
    docs = {}
    for name in ("", "numpy", "compiled"):
        monkeypatch.setenv(choice.ENV, name)
        assert main(["score", str(map_path), str(model_path), "--json", "-"]) == 0
        out, err = capsys.readouterr()
        assert err == ""
        docs[name] = json.loads(out)
    assert docs[""]["engine"] == docs["compiled"]["engine"] == "compiled"
    assert docs["numpy"]["engine"] == "numpy"
    assert docs["numpy"]["atoms_scored"] == 30
    assert docs["numpy"]["model_q"] == docs["compiled"]["model_q"]
    monkeypatch.setenv(choice.ENV, "numpy")
    assert main(["score", str(map_path), str(model_path)]) == 0
    assert "numpy engine" in capsys.readouterr().out
    monkeypatch.setenv(choice.ENV, "fortran")
    assert main(["score", str(map_path), str(model_path)]) == 2
    assert "Unknown scoring engine 'fortran'" in capsys.readouterr().err


def test_cli_falls_back_with_one_line_when_the_kernel_is_missing(small_case):
    """A fresh interpreter in which the kernel's module cannot be imported (as after an install
    without a compiler): one line on stderr, then the NumPy engine's numbers."""
    map_path, model_path = small_case
    env = {k: v for k, v in os.environ.items() if k != choice.ENV}
    script = (
        "import sys\n"
        "sys.modules['qscore.engine._kernel'] = None\n"
        "from qscore.cli.main import main\n"
        "sys.exit(main(sys.argv[1:]))"
    )
    args = ["score", str(map_path), str(model_path), "--json", "-"]
    proc = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines() == [choice.FALLBACK_NOTICE]
    doc = json.loads(proc.stdout)
    assert doc["engine"] == "numpy"
    dmap, model = load(map_path, model_path)
    assert doc["model_q"] == engine.score(dmap, model, engine="compiled").model_q
    refused = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        env={**env, choice.ENV: "compiled"},
    )
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1 and "not available" in refused.stderr
