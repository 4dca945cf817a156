"""Residue, chain, type and model averages, and MapQ's sliding windows."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from qscore.analysis import aggregate
from qscore.io.models import read_model
from tests.test_models import pdb_text


def _model(tmp_path: Path):
    path = tmp_path / "m.pdb"
    path.write_text(pdb_text())
    return read_model(path)


def test_window_mean_truncates_at_the_ends():
    values = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    np.testing.assert_allclose(aggregate.window_mean(values, 1), [1.5, 2.0, 3.0, 4.0, 4.5])
    np.testing.assert_allclose(aggregate.window_mean(values, 5), [3.0] * 5)
    np.testing.assert_allclose(aggregate.window_mean(values, 0), values)


def test_residue_subsets_and_means(tmp_path):
    model = _model(tmp_path)
    q = np.arange(model.n_atoms, dtype=float) / 100
    table = aggregate.residue_table(model, q)
    ala = table.iloc[0]
    assert ala["atoms"] == 6
    assert np.isclose(ala["q_backbone"], np.mean([0.00, 0.01, 0.02, 0.03]))
    assert np.isclose(ala["q_sidechain"], np.mean([0.04, 0.05]))
    assert np.isclose(ala["q"], np.mean([0.00, 0.01, 0.02, 0.03, 0.04, 0.05]))
    nucleotide = table[table["resname"] == "U"].iloc[0]
    assert np.isclose(nucleotide["q_phosphate"], 0.18)
    assert np.isclose(nucleotide["q_sugar"], 0.19)
    assert np.isclose(nucleotide["q_base"], 0.20)
    assert np.isnan(nucleotide["q_backbone"])


def test_model_summary_includes_waters_and_ligands(tmp_path):
    model = _model(tmp_path)
    q = np.where(model.is_hydrogen, np.nan, 0.5)
    q[model.kind == "water"] = 0.1
    summary = aggregate.model_summary(model, q)
    heavy = (~model.is_hydrogen).sum()
    assert summary["atoms_scored"] == heavy
    assert np.isclose(summary["model_q"], (0.5 * (heavy - 1) + 0.1) / heavy)
    assert summary["model_q_polymer"] == 0.5
    assert set(summary["types"]) == {"protein", "nucleic", "ligand", "glycan", "water", "ion"}
    assert np.isclose(summary["types"]["water"], 0.1)
    assert set(summary["chains"]) == {"A", "B", "C", "D", "E", "F"}


def test_hydrogens_never_enter_an_average(tmp_path):
    model = _model(tmp_path)
    q = np.full(model.n_atoms, 0.5)
    q[model.is_hydrogen] = 100.0
    assert aggregate.model_summary(model, q)["model_q"] == 0.5
    assert np.allclose(aggregate.residue_table(model, q)["q"], 0.5)


def test_glycine_contributes_zero_to_side_chain_windows():
    import pandas as pd

    residues = pd.DataFrame(
        {
            "chain": ["A"] * 3,
            "resseq": [1, 2, 3],
            "icode": [""] * 3,
            "q_backbone": [0.6, 0.5, 0.4],
            "q_sidechain": [0.3, np.nan, 0.6],
            "q": [0.4, 0.5, 0.5],
        }
    )
    windows = aggregate.mapq_windows(residues)
    assert np.isclose(windows["q_sidechain_avg3"].iloc[0], 0.15)
    assert np.isnan(windows["q_sidechain_avg3"].iloc[1])
    assert np.isclose(windows["q_backbone_avg3"].iloc[1], 0.5)
