"""Model maps (molmap-style and electron scattering) and CC / CC-mean against plain computations."""

from __future__ import annotations

import math

import gemmi
import numpy as np
import pytest
from scipy.ndimage import map_coordinates

from qscore.analysis import modelmap as mm
from qscore.errors import NoOverlapError, ParameterError
from qscore.io.maps import DensityMap
from qscore.io.models import AtomModel, model_from_structure


def small_structure(n_residues: int = 6, b: float = 30.0, shift: float = 0.0) -> gemmi.Structure:
    """A few five-atom residues (N, CA, C, O, CB) along a helix; geometry is only roughly real."""
    st = gemmi.Structure()
    st.name = "small"
    st.cell = gemmi.UnitCell(1, 1, 1, 90, 90, 90)
    model = gemmi.Model("1")
    chain = gemmi.Chain("A")
    offsets = {
        "N": (-1.2, 0.4, -0.6, "N"),
        "CA": (0.0, 0.0, 0.0, "C"),
        "C": (1.2, 0.5, 0.6, "C"),
        "O": (1.5, 1.7, 0.7, "O"),
        "CB": (0.2, -1.5, 0.2, "C"),
    }
    for i in range(n_residues):
        angle = math.radians(100.0 * i)
        centre = np.array([4.0 * math.cos(angle), 4.0 * math.sin(angle), 3.8 * i]) + shift
        residue = gemmi.Residue()
        residue.name = "ALA"
        residue.seqid = gemmi.SeqId(i + 1, " ")
        residue.entity_type = gemmi.EntityType.Polymer
        for name, (dx, dy, dz, el) in offsets.items():
            atom = gemmi.Atom()
            atom.name = name
            atom.element = gemmi.Element(el)
            atom.pos = gemmi.Position(*(centre + [dx, dy, dz]))
            atom.occ = 1.0
            atom.b_iso = b
            residue.add_atom(atom)
        chain.add_residue(residue)
    model.add_chain(chain)
    st.add_model(model)
    st.setup_entities()
    return st


def small_model(n_residues: int = 6, b: float = 30.0, shift: float = 0.0) -> AtomModel:
    """:func:`small_structure` as an :class:`AtomModel`."""
    return model_from_structure(small_structure(n_residues, b, shift), name="small")


def experimental_like(model: AtomModel, resolution: float = 4.0, seed: int = 0) -> DensityMap:
    """A map on a 1 Å lattice not aligned with the model: its electron map plus noise."""
    base = mm.electron_map_box(model, resolution, voxel=1.0, b_iso=np.full(model.n_atoms, 40.0))
    rng = np.random.default_rng(seed)
    values = base.values + rng.normal(0, 0.1 * base.values.std(), base.values.shape)
    return DensityMap(values, base.origin + 0.37, base.voxel_size)


def test_molmap_gaussian_height_width_and_cutoff():
    model = small_model(1)
    d = 3.0
    sigma = d / (math.pi * math.sqrt(2))
    mol = mm.molmap(model, d, step=0.25)
    ca = model.xyz[model.name == "CA"][0]
    points = (
        mol.origin
        + np.stack(
            np.meshgrid(*(np.arange(n) for n in mol.shape_xyz), indexing="ij"), axis=-1
        ).reshape(-1, 3)
        * mol.voxel_size
    )
    values = mol.values.transpose(2, 1, 0).reshape(-1)
    expected = np.zeros(len(points))
    for xyz, z in zip(model.xyz, model.atomic_number, strict=True):
        r2 = ((points - xyz) ** 2).sum(axis=1)
        g = z * (2 * math.pi) ** -1.5 / sigma**3 * np.exp(-r2 / (2 * sigma**2))
        expected += np.where(r2 <= (5 * sigma) ** 2, g, 0.0)
    np.testing.assert_allclose(values, expected, atol=1e-5)
    integral = values.sum() * 0.25**3
    assert integral == pytest.approx(model.atomic_number.sum(), rel=1e-3)
    assert np.abs(points[np.argmax(values)] - ca).max() < 1.5


def test_molmap_default_step_and_on_grid():
    model = small_model()
    mol = mm.molmap(model, 3.6)
    np.testing.assert_allclose(mol.voxel_size, 1.2)
    dmap = experimental_like(model)
    on = mm.molmap(model, 3.6, on_grid=dmap)
    np.testing.assert_allclose(on.voxel_size, dmap.voxel_size)
    index = (on.origin - dmap.origin) / dmap.voxel_size
    np.testing.assert_allclose(index, np.round(index), atol=1e-9)
    assert on.values.sum() * np.prod(on.voxel_size) == pytest.approx(
        model.atomic_number.sum(), rel=2e-2
    )


def test_electron_map_scale_peak_and_resolution_cut():
    model = small_model()
    dmap = experimental_like(model)
    mapper = mm.ElectronMapper(model, 4.0, dmap)
    sharp = mapper.values(np.zeros(model.n_atoms))
    blurred = mapper.values(np.full(model.n_atoms, 120.0))
    volume = np.prod(mapper.voxel)
    assert sharp.sum() * volume == pytest.approx(model.atomic_number.sum(), rel=1e-3)
    assert blurred.sum() * volume == pytest.approx(model.atomic_number.sum(), rel=1e-3)
    assert blurred.max() < sharp.max()
    power = np.abs(np.fft.fftn(blurred.astype(np.float64))) ** 2
    fz, fy, fx = np.meshgrid(
        *(np.fft.fftfreq(n, d=v) for n, v in zip(blurred.shape, mapper.voxel[::-1], strict=True)),
        indexing="ij",
    )
    beyond = fx**2 + fy**2 + fz**2 > (1 / 4.0) ** 2 * 1.0001
    assert power[beyond].sum() < 1e-8 * power.sum()
    emap = mapper(model.b_iso)
    index = (emap.origin - dmap.origin) / dmap.voxel_size
    np.testing.assert_allclose(index, np.round(index), atol=1e-9)


def test_electron_map_refines_coarse_grids_and_lands_on_their_lattice():
    model = small_model()
    coarse = DensityMap(np.zeros((4, 4, 4), np.float32), model.xyz.min(axis=0) - 3.3, [2.0] * 3)
    fine = DensityMap(np.zeros((4, 4, 4), np.float32), model.xyz.min(axis=0) - 3.3, [0.5] * 3)
    mc = mm.ElectronMapper(model, 4.5, coarse)
    assert np.all(mc.refine == 2)
    a = mc(model.b_iso)
    b = mm.electron_map(model, 4.5, fine)
    from qscore.io.maps import sample

    pts = a.origin + np.stack(np.nonzero(a.values.T), axis=1) * a.voxel_size
    inside = np.all((pts > b.extent[0] + 6) & (pts < b.extent[1] - 6), axis=1)
    assert inside.sum() > 50
    vals_a = a.values.T[tuple(np.nonzero(a.values.T))][inside]
    np.testing.assert_allclose(vals_a, sample(b, pts[inside]), atol=0.02 * a.values.max())


def test_overlap_and_correlation_against_plain_loops():
    rng = np.random.default_rng(3)
    m = rng.random(200)
    c = 0.5 * m + rng.random(200)
    corr = mm.overlap_and_correlation(m, c)
    dot = sum(x * y for x, y in zip(m, c, strict=True))
    nm = math.sqrt(sum(x * x for x in m))
    nc = math.sqrt(sum(y * y for y in c))
    assert corr.overlap == pytest.approx(dot)
    assert corr.cc == pytest.approx(dot / (nm * nc))
    assert corr.cc_mean == pytest.approx(np.corrcoef(m, c)[0, 1])
    assert corr.n_points == 200
    assert math.isnan(mm.overlap_and_correlation(np.ones(5), c[:5]).cc_mean)


def test_map_correlation_against_straightforward_computation():
    model = small_model()
    dmap = experimental_like(model)
    mol = mm.molmap(model, 4.0)
    got = mm.map_correlation(mol, dmap)
    m_vals, c_vals = [], []
    nz, ny, nx = mol.values.shape
    for k in range(nz):
        for j in range(ny):
            for i in range(nx):
                v = float(mol.values[k, j, i])
                if v >= 0.01:
                    xyz = mol.origin + np.array([i, j, k]) * mol.voxel_size
                    idx = (xyz - dmap.origin) / dmap.voxel_size
                    c = map_coordinates(dmap.values, [[idx[2]], [idx[1]], [idx[0]]], order=1)
                    m_vals.append(v)
                    c_vals.append(float(c[0]))
    m_vals, c_vals = np.array(m_vals), np.array(c_vals)
    assert got.n_points == len(m_vals)
    assert got.cc == pytest.approx(
        m_vals @ c_vals / np.linalg.norm(m_vals) / np.linalg.norm(c_vals)
    )
    assert got.cc_mean == pytest.approx(np.corrcoef(m_vals, c_vals)[0, 1], abs=1e-6)
    assert 0.5 < got.cc_mean < 1.0


def test_group_correlation_partitions_points_by_nearest_atom():
    model = small_model()
    dmap = experimental_like(model)
    mol = mm.molmap(model, 4.0)
    table = mm.group_correlation(mol, dmap, model)
    assert list(table.columns[:4]) == ["chain", "resseq", "icode", "resname"]
    points, m = mm.fit_points(mol)
    from qscore.io.maps import sample

    c = sample(dmap, points).astype(np.float64)
    owner = np.empty(len(points), dtype=int)
    for p, point in enumerate(points):
        d2 = ((model.xyz - point) ** 2).sum(axis=1)
        owner[p] = model.residue_index[int(np.argmin(d2))]
    for r in range(len(model.residues)):
        sel = owner == r
        assert table["n_points"].iloc[r] == sel.sum()
        assert table["cc_mean"].iloc[r] == pytest.approx(
            np.corrcoef(m[sel], c[sel])[0, 1], abs=1e-6
        )
    chains = mm.group_correlation(mol, dmap, model, by="chain")
    whole = mm.map_correlation(mol, dmap)
    assert chains["cc_mean"].iloc[0] == pytest.approx(whole.cc_mean, abs=1e-6)
    assert table["n_points"].sum() == whole.n_points


@pytest.mark.parametrize("bad", [0.0, -2.0, float("nan"), "abc"])
def test_bad_resolution_is_a_parameter_error(bad):
    model = small_model(2)
    with pytest.raises(ParameterError, match="resolution"):
        mm.molmap(model, bad)
    with pytest.raises(ParameterError, match="resolution"):
        mm.ElectronMapper(model, bad, experimental_like(model))


def test_no_overlap_is_reported():
    model = small_model()
    far = small_model(shift=500.0)
    dmap = experimental_like(model)
    with pytest.raises(NoOverlapError, match="outside the map"):
        mm.check_overlap(dmap, far)
    with pytest.raises(NoOverlapError, match="does not overlap"):
        mm.map_correlation(mm.molmap(far, 4.0), dmap)
    with pytest.raises(ParameterError, match="'residue' or 'chain'"):
        mm.group_correlation(mm.molmap(model, 4.0), dmap, model, by="atom")
