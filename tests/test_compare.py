"""Comparing two Q-score results: residue matching, the map-noise estimate and the three checks
of the significance rule (docs/compare.md) on real data (EMD-30342 / 7cec chain A at 3.9 Å) and
on simulated data (a synthetic protein with a ligand at 3 Å, maps simulated with known noise).

1. Identical inputs give dq = 0 everywhere and nothing significant.
2. Two half maps of one reconstruction (the same map with independent noise) flag ≤ 5%.
3. Eight residues moved by 2.5 Å are found (most of them significant and worse) while residues
   away from them are flagged ≤ 3%, in one map and across two half maps.
"""

from __future__ import annotations

from dataclasses import dataclass

import gemmi
import numpy as np
import pandas as pd
import pytest
from scipy.spatial import cKDTree

from qscore.analysis.aggregate import residue_table, window_mean
from qscore.analysis.compare import (
    Rule,
    _window_means,
    atom_pairs,
    compare,
    ligand_table,
    load_and_score_pair,
    match_residues,
    overlay_atoms,
    resolve_resolution,
)
from qscore.analysis.noise import band_limited_noise, noise_level, solvent_distance
from qscore.engine import score
from qscore.errors import ParameterError
from qscore.io.maps import DensityMap, read_map
from qscore.io.models import AtomModel, model_from_structure, read_model
from qscore.pipeline import Scored
from qscore.synthetic.builder.hetero import add_ligand
from qscore.synthetic.calibration import NOISE, calibrated_b_factors
from qscore.synthetic.examples import get_example, scenario_model
from qscore.synthetic.simulate import simulate_map
from qscore.synthetic.variants import best_stretch, noisy_copies, shift_residues

SHIFT = 2.5
STRETCH = 8
#: Residues with an atom closer than this to the moved stretch (before or after) are "near".
NEAR = 5.0


def scored(dmap: DensityMap, model: AtomModel) -> Scored:
    return Scored(dmap=dmap, model=model, result=score(dmap, model))


@dataclass(frozen=True)
class Dataset:
    """A map and model, its resolution and a way to make two half maps of it."""

    name: str
    dmap: DensityMap
    model: AtomModel
    resolution: float
    half_maps: object  # () -> (DensityMap, DensityMap)


@pytest.fixture(scope="module")
def real(emd30342) -> Dataset:
    """EMD-30342 (masked around chain A) and 7cec chain A; half maps: the map plus independent
    band-limited noise of 0.3 × the signal over the whole box (each half map of a typical
    reconstruction carries √2 × the full map's noise of about 0.3)."""
    model = read_model(emd30342 / "7cec_chainA.cif")
    dmap = read_map(emd30342 / "emd_30342_chainA_zone.mrc", crop_to=model.xyz, margin=12.0)
    return Dataset(
        "EMD-30342",
        dmap,
        model,
        3.9,
        lambda: noisy_copies(dmap, model.xyz, 3.9, noise=NOISE, seeds=(1, 2)),
    )


@pytest.fixture(scope="module")
def simulated() -> Dataset:
    """A synthetic protein with a docked ligand in a simulated 3 Å map (calibrated B-factors,
    typical noise); half maps: the same truth simulated twice with √2 × the noise."""
    truth = add_ligand(scenario_model(), seed=3)
    b = calibrated_b_factors(truth, 3.0)
    model = model_from_structure(truth.clone(), name="synthetic")

    def simulate(noise: float, seed: int) -> DensityMap:
        return simulate_map(truth, 3.0, b_factors=b, noise=noise, seed=seed, padding=10.0)

    return Dataset(
        "simulated",
        simulate(NOISE, 31),
        model,
        3.0,
        lambda: (simulate(NOISE * np.sqrt(2), 1), simulate(NOISE * np.sqrt(2), 2)),
    )


@pytest.fixture(scope="module", params=["real", "simulated"])
def dataset(request) -> Dataset:
    return request.getfixturevalue(request.param)


@pytest.fixture(scope="module")
def moved(dataset):
    """The best-resolved stretch of eight residues, the model with it moved by 2.5 Å, and the
    residues away from it (no atom within 5 Å of the stretch, before or after the move)."""
    a = scored(dataset.dmap, dataset.model)
    rows = best_stretch(dataset.model, residue_table(dataset.model, a.result.q)["q"], STRETCH)
    shifted = shift_residues(dataset.model, rows, SHIFT)
    residues = dataset.model.residues
    atoms = np.concatenate(
        [np.arange(residues.at[r, "start"], residues.at[r, "stop"]) for r in rows]
    )
    distance, _ = cKDTree(np.concatenate([dataset.model.xyz[atoms], shifted.xyz[atoms]])).query(
        dataset.model.xyz
    )
    near = np.zeros(len(residues), dtype=bool)
    np.logical_or.at(near, dataset.model.residue_index, distance < NEAR)
    return a, rows, shifted, np.flatnonzero(~near)


def _flagged(table: pd.DataFrame, rows) -> pd.DataFrame:
    return table[table["row_a"].isin(rows)]


# ---------------------------------------------------------------------------------------------
# The three checks


def test_identical_inputs_give_zero_and_nothing_significant(dataset):
    a = scored(dataset.dmap, dataset.model)
    b = scored(dataset.dmap, dataset.model)
    result = compare(a, b, resolution=dataset.resolution)
    table = result.residues
    assert len(table) == len(dataset.model.residues)
    assert np.all(table["dq"].to_numpy()[np.isfinite(table["dq"])] == 0.0)
    assert not table["significant"].any()
    summary = result.summary()
    assert summary["residues_better"] == summary["residues_worse"] == summary["unmatched"] == 0
    assert summary["model_q_a"] == summary["model_q_b"]


def test_half_maps_of_one_reconstruction_flag_at_most_5_percent(dataset):
    half_1, half_2 = dataset.half_maps()
    result = compare(
        scored(half_1, dataset.model), scored(half_2, dataset.model), resolution=dataset.resolution
    )
    table = result.compared
    flagged = float(table["significant"].mean())
    z = table["z"].to_numpy()
    print(
        f"\n{dataset.name} half maps: {len(table)} residues, dq mean {table['dq'].mean():+.4f} "
        f"sd {table['dq'].std():.4f}, z sd {z.std():.2f}, flagged {flagged:.2%} "
        f"(noise {result.noise_a.source} {result.noise_a.sigma:.4g})"
    )
    assert not result.shared_map and result.noise_a.source == "solvent"
    assert flagged <= 0.05
    assert abs(table["dq"].mean()) < 0.02
    # The noise model explains the half-map differences: z spreads like a t variable, no wider.
    assert 0.7 < z.std() < 1.35


def _check_stretch(result, rows, away, where: str) -> None:
    """Most of the moved stretch significant and worse; at most 3% of the residues away."""
    table = result.residues
    stretch = _flagged(table, rows)
    found = stretch["significant"] & (stretch["dq"] < 0)
    far = _flagged(table, away)
    print(
        f"\nstretch moved {SHIFT} Å {where}: {int(found.sum())}/{len(rows)} significant and "
        f"worse (dq {stretch['dq'].round(2).tolist()}); away {int(far['significant'].sum())}/"
        f"{len(far)} flagged ({far['significant'].mean():.2%})"
    )
    assert found.sum() > len(rows) / 2
    assert far["significant"].mean() <= 0.03
    assert result.summary()["residues_worse"] >= found.sum()


def test_moved_stretch_is_found_in_one_map(dataset, moved):
    a, rows, shifted, away = moved
    result = compare(a, scored(dataset.dmap, shifted), resolution=dataset.resolution)
    assert result.shared_map
    _check_stretch(result, rows, away, f"in one map ({dataset.name})")


def test_moved_stretch_is_found_across_two_half_maps(dataset, moved):
    """Model A in one half map, model B (stretch moved) in the other: the stretch stands out of
    the noise that now touches every residue."""
    _, rows, shifted, away = moved
    half_1, half_2 = dataset.half_maps()
    result = compare(
        scored(half_1, dataset.model), scored(half_2, shifted), resolution=dataset.resolution
    )
    assert not result.shared_map
    _check_stretch(result, rows, away, f"across half maps ({dataset.name})")


def test_the_flipped_ligand_pose_is_significantly_worse():
    """The paper's pose comparison (Fig. 4 e–j) in the teaching scenario: the ligand turned 180°
    scores lower in the 2.5 Å map made from the correct pose, beyond the map's noise."""
    example = get_example("ligand-pose")
    a, b = load_and_score_pair(
        [example.map_path], [example.variants["correct"], example.variants["flipped"]]
    )
    result = compare(a, b, resolution=example.resolution)
    ligand = result.residues[result.residues["kind"] == "ligand"].iloc[0]
    assert ligand["resname"] == "LIG" and ligand["change"] == "worse"
    assert ligand["dq"] < -0.05 and ligand["significant"]
    assert result.summary()["residues_worse"] == 1  # nothing else changed
    poses = ligand_table({"correct": a, "flipped": b}, resolution=2.5, sigma=0.4)
    q = poses.set_index("result")["q"]
    assert q["correct"] - q["flipped"] == pytest.approx(-ligand["dq"])
    assert poses.set_index("result").at["correct", "verdict"] == "typical"


# ---------------------------------------------------------------------------------------------
# Matching


def _small_structure() -> gemmi.Structure:
    st = add_ligand(scenario_model(), seed=3)
    st.setup_entities()
    return st


def test_matching_by_chain_number_insertion_code_and_name():
    st = _small_structure()
    other = st.clone()
    chain = other[0]["A"]
    chain[4].name = "TRP" if chain[4].name != "TRP" else "PHE"  # a mutation: unmatched both ways
    renamed = chain[4].seqid.num
    chain[10].seqid = gemmi.SeqId(chain[10].seqid.num, "A")  # an insertion code: unmatched
    coded = chain[10].seqid.num
    del chain[20]  # missing in B
    a = model_from_structure(st.clone(), name="a")
    b = model_from_structure(other, name="b")
    match = match_residues(a, b)
    ra, rb = a.residues, b.residues
    assert np.array_equal(
        ra.iloc[match.rows_a][["chain", "resseq", "icode", "resname"]].to_numpy(),
        rb.iloc[match.rows_b][["chain", "resseq", "icode", "resname"]].to_numpy(),
    )
    only_a = {(r.chain, int(r.resseq), r.icode) for r in ra.iloc[match.only_a].itertuples()}
    only_b = {(r.chain, int(r.resseq), r.icode) for r in rb.iloc[match.only_b].itertuples()}
    assert only_a == {("A", renamed, ""), ("A", coded, ""), ("A", 21, "")}
    assert only_b == {("A", renamed, ""), ("A", coded, "A")}
    assert "ligand" in set(ra.iloc[match.rows_a]["kind"].astype(str))
    assert len(match.rows_a) == len(ra) - 3


def test_repeated_keys_match_in_order():
    st = _small_structure()
    water = gemmi.Chain("W")
    for k in range(3):
        residue = gemmi.Residue()
        residue.name, residue.seqid, residue.het_flag = "HOH", gemmi.SeqId(1, " "), "H"
        atom = gemmi.Atom()
        atom.name, atom.element, atom.pos = "O", gemmi.Element("O"), gemmi.Position(k, 0, 0)
        residue.add_atom(atom)
        water.add_residue(residue)
    st[0].add_chain(water)
    model = model_from_structure(st, name="waters")
    match = match_residues(model, model)
    assert np.array_equal(match.rows_a, match.rows_b)
    assert len(match.rows_a) == len(model.residues) and match.only_a.size == 0


# ---------------------------------------------------------------------------------------------
# Noise and the parts of the rule


def test_noise_level_is_measured_in_the_solvent_of_a_simulated_map(simulated):
    """Known truth: the map's noise RMS is NOISE × the signal RMS; the solvent estimate finds it."""
    truth = add_ligand(scenario_model(), seed=3)
    b = calibrated_b_factors(truth, 3.0)
    clean = simulate_map(truth, 3.0, b_factors=b, noise=0.0, padding=10.0)
    noisy = simulated.dmap
    true_rms = float(np.sqrt(np.mean((noisy.values.astype(float) - clean.values) ** 2)))
    level = noise_level(noisy, simulated.model.xyz, 3.0)
    assert level.source == "solvent" and level.voxels > 2000
    assert level.sigma == pytest.approx(true_rms, rel=0.1)


def test_a_masked_map_has_its_noise_assumed(real):
    level = noise_level(real.dmap, real.model.xyz, real.resolution)
    assert level.source == "assumed"
    assert "masked" in level.sentence
    assert 0 < level.sigma < real.dmap.values.std()


def test_band_limited_noise_has_unit_rms_and_no_power_beyond_the_resolution():
    rng = np.random.default_rng(0)
    noise = band_limited_noise((40, 44, 50), 1.0, 4.0, rng)
    assert noise.shape == (40, 44, 50)
    assert np.sqrt(np.mean(noise.astype(float) ** 2)) == pytest.approx(1.0, rel=1e-3)
    power = np.abs(np.fft.rfftn(noise)) ** 2
    fz = np.fft.fftfreq(40)[:, None, None]
    fy = np.fft.fftfreq(44)[None, :, None]
    fx = np.fft.rfftfreq(50)[None, None, :]
    s = np.sqrt(fz**2 + fy**2 + fx**2)
    assert power[s > 1.1 / 4.0].sum() < 0.02 * power.sum()
    assert solvent_distance(2.0) == 5.0 and solvent_distance(6.0) == 9.0


def test_windows_are_mapq_avg3_within_each_chain():
    values = np.array([0.1, 0.5, -0.2, 0.4, 0.9, 0.3, 0.0])
    orders = [np.array([0, 1, 2, 3]), np.array([6, 5, 4])]
    out = _window_means(values, orders, 1)
    assert np.allclose(out[[0, 1, 2, 3]], window_mean(values[[0, 1, 2, 3]], 1))
    assert np.allclose(out[[6, 5, 4]], window_mean(values[[6, 5, 4]], 1))


def test_rule_parameters_and_mismatched_sides_are_refused(real):
    for bad in ({"alpha": 0.0}, {"alpha": 1.5}, {"min_dq": -1.0}, {"samples": 2}):
        with pytest.raises(ParameterError):
            Rule(**bad)
    a = scored(real.dmap, real.model)
    b = Scored(dmap=real.dmap, model=real.model, result=score(real.dmap, real.model, sigma=0.6))
    with pytest.raises(ParameterError, match="one sigma"):
        compare(a, b, resolution=3.9)
    with pytest.raises(ParameterError, match="resolution"):
        compare(a, a, resolution=float("nan"))
    assert resolve_resolution(None, [real.model]) == pytest.approx(3.9)
    with pytest.raises(ParameterError, match="resolution"):
        resolve_resolution(None, [model_from_structure(scenario_model(), name="no resolution")])


def test_the_overlay_draws_the_moved_residues_and_not_the_others(moved, dataset):
    a, rows, shifted, _ = moved
    b = scored(dataset.dmap, shifted)
    table = compare(a, b, resolution=dataset.resolution).residues
    middle = int(rows[len(rows) // 2])
    atoms = overlay_atoms(a.model, b.model, table, middle, middle)
    drawn = set(np.unique(b.model.residue_index[atoms]).tolist())
    # Every moved residue close to the middle one is drawn; none of the unmoved ones.
    centre = a.model.xyz[a.model.residue_atoms(middle)].mean(axis=0)
    near = {
        int(r)
        for r in rows
        if np.min(np.linalg.norm(shifted.xyz[shifted.residue_atoms(int(r))] - centre, axis=1))
        < 12.0
    }
    assert middle in drawn and near <= drawn
    assert drawn <= {int(r) for r in rows}
    # The per-atom table pairs the residue's atoms by name; the moved atoms' Q changed.
    pairs = atom_pairs(a, b, middle, middle)
    assert sorted(pairs["atom"]) == sorted(a.model.name[a.model.residue_atoms(middle)])
    assert np.all(np.isfinite(pairs["dq"])) and np.any(pairs["dq"] != 0.0)
