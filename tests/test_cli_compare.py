"""``qscore compare``: the command-line contract on EMD-30342 and a sentence for every bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from qscore.cli.main import main
from qscore.engine.choice import choose_engine
from qscore.io.export import write_pdb
from qscore.io.maps import read_map, write_map
from qscore.io.models import read_model
from qscore.synthetic.variants import noisy_copies, shift_residues

MAP = "emd_30342_chainA_zone.mrc"
MODEL = "7cec_chainA.cif"
#: Rows of 7cec chain A's residue table moved in the second model: A191–A198.
MOVED = list(range(190, 198))
CSV_CONTRACT = ["chain", "resseq", "icode", "resname", "q_a", "q_b", "dq", "significant"]
JSON_CONTRACT = (
    "model_q_a",
    "model_q_b",
    "residues_compared",
    "residues_better",
    "residues_worse",
    "unmatched",
)


def run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def moved_model(emd30342, tmp_path_factory):
    """7cec chain A with A191–A198 moved 2.5 Å off their density, as a PDB file."""
    model = read_model(emd30342 / MODEL)
    path = tmp_path_factory.mktemp("models") / "moved.pdb"
    shifted = shift_residues(model, MOVED, 2.5)
    write_pdb(shifted, shifted.b_iso, path)
    return path


def test_two_models_in_one_map(capsys, emd30342, moved_model, tmp_path):
    files = {"json": tmp_path / "c.json", "csv": tmp_path / "c.csv"}
    code, out, err = run(
        capsys, "compare", "--map", emd30342 / MAP, "--model", emd30342 / MODEL,
        "--model", moved_model, "--json", files["json"], "--residues-csv", files["csv"],
    )  # fmt: skip
    assert code == 0, err
    doc = json.loads(files["json"].read_text())
    for key in JSON_CONTRACT:
        assert key in doc, key
    assert doc["comparison"] == "models" and doc["resolution"] == 3.9
    assert doc["engine"] == choose_engine()
    assert doc["residues_compared"] == 553 and doc["unmatched"] == 0
    assert abs(doc["model_q_a"] - 0.3765) < 5e-4 and doc["model_q_b"] < doc["model_q_a"]
    assert doc["residues_better"] == 0 and doc["residues_worse"] >= 5
    assert doc["significance"]["noise_a"]["source"] == "assumed"
    table = pd.read_csv(files["csv"], keep_default_na=False)
    assert list(table.columns)[:8] == CSV_CONTRACT
    assert len(table) == 553
    assert np.allclose(table["dq"], table["q_b"] - table["q_a"], atol=2e-6)
    moved = table[table["resseq"].between(191, 198)]
    assert (moved["significant"] & (moved["dq"] < 0)).sum() >= 5
    assert not table.loc[~table["resseq"].between(185, 205), "significant"].any()
    assert "Models 7cec_chainA.cif (A) and moved.pdb (B)" in out
    assert "worse: 8 residues" in out or "worse: " in out


def test_one_model_in_two_maps(capsys, emd30342, tmp_path):
    dmap = read_map(emd30342 / MAP)
    model = read_model(emd30342 / MODEL)
    paths = []
    for k, half in enumerate(noisy_copies(dmap, model.xyz, 3.9, noise=0.3, seeds=(1, 2))):
        paths.append(tmp_path / f"half_{k + 1}.mrc")
        write_map(paths[-1], half)
    out_json = tmp_path / "maps.json"
    code, out, err = run(
        capsys, "compare", "--map", paths[0], "--map", paths[1], "--model", emd30342 / MODEL,
        "--json", out_json, "--samples", "8",
    )  # fmt: skip
    assert code == 0, err
    doc = json.loads(out_json.read_text())
    assert doc["comparison"] == "maps" and doc["map_a"] == "half_1.mrc"
    assert doc["residues_compared"] == 553
    flagged = doc["residues_better"] + doc["residues_worse"]
    assert flagged <= 0.05 * 553
    assert doc["significance"]["noise_a"]["source"] == "solvent"
    assert "Model 7cec_chainA.cif in maps half_1.mrc (A) and half_2.mrc (B)" in out


def test_identical_inputs(capsys, emd30342):
    code, out, _ = run(
        capsys, "compare", "--map", emd30342 / MAP, "--model", emd30342 / MODEL,
        "--model", emd30342 / MODEL, "--json", "-",
    )  # fmt: skip
    assert code == 0
    doc = json.loads(out)
    assert doc["model_q_a"] == doc["model_q_b"]
    assert doc["residues_better"] == doc["residues_worse"] == 0
    assert doc["dq_mean"] == 0.0 and doc["dq_sd"] == 0.0


@pytest.mark.parametrize(
    "args, words",
    [
        (["--map", "{map}", "--model", "{model}"], "one map and two models"),
        (["--map", "{map}", "--map", "{map}", "--model", "{model}", "--model", "{model}"],
         "one map and two models"),
        (["--map", "{map}", "--model", "{model}", "--model", "{missing}"], "does not exist"),
        (["--map", "{missing}", "--model", "{model}", "--model", "{model}"], "missing.mrc"),
        (["--map", "{map}", "--model", "{model}", "--model", "{model}", "--alpha", "2"],
         "alpha"),
        (["--map", "{map}", "--model", "{model}", "--model", "{model}", "--samples", "1"],
         "noise samples"),
        (["--map", "{map}", "--model", "{nores}", "--model", "{nores}"], "resolution"),
        (["--map", "{map}", "--model", "{model}", "--model", "{far}"], "outside"),
        (["--map", "{map}", "--model", "{model}", "--model", "{nm}"], "packed far too densely"),
        (["--map", "{map}", "--model", "{model}", "--model", "{far}", "--residues-csv", "{model}"],
         "input files"),
        (["--map", "{map}", "--model", "{model}", "--model", "{model}", "--json", "{nodir}"],
         "--json"),
    ],
)  # fmt: skip
def test_bad_input_is_one_sentence_and_exit_2(capsys, emd30342, tmp_path, args, words):
    nores, far, nm = tmp_path / "nores.pdb", tmp_path / "far.pdb", tmp_path / "nm.pdb"
    model = read_model(emd30342 / MODEL)
    write_pdb(model, model.b_iso, nores)
    moved = model.with_coordinates(model.xyz + 500.0)
    write_pdb(moved, moved.b_iso, far)
    centre = model.xyz.mean(axis=0)
    shrunk = model.with_coordinates((model.xyz - centre) * 0.1 + centre)  # coordinates in nm
    write_pdb(shrunk, shrunk.b_iso, nm)
    values = {
        "map": emd30342 / MAP,
        "model": emd30342 / MODEL,
        "missing": tmp_path / "missing.mrc",
        "nores": nores,
        "far": far,
        "nm": nm,
        "nodir": tmp_path / "no" / "such" / "folder" / "out.json",
    }
    if "{missing}" in args and args[args.index("{missing}") - 1] == "--model":
        values["missing"] = tmp_path / "missing.cif"
    code, out, err = run(capsys, "compare", *[a.format(**values) for a in args])
    assert code == 2
    assert words in err
    assert err.startswith("qscore compare: ") and err.count("\n") == 1
    assert "Traceback" not in err and out == ""
