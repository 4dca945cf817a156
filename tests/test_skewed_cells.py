"""Maps with non-orthogonal cells: reading, placement, cropping, writing and scoring.

Every figure is checked against a computation that does not go through qscore's sampler: a sum of
Gaussians evaluated analytically, scipy's ``map_coordinates`` on indices from gemmi's
fractionalisation, and gemmi's own reading of the files qscore writes.
"""

from __future__ import annotations

import gzip

import gemmi
import numpy as np
import pytest
from scipy import ndimage
from scipy.spatial import cKDTree

from qscore import engine
from qscore.cli.main import main
from qscore.engine.scoring import atom_samples
from qscore.errors import NoOverlapError, ParameterError
from qscore.io.maps import DensityMap, cell_angles, cell_axes, read_map, sample, write_map
from qscore.io.models import model_from_structure
from qscore.synthetic.builder.protein import build_protein
from tests.test_engine import make_model
from tests.test_maps import build_mrc

ANGLES = [(70.0, 105.0, 115.0), (60.0, 60.0, 60.0), (90.0, 90.0, 120.0)]
WIDTH = 0.8


@pytest.fixture(scope="module")
def peptide():
    """A small ideal helix: real protein geometry, generated in code."""
    return model_from_structure(build_protein("PEELLKK", "LHHHHHL", seed=2), name="helix")


def gaussians(centres: np.ndarray, width: float = WIDTH):
    """The function sum_i exp(-|p - c_i|² / 2w²), evaluated exactly (terms beyond 5w are < 4e-6)."""
    tree = cKDTree(centres)
    k = min(len(centres), 48)

    def f(points: np.ndarray) -> np.ndarray:
        d, _ = tree.query(points, k=k, distance_upper_bound=5 * width)
        d = np.asarray(d).reshape(len(points), k)
        assert np.isinf(d[:, -1]).all() or k == len(centres), "raise k"
        return np.exp(-(d**2) / (2 * width * width)).sum(axis=1)

    return f


def lattice_map(
    f, lo, hi, angles, voxel: float, shift: float = 0.0
) -> tuple[DensityMap, np.ndarray]:
    """``f`` on the skewed lattice covering the Cartesian box [lo, hi]; also the NSTART used."""
    axes = cell_axes(angles)
    corners = lo + np.array(list(np.ndindex(2, 2, 2))) * (hi - lo)
    frac = corners @ np.linalg.inv(axes).T / voxel
    start = np.floor(frac.min(axis=0)).astype(int)
    n = np.ceil(frac.max(axis=0)).astype(int) - start + 1
    origin = axes @ ((start + shift) * voxel)
    ijk = np.stack(np.meshgrid(*[np.arange(m) for m in n], indexing="ij"), -1).reshape(-1, 3)
    values = f(origin + (ijk * voxel) @ axes.T).reshape(n).transpose(2, 1, 0)
    return DensityMap(values.astype(np.float32), origin, np.full(3, voxel), axes=axes), start


# --------------------------------------------------------------------------- geometry


@pytest.mark.parametrize("angles", ANGLES)
def test_cell_axes_match_gemmi_orthogonalisation(angles):
    axes = cell_axes(angles)
    cell = gemmi.UnitCell(10.0, 20.0, 30.0, *angles)
    orth = np.array(cell.orth.mat.tolist())
    np.testing.assert_allclose(axes * [10.0, 20.0, 30.0], orth, atol=1e-9)
    np.testing.assert_allclose(cell_angles(axes), angles, atol=1e-9)


def test_right_angles_give_the_exact_identity():
    assert np.array_equal(cell_axes((90.0, 90.0, 90.0)), np.eye(3))
    assert cell_angles(np.eye(3)) == (90.0, 90.0, 90.0)
    with pytest.raises(ParameterError):
        cell_axes((150.0, 150.0, 150.0))


@pytest.mark.parametrize("angles", ANGLES)
def test_nstart_places_the_origin_along_the_skewed_axes(angles):
    values = np.arange(120, dtype=np.float32).reshape(4, 5, 6)
    dmap = read_map(build_mrc(values, voxel=(0.5, 0.6, 0.7), nstart_xyz=(3, -2, 5), angles=angles))
    cell = gemmi.UnitCell(6 * 0.5, 5 * 0.6, 4 * 0.7, *angles)
    expected = cell.orthogonalize(gemmi.Fractional(3 / 6, -2 / 5, 5 / 4))
    np.testing.assert_allclose(dmap.origin, expected.tolist(), atol=1e-5)
    np.testing.assert_allclose(dmap.axes, cell_axes(angles), atol=1e-7)
    assert not dmap.is_orthogonal


# --------------------------------------------------------------------------- sampling


@pytest.fixture(scope="module")
def skew_file(tmp_path_factory):
    """A skewed map of Gaussians written by qscore, with the function and the NSTART used."""
    rng = np.random.default_rng(1)
    centres = rng.uniform(-4.0, 4.0, size=(25, 3))
    f = gaussians(centres, 1.2)
    dmap, start = lattice_map(f, np.full(3, -8.0), np.full(3, 8.0), ANGLES[0], 0.5)
    path = tmp_path_factory.mktemp("skew") / "skew.mrc"
    write_map(path, dmap)
    return path, dmap, start, f


def test_written_skewed_map_reads_back_identically(skew_file):
    path, dmap, start, _ = skew_file
    back = read_map(path)
    np.testing.assert_array_equal(back.values, dmap.values)
    np.testing.assert_allclose(back.axes, dmap.axes, atol=1e-7)
    np.testing.assert_allclose(back.origin, dmap.origin, atol=1e-5)
    ints = np.frombuffer(path.read_bytes()[:1024], "<i4")
    floats = ints.view("<f4")
    np.testing.assert_allclose(floats[13:16], ANGLES[0], atol=1e-4)
    assert list(ints[4:7]) == list(start)


def test_sampling_agrees_with_scipy_and_gemmi(skew_file):
    path, dmap, start, f = skew_file
    points = np.random.default_rng(2).uniform(-3.0, 3.0, size=(3000, 3))
    ours = sample(read_map(path), points)
    kernel = engine.sample_points(read_map(path), points)
    np.testing.assert_array_equal(kernel, ours)
    # scipy's linear interpolation at indices from gemmi's fractionalisation
    n = np.array(dmap.shape_xyz)
    cell = gemmi.UnitCell(*(n * dmap.voxel_size), *ANGLES[0])
    frac = np.array([cell.fractionalize(gemmi.Position(*p)).tolist() for p in points])
    index = frac * n - start
    xyz_values = dmap.values.transpose(2, 1, 0).astype(np.float64)
    scipy_values = ndimage.map_coordinates(xyz_values, index.T, order=1)
    assert np.abs(scipy_values - ours).max() < 2e-6
    # gemmi reading the file qscore wrote
    ccp4 = gemmi.read_ccp4_map(str(path), setup=True)
    gemmi_values = np.array([ccp4.grid.interpolate_value(gemmi.Position(*p)) for p in points])
    assert np.abs(gemmi_values - ours).max() < 2e-6
    # and the function itself, up to trilinear interpolation error (0.5 Å voxels, 1.2 Å width)
    peak = f(points).max()
    assert np.abs(f(points) - ours).max() < 0.05 * peak


@pytest.mark.parametrize("packed", [False, True])
def test_crop_of_a_skewed_map_samples_like_the_full_map(skew_file, packed, tmp_path):
    path, dmap, _, _ = skew_file
    source = path
    if packed:
        source = tmp_path / "skew.mrc.gz"
        source.write_bytes(gzip.compress(path.read_bytes()))
    atoms = np.array([[1.0, -2.0, 0.5], [2.5, 1.0, -1.0]])
    cropped = read_map(source, crop_to=atoms, margin=2.5)
    assert cropped.values.size < dmap.values.size
    offsets = np.random.default_rng(3).uniform(-1.0, 1.0, size=(400, 3))
    offsets *= 2.5 / np.maximum(np.linalg.norm(offsets, axis=1, keepdims=True), 1.0)
    queries = (atoms[:, None, :] + offsets[None]).reshape(-1, 3)
    # The cropped origin is recomputed along skewed axes: equal up to float32 rounding.
    np.testing.assert_allclose(
        sample(cropped, queries), sample(dmap, queries), rtol=2e-6, atol=2e-6
    )


def test_inside_means_inside_the_parallelepiped():
    axes = cell_axes((60.0, 60.0, 60.0))
    dmap = DensityMap(
        np.random.default_rng(0).normal(size=(10, 10, 10)).astype(np.float32),
        np.zeros(3),
        np.ones(3),
        axes=axes,
    )
    lo, hi = dmap.extent  # the Cartesian box of the first and last voxels holds points outside
    corner_gap = np.array([[hi[0] - 0.5, 0.5, 0.5]])
    assert np.all((corner_gap > lo) & (corner_gap < hi))
    assert not engine.scoring.inside_map(dmap, corner_gap)[0]
    # Atoms 1.5 Å apart in the gap between the parallelepiped and its Cartesian box.
    atoms = [("C", f"C{i}", "LIG", 1, (10.0 + 1.5 * i, 0.5, 0.5)) for i in range(5)]
    with pytest.raises(NoOverlapError, match="skewed cell") as info:
        engine.score(dmap, make_model(atoms))
    assert "the model covers x" in str(info.value)


def test_rotated_axes_cannot_be_written(tmp_path):
    turn = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    dmap = DensityMap(
        np.arange(8, dtype=np.float32).reshape(2, 2, 2), np.zeros(3), np.ones(3), axes=turn
    )
    with pytest.raises(ParameterError, match="crystallographic frame"):
        write_map(tmp_path / "r.mrc", dmap)


# --------------------------------------------------------------------------- scoring


def analytic_q(f, dmap: DensityMap, model, atoms: np.ndarray) -> np.ndarray:
    """Q from the function's exact values at the engine's sample points (no map involved)."""
    out = []
    for i in atoms:
        s = atom_samples(dmap, model, int(i), sigma=0.6)
        out.append(np.corrcoef(f(s.points), s.reference)[0, 1])
    return np.array(out)


@pytest.fixture(scope="module")
def helix_density(peptide):
    """The helix's heavy atoms, the sum of Gaussians at them, and a box around them (Å)."""
    heavy = np.flatnonzero(peptide.heavy)
    xyz = peptide.xyz[heavy]
    return heavy, gaussians(xyz), xyz.min(axis=0) - 5.0, xyz.max(axis=0) + 5.0


@pytest.mark.parametrize("angles", ANGLES)
def test_scores_on_a_skewed_map_match_the_analytic_density(peptide, helix_density, angles):
    heavy, f, lo, hi = helix_density
    skewed, _ = lattice_map(f, lo, hi, angles, 0.5)
    square, _ = lattice_map(f, lo, hi, (90.0, 90.0, 90.0), 0.5)
    some = heavy[::2]
    exact = analytic_q(f, skewed, peptide, some)
    q_skewed = engine.score(skewed, peptide, sigma=0.6).q[some]
    q_square = engine.score(square, peptide, sigma=0.6).q[some]
    error_skewed = np.abs(q_skewed - exact)
    error_square = np.abs(q_square - exact)
    # Trilinear interpolation on 0.5 Å voxels costs about 0.01 in Q, skewed or not.
    assert error_skewed.mean() < 0.015 and error_skewed.max() < 0.04
    assert error_skewed.mean() < 1.5 * error_square.mean() + 0.003


@pytest.mark.parametrize("angles", ANGLES[:2])
def test_multiprocess_mode_on_a_skewed_lattice(peptide, helix_density, angles):
    heavy, f, lo, hi = helix_density
    aligned, _ = lattice_map(f, lo, hi, angles, 0.5)
    direct = engine.score(aligned, peptide, sigma=0.6).q[heavy]
    resampled = engine.score(aligned, peptide, sigma=0.6, mode="mapq-multiprocess").q[heavy]
    # On-lattice origin: the skewed-frame lattice is the map's own, so both modes agree (as MapQ's
    # two paths do for aligned orthogonal maps).
    assert np.abs(resampled - direct).max() < 1e-5
    shifted, _ = lattice_map(f, lo, hi, angles, 0.5, shift=0.37)
    some = heavy[::3]
    exact = analytic_q(f, shifted, peptide, some)
    resampled = engine.score(shifted, peptide, sigma=0.6, mode="mapq-multiprocess").q[some]
    # Off-lattice origin: one more interpolation, as for orthogonal maps.
    assert np.abs(resampled - exact).mean() < 0.03


def test_cli_scores_a_skewed_map_file(peptide, helix_density, tmp_path, capsys):
    heavy, f, lo, hi = helix_density
    dmap, _ = lattice_map(f, lo, hi, ANGLES[0], 0.5)
    write_map(tmp_path / "skew.map", dmap)
    (tmp_path / "helix.cif").write_text(peptide.document.as_string())
    expected = engine.score(dmap, peptide, sigma=0.6).q[heavy]
    for mode in ("direct", "mapq-multiprocess"):
        out = tmp_path / f"{mode}.csv"
        code = main(
            ["score", str(tmp_path / "skew.map"), str(tmp_path / "helix.cif"), "--sigma", "0.6",
             "--mode", mode, "--atoms-csv", str(out)]
        )  # fmt: skip
        assert code == 0, capsys.readouterr().err
        q = np.loadtxt(out, delimiter=",", skiprows=1, usecols=-1)
        assert np.abs(q - expected).max() < (1e-5 if mode == "direct" else 1e-4)
