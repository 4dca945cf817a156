"""Local-resolution-aware verdicts: sampling a local-resolution map, the half-map local FSC, the
verdicts, the known-truth case on 7cec chain A and the ``--local-resolution/--half-maps`` CLI.

Known truth: 7cec chain A is split by a plane through its centre into a part simulated at 3 Å and
one at 6 Å (B-factors calibrated so each part's mean Q sits at Q_peak of its resolution), with
the true local-resolution map and two half maps with independent noise; the scored model has a
short segment of the 3 Å part moved 2.5 Å out of its density.
"""

from __future__ import annotations

import json

import gemmi
import numpy as np
import pandas as pd
import pytest
from scipy.spatial import cKDTree

from qscore.analysis import local_fsc
from qscore.analysis.expected import expected_q, implied_resolution, verdict_codes
from qscore.analysis.local_resolution import (
    LOCAL_COLUMNS,
    local_summary,
    local_verdicts,
    residue_local_resolution,
    sample_local_resolution,
)
from qscore.cli.main import main
from qscore.engine import score
from qscore.errors import NoOverlapError, ParameterError
from qscore.io.export import pdb_text, residues_frame
from qscore.io.maps import DensityMap, write_map
from qscore.io.models import read_model
from qscore.synthetic.regions import simulate_regions

MODEL = "7cec_chainA.cif"
SEGMENT = 8
SHIFT = 2.5


# ------------------------------------------------------------------------------- known truth


class Truth:
    """The known-truth case: maps, the moved model, its Q and the residue masks of each part."""

    def __init__(self, path):
        model = read_model(path)
        st = gemmi.read_structure(str(path))
        st.remove_hydrogens()
        heavy, xyz = model.heavy, model.xyz
        centre = xyz[heavy].mean(axis=0)
        axis = np.linalg.svd(xyz[heavy] - centre, full_matrices=False)[2][0]
        ca_rows = np.flatnonzero(model.name == "CA")
        ca = dict(zip(model.residue_index[ca_rows], xyz[ca_rows], strict=True))
        n_res = len(model.residues)
        self.part6 = np.array([r in ca and np.dot(ca[r] - centre, axis) > 0 for r in range(n_res)])
        atom_d = np.where(self.part6[model.residue_index], 6.0, 3.0)
        self.maps = simulate_regions(st, atom_d[heavy], seed=3)
        # the moved segment: SEGMENT residues of the 3 Å part farthest from the 6 Å part
        far = cKDTree(xyz[heavy][atom_d[heavy] == 6.0])
        depth = np.array([far.query(ca[r])[0] if r in ca else 0.0 for r in range(n_res)])
        starts = [
            s
            for s in range(n_res - SEGMENT)
            if all(r in ca and not self.part6[r] for r in range(s, s + SEGMENT))
        ]
        first = max(starts, key=lambda s: depth[s : s + SEGMENT].min())
        self.segment = np.zeros(n_res, dtype=bool)
        self.segment[first : first + SEGMENT] = True
        seg_ca = np.array([ca[r] for r in range(first, first + SEGMENT)])
        along = seg_ca[-1] - seg_ca[0]
        along /= np.linalg.norm(along)
        out = seg_ca.mean(axis=0) - centre
        out -= np.dot(out, along) * along
        moved = xyz.copy()
        moved[self.segment[model.residue_index]] += SHIFT * out / np.linalg.norm(out)
        self.model = model.with_coordinates(moved)
        self.q = score(self.maps.map, self.model, sigma=0.4).q
        self.residues = residues_frame(self.model, self.q)
        self.rest3 = ~self.part6 & ~self.segment
        self.atom_d = atom_d

    def verdicts(self, locres: DensityMap) -> pd.DataFrame:
        local = sample_local_resolution(locres, self.model)
        per_residue = residue_local_resolution(self.model, local.atoms, self.q)
        table, _ = local_verdicts(self.residues, per_residue, sigma=0.4, resolution=3.0)
        return table

    def flagged(self, codes: np.ndarray) -> dict[str, float]:
        below = np.asarray(codes) == "below"
        return {
            "6 Å part": float(below[self.part6].mean()),
            "moved segment": float(below[self.segment].mean()),
            "rest of 3 Å part": float(below[self.rest3].mean()),
        }


@pytest.fixture(scope="module")
def truth(emd30342) -> Truth:
    return Truth(emd30342 / MODEL)


@pytest.fixture(scope="module")
def estimated(truth) -> DensityMap:
    """Local resolution estimated from the half maps at the moved model's atoms."""
    maps = truth.maps
    return local_fsc.local_resolution_from_half_maps(
        maps.half1, maps.half2, points=truth.model.xyz[truth.model.heavy]
    )


def test_known_truth_parts_are_calibrated(truth):
    heavy = truth.model.heavy
    moved = truth.segment[truth.model.residue_index]
    for d in (3.0, 6.0):
        atoms = heavy & (truth.atom_d == d) & ~moved
        assert abs(np.nanmean(truth.q[atoms]) - expected_q(d).q_peak) < 0.02, d


def test_global_verdict_flags_the_6_angstrom_part(truth):
    codes = verdict_codes(truth.residues["q"].to_numpy(), 3.0, 0.4)
    flagged = truth.flagged(codes)
    print("global verdict, fraction below Q_low_95 at 3 Å:", flagged)
    assert flagged["6 Å part"] > 0.85
    assert flagged["moved segment"] == 1.0
    assert flagged["rest of 3 Å part"] < 0.05


def test_local_verdict_from_the_given_map(truth):
    table = truth.verdicts(truth.maps.local_resolution)
    flagged = truth.flagged(table["local_verdict"].to_numpy())
    print("local verdict (given map), fraction below the local band:", flagged)
    assert flagged["6 Å part"] <= 0.20
    assert flagged["moved segment"] == 1.0
    assert flagged["rest of 3 Å part"] < 0.05
    readings = table["local_reading"].to_numpy()
    assert set(readings[truth.segment]) == {"possible misfit"}
    below_globally = truth.part6 & (verdict_codes(truth.residues["q"].to_numpy(), 3.0) == "below")
    assert (readings[below_globally] == "poorly resolved region").mean() > 0.7


def test_local_verdict_from_half_maps(truth, estimated):
    table = truth.verdicts(estimated)
    flagged = truth.flagged(table["local_verdict"].to_numpy())
    print("local verdict (half maps), fraction below the local band:", flagged)
    assert flagged["6 Å part"] <= 0.25
    assert flagged["moved segment"] == 1.0
    assert flagged["rest of 3 Å part"] < 0.05


def test_half_map_estimate_against_the_truth(truth, estimated):
    model, q = truth.model, truth.q
    est = residue_local_resolution(model, sample_local_resolution(estimated, model).atoms, q)
    true = residue_local_resolution(
        model, sample_local_resolution(truth.maps.local_resolution, model).atoms, q
    )
    error = est - true
    for name, part, median_limit, mae_limit in (
        ("3 Å", ~truth.part6, 0.3, 0.4),
        ("6 Å", truth.part6, 0.75, 2.0),
    ):
        median, mae = float(np.nanmedian(error[part])), float(np.nanmean(np.abs(error[part])))
        print(f"half-map estimate, {name} part: median error {median:+.2f} Å, MAE {mae:.2f} Å")
        assert abs(median) <= median_limit and mae <= mae_limit


def test_teaching_scenario(tmp_path, monkeypatch):
    """The gallery's two-domain scenario: the band at 3 Å flags the misfit segment and the
    flexible domain; the band at the local resolution only the misfit segment."""
    from qscore.pipeline import load_and_score, load_local_resolution
    from qscore.synthetic import examples

    monkeypatch.setenv("QSCORE_CACHE_DIR", str(tmp_path))
    example = examples.get_example("local-resolution")
    assert example.local_resolution_path.is_file()
    assert all(p.is_file() for p in example.half_map_paths)
    scored = load_and_score(example.map_path, example.model_path, sigma=0.4)
    model, q = scored.model, scored.result.q
    residues = residues_frame(model, q)
    truth = example.expectation["local"]
    misfit = residues["resseq"].isin(truth["misfit"]["resseq"]).to_numpy()
    flexible = residues["resseq"].isin(truth["flexible"]["resseq"]).to_numpy()
    rest = ~misfit & ~flexible
    low = expected_q(example.resolution).q_low95
    assert low < np.nanmean(q[model.heavy]) < expected_q(example.resolution).q_high95
    below_globally = residues["q"].to_numpy() < low
    assert below_globally[misfit].mean() >= 0.8 and below_globally[flexible].mean() >= 0.8
    for source in (
        {"local_map": example.local_resolution_path},
        {"half_maps": example.half_map_paths},
    ):
        local = load_local_resolution(model, **source)
        per_residue = residue_local_resolution(model, local.atoms, q)
        table, _ = local_verdicts(residues, per_residue, sigma=0.4, resolution=example.resolution)
        below = table["local_verdict"].to_numpy() == "below"
        print(
            "scenario",
            list(source),
            "local flags:",
            below[misfit].mean(),
            below[flexible].mean(),
            below[rest].mean(),
        )
        assert below[misfit].mean() >= 0.8
        assert below[flexible].mean() <= 0.35
        assert below[rest].mean() <= 0.1


# ------------------------------------------------------------------------------- units


def test_implied_resolution_inverts_q_peak():
    for sigma in (0.4, 0.6):
        for d in (1.2, 2.0, 3.7, 6.0, 9.5):
            assert implied_resolution(expected_q(d, sigma).q_peak, sigma) == pytest.approx(
                d, abs=2e-3
            )
    assert implied_resolution(np.array([1.2, -0.3, np.nan])).tolist()[:2] == [1.0, 10.0]
    assert np.isnan(implied_resolution(0.5, 0.5))


def _grid(values, origin, voxel, source="locres.mrc") -> DensityMap:
    return DensityMap(np.asarray(values, dtype=np.float32), origin, [voxel] * 3, source=source)


def test_sampling_any_grid_and_masked_voxels(emd30342_pair):
    _, model = emd30342_pair
    lo, hi = model.xyz.min(axis=0) - 5, model.xyz.max(axis=0) + 5
    voxel = 2.7
    n = np.ceil((hi - lo) / voxel).astype(int) + 1
    z, y, x = np.meshgrid(*(np.arange(k) for k in n[::-1]), indexing="ij")
    linear = 3.0 + 0.01 * x * voxel + 0.02 * y * voxel  # Å, linear in x and y
    local = sample_local_resolution(_grid(linear, lo + 0.3, voxel), model)
    heavy = model.heavy
    expect = 3.0 + 0.01 * (model.xyz[:, 0] - lo[0] - 0.3) + 0.02 * (model.xyz[:, 1] - lo[1] - 0.3)
    assert np.allclose(local.atoms[heavy], expect[heavy], atol=1e-4)
    assert np.all(np.isnan(local.atoms[~heavy]))
    assert local.notes == ()
    masked = linear.copy()
    masked[:, :, : n[0] // 2] = 100.0  # ResMap's value outside its mask
    masked[:, :, n[0] // 2 : n[0] // 2 + 2] = 0.0
    partial = sample_local_resolution(_grid(masked, lo + 0.3, voxel), model)
    valid = np.isfinite(partial.atoms)
    assert 0 < valid.sum() < heavy.sum()
    column = (model.xyz[:, 0] - lo[0] - 0.3) / voxel
    clear = valid & (column >= n[0] // 2 + 2)  # all eight corners unmasked
    assert clear.sum() > 100
    assert np.allclose(partial.atoms[clear], expect[clear], atol=1e-4)
    # next to the mask only the unmasked corners count: still a local value, never 0 or 100 Å
    assert np.allclose(partial.atoms[valid], expect[valid], atol=3 * 0.02 * voxel)
    assert "lie outside the local-resolution map" in partial.notes[0]


def test_sampling_refuses_maps_that_do_not_fit(emd30342_pair):
    _, model = emd30342_pair
    far = _grid(np.full((4, 4, 4), 3.0), model.xyz.max(axis=0) + 50, 2.0)
    with pytest.raises(NoOverlapError, match="does not cover the model"):
        sample_local_resolution(far, model)
    lo = model.xyz.min(axis=0) - 5
    n = np.ceil((model.xyz.max(axis=0) + 5 - lo) / 3.0).astype(int) + 1
    freq = _grid(np.full(n[::-1], 0.3), lo, 3.0)
    with pytest.raises(ParameterError, match="not a resolution in Å"):
        sample_local_resolution(freq, model)


def test_verdicts_and_readings():
    residues = pd.DataFrame({"q": [0.52, 0.20, 0.10, 0.70, 0.25, np.nan, 0.5, 0.6]})
    local = np.array([3.0, 6.0, 3.0, 3.0, 12.0, 3.0, np.nan, 12.0])
    table, notes = local_verdicts(residues, local, sigma=0.4, resolution=3.0)
    assert list(table.columns[-len(LOCAL_COLUMNS) :]) == list(LOCAL_COLUMNS)
    assert table["local_verdict"].tolist() == [
        "typical",
        "typical",
        "below",
        "above",
        "above",
        "",
        "",
        "above",
    ]
    assert table["local_reading"].tolist() == [
        "as expected locally",
        "poorly resolved region",
        "possible misfit",
        "above local band",
        "poorly resolved region",
        "",
        "",
        "above local band",
    ]
    at_ten = expected_q(10.0)
    assert table.loc[4, "q_low95_local"] == pytest.approx(at_ten.q_low95)
    assert "outside the 1–10 Å range" in notes[0]
    assert table.loc[1, "q_resolution"] == pytest.approx(implied_resolution(0.20), abs=1e-9)
    summary = local_summary(table)
    assert summary["local_verdict_counts"] == {"below": 1, "typical": 2, "above": 3}
    assert summary["median_local_resolution"] == pytest.approx(3.0)
    _, notes = local_verdicts(residues, local, sigma=0.5)
    assert any("sigma 0.4 and 0.6" in n for n in notes)


# ------------------------------------------------------------------------------- the FSC


def _noise_pair(snr: float, shape=(48, 48, 48), seed=0) -> tuple[DensityMap, DensityMap]:
    rng = np.random.default_rng(seed)
    signal = rng.standard_normal(shape)
    noise = [rng.standard_normal(shape) / np.sqrt(snr) for _ in range(2)]
    return tuple(_grid(signal + n, [0, 0, 0], 1.0, f"h{i}") for i, n in enumerate(noise))


@pytest.mark.parametrize("snr", [0.25, 1.0, 4.0])
def test_fsc_of_white_signal_and_noise(snr):
    half1, half2 = _noise_pair(snr)
    freq, fsc = local_fsc.fsc_curve(half1, half2)
    assert freq[1] == pytest.approx(1 / 48)
    assert np.mean(fsc[5:]) == pytest.approx(snr / (1 + snr), abs=0.02)


def test_local_fsc_on_half_maps_with_known_resolution():
    """Half maps whose local resolution is known analytically: a white signal blurred by
    exp(−B s²/4) under white noise has SNR(s) = a²·exp(−B s²/2), so its FSC crosses 0.143 at
    s² = 2 ln(6 a²) / B. One half of the box is made to cross at 4 Å, the other at 7 Å."""
    import scipy.fft as sfft

    rng = np.random.default_rng(1)
    shape = (64, 64, 128)
    white = rng.standard_normal(shape)
    s2 = (
        sfft.fftfreq(shape[0])[:, None, None] ** 2
        + sfft.fftfreq(shape[1])[None, :, None] ** 2
        + sfft.rfftfreq(shape[2])[None, None, :] ** 2
    )
    amplitude2 = 20.0

    def blurred(d: float) -> np.ndarray:
        b = 2.0 * np.log(6.0 * amplitude2) * d**2
        spectrum = sfft.rfftn(white) * np.exp(-b * s2 / 4.0)
        return np.sqrt(amplitude2) * sfft.irfftn(spectrum, s=shape)

    left = np.arange(shape[2]) < shape[2] // 2
    signal = np.where(left[None, None, :], blurred(4.0), blurred(7.0))
    halves = [_grid(signal + rng.standard_normal(shape), [0, 0, 0], 1.0) for _ in range(2)]
    values = local_fsc.local_resolution_from_half_maps(*halves, step=4).values[4:-4, 4:-4, :]
    four, seven = float(np.median(values[:, :, 3:12])), float(np.median(values[:, :, 19:29]))
    print(f"known-resolution half maps: 4 Å read as {four:.2f} Å, 7 Å read as {seven:.2f} Å")
    assert four == pytest.approx(4.0, rel=0.1)
    assert seven == pytest.approx(7.0, rel=0.15)


def test_half_maps_must_share_a_grid():
    a, b = _noise_pair(1.0)
    other = DensityMap(b.values[:-1], b.origin, b.voxel_size)
    with pytest.raises(ParameterError, match="different grids"):
        local_fsc.local_resolution_from_half_maps(a, other)
    shifted = DensityMap(b.values, b.origin + 0.5, b.voxel_size)
    with pytest.raises(ParameterError, match="different origins"):
        local_fsc.local_resolution_from_half_maps(a, shifted)
    with pytest.raises(ParameterError, match="threshold"):
        local_fsc.local_resolution_from_half_maps(a, b, threshold=1.5)


# ------------------------------------------------------------------------------- CLI


@pytest.fixture(scope="module")
def files(truth, tmp_path_factory):
    folder = tmp_path_factory.mktemp("localres")
    maps = truth.maps
    paths = {
        "map": folder / "map.mrc",
        "locres": folder / "locres.mrc",
        "half1": folder / "half1.mrc",
        "half2": folder / "half2.mrc",
        "model": folder / "model.pdb",
    }
    write_map(paths["map"], maps.map)
    write_map(paths["locres"], maps.local_resolution)
    write_map(paths["half1"], maps.half1)
    write_map(paths["half2"], maps.half2)
    paths["model"].write_text(pdb_text(truth.model, truth.model.b_iso))
    return paths


def test_cli_local_resolution_map(files, truth, tmp_path, capsys):
    out = {k: tmp_path / f"out.{k}" for k in ("json", "csv")}
    args = ["score", files["map"], files["model"], "--resolution", "3"]
    args += ["--local-resolution", files["locres"], "--json", out["json"]]
    args += ["--residues-csv", out["csv"]]
    assert main([str(a) for a in args]) == 0
    text = capsys.readouterr().out
    assert "possible misfit" in text and "Local resolution from the local-resolution map" in text
    doc = json.loads(out["json"].read_text())
    counts = doc["local_verdict_counts"]
    assert set(counts) == {"below", "typical", "above"}
    assert sum(counts.values()) == len(truth.residues)
    assert 3.0 <= doc["median_local_resolution"] <= 6.0
    table = pd.read_csv(out["csv"], keep_default_na=False)
    for column in LOCAL_COLUMNS:
        assert column in table.columns
    segment = table.loc[truth.segment]
    assert set(segment["local_verdict"]) == {"below"}
    assert (table.loc[truth.part6, "local_resolution"].astype(float) > 5.0).mean() > 0.9


def test_cli_half_maps(files, truth, tmp_path):
    path = tmp_path / "out.json"
    args = ["score", files["map"], files["model"], "--resolution", "3", "--json", path]
    args += ["--half-maps", files["half1"], files["half2"], "--locres-step", "3"]
    assert main([str(a) for a in args]) == 0
    doc = json.loads(path.read_text())
    assert doc["local_resolution_source"].startswith("half maps")
    assert doc["local_reading_counts"]["possible misfit"] >= SEGMENT
    assert 3.0 <= doc["median_local_resolution"] <= 6.5


def test_cli_local_resolution_errors(files, tmp_path, capsys):
    far = tmp_path / "far.mrc"
    write_map(far, _grid(np.full((4, 4, 4), 3.0), [900.0, 900.0, 900.0], 2.0))
    base = ["score", files["map"], files["model"]]
    code = main([str(a) for a in [*base, "--local-resolution", far]])
    err = capsys.readouterr().err
    assert code == 2 and "does not cover the model" in err and "Traceback" not in err
    code = main([str(a) for a in [*base, "--half-maps", files["half1"], far]])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in [*base, "--local-resolution", far, "--half-maps", far, far]])
    assert exc.value.code == 2
