"""Properties of the per-atom Q engine on small synthetic maps and models."""

from __future__ import annotations

import gemmi
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qscore import engine
from qscore.errors import NoOverlapError, ParameterError
from qscore.io.maps import DensityMap, read_map, write_map
from qscore.io.models import model_from_structure


def make_model(atoms: list[tuple[str, str, str, int, tuple[float, float, float]]]):
    """An AtomModel from (element, atom name, residue name, residue number, xyz) tuples."""
    st_ = gemmi.Structure()
    model = gemmi.Model(1)
    chain = gemmi.Chain("A")
    residues: dict[tuple[str, int], gemmi.Residue] = {}
    for element, name, resname, seq, xyz in atoms:
        key = (resname, seq)
        if key not in residues:
            res = gemmi.Residue()
            res.name = resname
            res.seqid = gemmi.SeqId(seq, " ")
            residues[key] = res
        atom = gemmi.Atom()
        atom.name = name
        atom.element = gemmi.Element(element)
        atom.pos = gemmi.Position(*xyz)
        atom.occ = 1.0
        residues[key].add_atom(atom)
    for res in residues.values():
        chain.add_residue(res)
    model.add_chain(chain)
    st_.add_model(model)
    return model_from_structure(st_, name="test model")


def gaussian_map(centres: np.ndarray, width: float, *, voxel: float = 0.25, pad: float = 4.0):
    """A map that is a sum of isotropic Gaussians of the given width at ``centres``."""
    lo = centres.min(axis=0) - pad
    shape = np.ceil((centres.max(axis=0) + pad - lo) / voxel).astype(int) + 1
    axes = [lo[a] + voxel * np.arange(shape[a]) for a in range(3)]
    z, y, x = np.meshgrid(axes[2], axes[1], axes[0], indexing="ij")
    values = np.zeros(z.shape)
    for c in centres:
        values += np.exp(-((x - c[0]) ** 2 + (y - c[1]) ** 2 + (z - c[2]) ** 2) / (2 * width**2))
    return DensityMap(values.astype(np.float32), lo, np.full(3, voxel))


ISOLATED = [("C", "C1", "LIG", 1, (10.0, 10.0, 10.0))]


def test_gaussian_blob_at_an_isolated_atom_scores_one():
    model = make_model(ISOLATED)
    dmap = gaussian_map(model.xyz, 0.6, voxel=0.1)
    q = engine.score(dmap, model, sigma=0.6).q
    assert q[0] > 0.999


def test_q_falls_as_the_density_blurs():
    model = make_model(ISOLATED)
    widths = (0.6, 1.0, 1.5, 2.5)
    qs = [engine.score(gaussian_map(model.xyz, w), model, sigma=0.6).q[0] for w in widths]
    assert all(a > b for a, b in zip(qs, qs[1:], strict=False)), qs
    assert qs[-1] < qs[0] - 0.1


@settings(max_examples=25, deadline=None)
@given(scale=st.floats(1e-3, 1e3), shift=st.floats(-20, 20))
def test_q_is_invariant_to_positive_affine_scaling(scale, shift):
    """Q(a·map + b) = Q(map) for a > 0 (b in units of a, so float32 storage keeps the signal)."""
    model = make_model(
        [
            ("C", "CA", "ALA", 1, (10.0, 10.0, 10.0)),
            ("N", "N", "ALA", 1, (11.4, 10.2, 10.1)),
            ("O", "O", "ALA", 1, (9.0, 11.1, 10.4)),
        ]
    )
    rng = np.random.default_rng(0)
    dmap = gaussian_map(model.xyz, 0.8)
    noisy = dmap.values + 0.05 * rng.standard_normal(dmap.values.shape).astype(np.float32)
    base = DensityMap(noisy, dmap.origin, dmap.voxel_size)
    moved = DensityMap(
        (noisy * scale + shift * scale).astype(np.float32), dmap.origin, dmap.voxel_size
    )
    q0 = engine.score(base, model).q
    q1 = engine.score(moved, model).q
    np.testing.assert_allclose(q1, q0, atol=2e-5)


def test_spiral_points_are_mapqs_spiral():
    for n in (8, 10, 50, 106):
        pts = engine.spiral_points(n)
        np.testing.assert_allclose(np.linalg.norm(pts, axis=1), 1.0)
        np.testing.assert_allclose(pts[0], [0, 0, -1], atol=1e-12)
        np.testing.assert_allclose(pts[-1], [0, 0, 1], atol=1e-12)
        assert np.all(np.diff(pts[:, 2]) > 0)
    # h = -5/7, theta = 3.6 / sqrt(8 (1 - h^2)) rad, worked by hand from the spiral's definition.
    np.testing.assert_allclose(
        engine.spiral_points(8)[1], [-0.171693, 0.678467, -0.714286], atol=1e-6
    )


def test_shell_radii_are_accumulated_like_mapq():
    radii = engine.shell_radii()
    assert len(radii) == 20
    assert radii[0] == 0.1 and radii[2] == 0.1 + 0.1 + 0.1
    assert abs(radii[-1] - 2.0) < 1e-9


def test_hydrogens_take_the_q_of_their_heavy_atom():
    model = make_model(
        [
            ("C", "CA", "GLY", 1, (10.0, 10.0, 10.0)),
            ("H", "HA2", "GLY", 1, (10.0, 11.09, 10.0)),
            ("N", "N", "GLY", 1, (11.45, 10.0, 10.0)),
        ]
    )
    dmap = gaussian_map(model.xyz[~model.is_hydrogen], 0.7)
    result = engine.score(dmap, model)
    assert result.atoms_scored == 2
    assert result.q[1] == result.q[0]


def test_atom_samples_reproduce_the_engine(emd30342_pair):
    dmap, model = emd30342_pair
    q = engine.score(dmap, model, sigma=0.6).q
    for index in (0, 1881, 3637):
        samples = engine.atom_samples(dmap, model, index, sigma=0.6)
        assert samples.values.shape == samples.radius.shape == (len(samples.points),)
        recomputed = np.corrcoef(samples.values, samples.reference)[0, 1]
        assert abs(recomputed - q[index]) < 1e-9
        assert abs(samples.q - q[index]) < 1e-12
        distances = np.linalg.norm(samples.points - model.xyz[index], axis=1)
        np.testing.assert_allclose(distances, samples.radius, atol=1e-9)


def test_axis_order_and_byte_order_do_not_change_q(tmp_path, emd30342_pair):
    import mrcfile

    dmap, model = emd30342_pair
    model = model.with_coordinates(model.xyz)
    reference = engine.score(dmap, model).q
    # z, y, x array stored with columns = Z, rows = X, sections = Y (MAPC=3, MAPR=1, MAPS=2).
    permuted = np.ascontiguousarray(np.transpose(dmap.values, (1, 2, 0)))
    for byteorder in ("<", ">"):
        path = tmp_path / f"perm{byteorder == '<'}.mrc"
        with mrcfile.new(str(path), overwrite=True) as mrc:
            mrc.set_data(permuted.astype(byteorder + "f4"))
            n = dmap.values.shape
            mrc.header.mapc, mrc.header.mapr, mrc.header.maps = 3, 1, 2
            mrc.header.mx, mrc.header.my, mrc.header.mz = n[2], n[1], n[0]
            size = dmap.voxel_size * np.array([n[2], n[1], n[0]])
            mrc.header.cella = tuple(size)
            mrc.header.origin = tuple(dmap.origin)
        variant = read_map(path)
        np.testing.assert_array_equal(variant.values, dmap.values)
        np.testing.assert_array_equal(engine.score(variant, model).q, reference)
    written = tmp_path / "plain.mrc"
    write_map(written, dmap)
    np.testing.assert_array_equal(engine.score(read_map(written), model).q, reference)


def test_modes_agree_on_a_voxel_aligned_map():
    rng = np.random.default_rng(3)
    centres = rng.uniform(5, 15, size=(40, 3))
    model = make_model([("C", f"C{i}", "LIG", 1, tuple(c)) for i, c in enumerate(centres)])
    dmap = gaussian_map(centres, 0.9, voxel=0.5)
    aligned = DensityMap(dmap.values, np.round(dmap.origin / 0.5) * 0.5, dmap.voxel_size)
    direct = engine.score(aligned, model, mode="direct").q
    multi = engine.score(aligned, model, mode="mapq-multiprocess").q
    np.testing.assert_allclose(direct, multi, atol=1e-6)


def test_undefined_correlation_gives_zero():
    model = make_model(ISOLATED)
    flat = DensityMap(np.ones((30, 30, 30), np.float32), np.zeros(3), np.ones(3))
    assert engine.score(flat, model).q[0] == 0.0


def test_model_partly_outside_is_scored_with_a_note():
    model = make_model(
        [("C", "C1", "LIG", 1, (5.0, 5.0, 5.0)), ("C", "C2", "LIG", 1, (50.0, 5.0, 5.0))]
    )
    dmap = gaussian_map(model.xyz[:1], 0.8, pad=3.0)
    result = engine.score(dmap, model)
    assert result.atoms_outside == 1
    assert any("1 of 2 atoms lie outside the map" in n for n in result.notes)
    assert result.q[1] == 0.0 and result.q[0] > 0.85


def test_model_entirely_outside_is_refused():
    model = make_model([("C", "C1", "LIG", 1, (500.0, 5.0, 5.0))])
    dmap = gaussian_map(np.array([[5.0, 5.0, 5.0]]), 0.8)
    with pytest.raises(NoOverlapError, match="entirely outside the map"):
        engine.score(dmap, model)


@pytest.mark.parametrize("sigma", [0.0, -0.4, float("nan"), float("inf")])
def test_sigma_must_be_positive(sigma):
    model = make_model(ISOLATED)
    dmap = gaussian_map(model.xyz, 0.6)
    with pytest.raises(ParameterError, match="sigma must be a positive"):
        engine.score(dmap, model, sigma=sigma)


def test_unknown_mode_is_refused():
    model = make_model(ISOLATED)
    dmap = gaussian_map(model.xyz, 0.6)
    with pytest.raises(ParameterError, match="Unknown sampling mode"):
        engine.score(dmap, model, mode="fast")


def test_progress_reports_every_atom():
    model = make_model(ISOLATED)
    dmap = gaussian_map(model.xyz, 0.6)
    calls = []
    engine.score(dmap, model, progress=lambda done, total, stage: calls.append((done, total)))
    assert calls[0] == (0, 1) and calls[-1] == (1, 1)


def test_compiled_sampling_matches_the_numpy_sampler(emd30342_pair):
    from qscore.io.maps import sample

    dmap, model = emd30342_pair
    rng = np.random.default_rng(7)
    lo, hi = dmap.origin - 2.0, dmap.origin + (np.array(dmap.shape_xyz) - 1) * dmap.voxel_size + 2.0
    points = rng.uniform(lo, hi, size=(5000, 3))
    points[:10] = dmap.origin + (np.array(dmap.shape_xyz) - 1) * dmap.voxel_size  # upper corner
    np.testing.assert_allclose(engine.sample_points(dmap, points), sample(dmap, points), atol=1e-6)
