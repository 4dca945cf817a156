"""Atom inclusion against known truth and against gemmi's own map interpolation."""

from __future__ import annotations

import math

import gemmi
import numpy as np
import pytest

from qscore.analysis.inclusion import (
    BACKBONE_ATOMS,
    VOLUME_PER_DALTON,
    atom_inclusion,
    atom_values,
    backbone_mask,
    default_level,
    model_volume,
)
from qscore.errors import ParameterError
from qscore.io.maps import DensityMap
from qscore.io.models import model_from_structure

from .conftest import require


@pytest.fixture(scope="module")
def small_model():
    """Nine amino acids and four nucleotides (156 atoms), generated."""
    from qscore.synthetic.builder.hetero import add_nucleic
    from qscore.synthetic.builder.protein import build_protein

    structure = add_nucleic(build_protein("ACDEFGHIK", "HHHHHHHHH"), "ACGU")
    return model_from_structure(structure)


def gradient_map(model, *, voxel: float = 0.5, margin: float = 4.0) -> DensityMap:
    """A map whose value is the x coordinate (Å): trilinear interpolation of it is exact."""
    lo = model.xyz.min(axis=0) - margin
    shape_xyz = np.ceil((model.xyz.max(axis=0) + margin - lo) / voxel).astype(int) + 1
    x = lo[0] + voxel * np.arange(shape_xyz[0])
    values = np.broadcast_to(x[None, None, :], tuple(shape_xyz[::-1])).astype(np.float32)
    return DensityMap(values, lo, np.full(3, voxel))


def test_backbone_atoms_are_the_trace_of_each_polymer(small_model):
    mask = backbone_mask(small_model)
    kinds = small_model.kind
    protein = (kinds == "protein") & np.isin(small_model.name, list(BACKBONE_ATOMS["protein"]))
    nucleic = (kinds == "nucleic") & np.isin(small_model.name, list(BACKBONE_ATOMS["nucleic"]))
    assert mask.sum() == (protein | nucleic).sum()
    # 9 residues × N CA C O, plus the C-terminal OXT if built; 4 nucleotides × 6 trace atoms
    # (the first one may lack its phosphate).
    assert 9 * 4 <= protein.sum() <= 9 * 4 + 1
    assert 4 * 6 - 1 <= nucleic.sum() <= 4 * 6
    assert not mask[np.isin(small_model.name, ["CB", "N9", "C1'", "OP1"])].any()


def test_inclusion_on_a_linear_map_is_the_share_of_atoms_beyond_the_level(small_model):
    dmap = gradient_map(small_model)
    x = small_model.xyz[:, 0]
    assert np.allclose(atom_values(dmap, small_model.xyz), x, atol=1e-4)
    heavy, backbone = small_model.heavy, backbone_mask(small_model)
    # Levels half-way between atoms, so float32 rounding cannot move an atom across one.
    xs = np.sort(x[heavy])
    for level in (xs[3] + xs[4]) / 2, (xs[80] + xs[81]) / 2, (xs[-2] + xs[-1]) / 2:
        result = atom_inclusion(dmap, small_model, level=level)
        assert result.source == "given"
        assert result.all == pytest.approx(np.mean(x[heavy] > level), abs=1e-12)
        assert result.backbone == pytest.approx(np.mean(x[backbone] > level), abs=1e-12)
        assert result.atoms == heavy.sum()
        assert result.backbone_atoms == backbone.sum()
        curve = result.curve
        chosen = curve.loc[np.isclose(curve["level"], level)]
        assert len(chosen) == 1 and chosen["all"].iloc[0] == result.all
        for row in curve.itertuples():
            assert row.all == pytest.approx(np.mean(x[heavy] > row.level), abs=1e-6)
    curve = atom_inclusion(dmap, small_model, level=0.0).curve
    assert np.all(np.diff(curve["level"]) > 0)
    assert np.all(np.diff(curve["all"]) <= 0) and np.all(np.diff(curve["backbone"]) <= 0)
    assert curve["all"].iloc[-1] == 0.0


def test_atoms_outside_the_map_never_count_as_inside(small_model):
    dmap = gradient_map(small_model)
    moved = small_model.xyz.copy()
    moved[:5] += 1000.0
    outside = small_model.with_coordinates(moved)
    result = atom_inclusion(dmap, outside, level=float(dmap.values.min()) - 1.0)
    assert result.atoms_outside_box == 5
    assert result.all == pytest.approx(1 - 5 / small_model.heavy.sum())
    assert any("outside the map's box" in n for n in result.notes)


def test_levels_beyond_the_map_say_so(small_model):
    dmap = gradient_map(small_model)
    above = atom_inclusion(dmap, small_model, level=float(dmap.values.max()) + 1)
    assert above.all == 0.0 and above.backbone == 0.0
    assert any("at or above every map value" in n for n in above.notes)
    below = atom_inclusion(dmap, small_model, level=float(dmap.values.min()) - 1)
    assert below.all == 1.0
    assert any("below every map value" in n for n in below.notes)
    for bad in (math.nan, math.inf, "high"):
        with pytest.raises(ParameterError, match="contour level"):
            atom_inclusion(dmap, small_model, level=bad)


def test_default_level_encloses_the_model_volume(small_model):
    weights = {"C": 12.0107, "N": 14.0067, "O": 15.9994, "P": 30.973762, "S": 32.065}
    mass = sum(weights[e] for e in small_model.element)
    assert model_volume(small_model) == pytest.approx(mass * VOLUME_PER_DALTON, rel=1e-6)
    rng = np.random.default_rng(7)
    values = rng.normal(size=(40, 50, 60)).astype(np.float32)
    dmap = DensityMap(values, np.zeros(3), np.full(3, 0.9))
    level = default_level(dmap, small_model)
    wanted = round(model_volume(small_model) / 0.9**3)
    assert np.count_nonzero(values > level) == wanted
    result = atom_inclusion(dmap, small_model)
    assert result.source == "default" and result.level == level
    assert result.sigma_level == pytest.approx((level - values.mean()) / values.std(), rel=1e-5)


def test_inclusion_agrees_with_gemmis_interpolation_on_emd30342(emd30342, emd30342_pair):
    """gemmi reads the file itself and interpolates (trilinear); ORIGIN is applied by hand since
    gemmi places a CCP4 map by its cell and NSTART only.

    Both interpolate the same float32 voxels, so the values can differ by rounding only (a few
    float32 ulps of values up to 0.14: below 1e-6); an atom can change side only when its value
    is within that of the level, so the counts must agree up to those atoms.
    """
    dmap, model = emd30342_pair
    ccp4 = gemmi.read_ccp4_map(str(require(emd30342 / "emd_30342_chainA_zone.mrc")))
    assert [ccp4.header_i32(i) for i in (5, 6, 7)] == [0, 0, 0]
    origin = np.array([ccp4.header_float(i) for i in (50, 51, 52)])
    ccp4.setup(float("nan"))
    grid = ccp4.grid
    heavy, backbone = model.heavy, backbone_mask(model)
    theirs = np.array([grid.interpolate_value(gemmi.Position(*(p - origin))) for p in model.xyz])
    ours = atom_values(dmap, model.xyz)
    tolerance = 1e-6
    assert np.max(np.abs(ours - theirs)[heavy]) < tolerance
    default = atom_inclusion(dmap, model)
    levels = [default.level, 0.02, 0.04, 0.06]
    for level in levels:
        result = atom_inclusion(dmap, model, level=level)
        for mask, fraction in ((heavy, result.all), (backbone, result.backbone)):
            count = round(fraction * mask.sum())
            expected = int(np.count_nonzero(theirs[mask] > level))
            ambiguous = int(np.count_nonzero(np.abs(theirs[mask] - level) < tolerance))
            assert abs(count - expected) <= ambiguous
    # The figures of the closing note: the default level and what lies inside it.
    print(
        f"\nEMD-30342 default level {default.level:.6g}: ours {default.all:.4f} / "
        f"{default.backbone:.4f}, gemmi {np.mean(theirs[heavy] > default.level):.4f} / "
        f"{np.mean(theirs[backbone] > default.level):.4f}, max |Δvalue| "
        f"{np.max(np.abs(ours - theirs)[heavy]):.2e}"
    )
