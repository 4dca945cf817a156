"""Known-truth placement of every teaching scenario against the paper's bands (sigma 0.4).

Each scenario is generated into a temporary cache, scored with the engine, and its per-atom
Q-scores are averaged per residue (a plain groupby on the AtomModel arrays). "Near Q_peak"
means within ±0.03 of Q_peak(d), well inside the 95% bands (Q_peak − 0.15, Q_peak + 0.085).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from qscore.analysis.expected import expected_q
from qscore.engine import score
from qscore.io.maps import read_map
from qscore.io.models import read_model
from qscore.synthetic import examples

NEAR_PEAK = 0.03
BACKBONE = ["N", "CA", "C", "O", "OXT"]


def bands(d: float) -> tuple[float, float, float]:
    """(Q_low_95, Q_peak, Q_high_95) at resolution d for sigma 0.4 (equations 1–4)."""
    e = expected_q(d, 0.4)
    return e.q_low95, e.q_peak, e.q_high95


@pytest.fixture(scope="module", autouse=True)
def cache(tmp_path_factory):
    root = tmp_path_factory.mktemp("qscore-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("QSCORE_CACHE_DIR", str(root))
        yield root


class Scored:
    """An example's model scored in its map, with per-residue means."""

    def __init__(self, ex: examples.Example, model_path: Path | None = None):
        self.model = read_model(model_path or ex.model_path)
        self.q = score(read_map(ex.map_path), self.model, sigma=0.4).q
        self.heavy = self.model.heavy

    def select(self, chain: str, resseq=None, sidechain: bool = False) -> np.ndarray:
        m = self.heavy & (self.model.chain == chain)
        if resseq is not None:
            m &= np.isin(self.model.resseq, list(resseq))
        if sidechain:
            m &= ~np.isin(self.model.name, BACKBONE)
        return m

    def residue_means(self, mask: np.ndarray) -> pd.Series:
        return pd.Series(self.q[mask]).groupby(self.model.resseq[mask]).mean()

    @property
    def model_q(self) -> float:
        return float(np.nanmean(self.q[self.heavy]))


@pytest.fixture(scope="module")
def scored():
    done: dict[str, Scored] = {}

    def get(key: str) -> tuple[examples.Example, Scored]:
        ex = examples.get_example(key)
        if key not in done:
            done[key] = Scored(ex)
        return ex, done[key]

    return get


def test_catalogue_is_ordered_and_cached(cache):
    keys = examples.scenario_keys()
    assert keys[:4] == ["ladder-1.5", "ladder-2.5", "ladder-3.5", "ladder-6"]
    assert {"misfit-segment", "oversharpened", "resolution-overstated"} <= set(keys)
    assert {"resolution-understated", "flexible-loop", "ligand-pose", "glycan"} <= set(keys)
    assert "nucleic-acid" in keys
    with pytest.raises(KeyError):
        examples.get_example("no-such-example")
    ex = examples.get_example("ladder-6")
    assert ex.map_path.is_file() and ex.model_path.is_file()
    assert Path(os.environ["QSCORE_CACHE_DIR"]) in ex.map_path.parents
    assert examples.GENERATOR_VERSION in str(ex.map_path)
    assert ex.sigma == 0.4 and ex.figure and ex.explanation and ex.title
    again = examples.get_example("ladder-6")
    assert again == ex


def test_generation_is_deterministic(tmp_path, monkeypatch):
    first = examples.get_example("ladder-6").map_path.read_bytes()
    monkeypatch.setenv("QSCORE_CACHE_DIR", str(tmp_path))
    second = examples.get_example("ladder-6").map_path.read_bytes()
    assert first == second


def test_ladder_near_peak_and_decreasing(scored):
    qs = []
    for d in (1.5, 2.5, 3.5, 6.0):
        ex, s = scored(f"ladder-{d:g}")
        low, peak, high = bands(d)
        assert ex.resolution == d and ex.expectation["model"] == "near_peak"
        assert low < s.model_q < high
        assert abs(s.model_q - peak) <= NEAR_PEAK
        assert s.model.resolution == pytest.approx(d)
        qs.append(s.model_q)
    assert qs == sorted(qs, reverse=True)


def test_misfit_segment_below_band_rest_within(scored):
    ex, s = scored("misfit-segment")
    low, _, high = bands(ex.resolution)
    group = ex.expectation["below_low95"][0]
    seg = s.select("A", group["resseq"])
    assert s.residue_means(seg).mean() < low
    rest = s.heavy & ~seg
    assert low < s.residue_means(rest).mean() < high
    assert low < float(np.mean(s.q[rest])) < high


def test_oversharpened_above_band(scored):
    ex, s = scored("oversharpened")
    assert s.model_q > bands(ex.resolution)[2]


def test_reported_resolution_mismatch(scored):
    over, s_over = scored("resolution-overstated")
    under, s_under = scored("resolution-understated")
    assert over.resolution == under.resolution == 3.0
    assert s_over.model_q < bands(over.resolution)[0]
    assert s_under.model_q > bands(under.resolution)[2]


def test_flexible_loop_and_disordered_side_chain(scored):
    ex, s = scored("flexible-loop")
    low, _, high = bands(ex.resolution)
    loop, side = ex.expectation["below_low95"]
    loop_mask = s.select("A", loop["resseq"])
    assert s.residue_means(loop_mask).mean() < low
    side_mask = s.select("A", side["resseq"], sidechain=True)
    assert float(np.mean(s.q[side_mask])) < low
    rest = s.heavy & ~loop_mask & ~side_mask
    assert low < float(np.mean(s.q[rest])) < high


def test_correct_ligand_pose_beats_flipped(scored):
    ex, s = scored("ligand-pose")
    low, _, high = bands(ex.resolution)
    dmap = read_map(ex.map_path)
    ligand_q = {}
    for name, path in ex.variants.items():
        model = read_model(path)
        q = score(dmap, model, sigma=0.4).q
        ligand_q[name] = float(np.mean(q[model.heavy & (model.chain == "L")]))
    assert ligand_q["correct"] > ligand_q["flipped"] + 0.05
    assert low < ligand_q["correct"] < high
    assert abs(s.model_q - bands(ex.resolution)[1]) <= NEAR_PEAK


def test_poor_saccharide_below_others_and_band(scored):
    ex, s = scored("glycan")
    low, _, high = bands(ex.resolution)
    poor = ex.expectation["below_low95"][0]["resseq"][0]
    per_sugar = s.residue_means(s.select("G"))
    assert list(s.model.residues.query("chain == 'G'").kind.unique()) == ["glycan"]
    assert per_sugar[poor] < low
    others = per_sugar.drop(poor)
    assert per_sugar[poor] < others.min()
    assert low < others.mean() < high


def test_poor_nucleotide_stretch_below_band(scored):
    ex, s = scored("nucleic-acid")
    low, _, high = bands(ex.resolution)
    stretch = ex.expectation["below_low95"][0]["resseq"]
    per_nt = s.residue_means(s.select("N"))
    assert per_nt[stretch].mean() < low
    assert low < per_nt.drop(stretch).mean() < high


def test_builtin_example(scored):
    ex, s = scored("builtin")
    low, peak, high = bands(ex.resolution)
    assert s.model.resolution == pytest.approx(3.0)
    kinds = set(s.model.residues.kind)
    assert kinds == {"protein", "nucleic", "ligand", "glycan", "water", "ion"}
    assert 150 <= (s.model.residues.kind == "protein").sum() <= 250
    assert abs(s.model_q - peak) <= NEAR_PEAK
    for group in ex.expectation["below_low95"]:
        assert s.residue_means(s.select("A", group["resseq"])).mean() < low
