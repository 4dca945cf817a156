"""``qscore score``: the command-line contract and a readable sentence for every bad input."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import warnings
from pathlib import Path

import mrcfile
import numpy as np
import pandas as pd
import pytest

from qscore.cli.main import main
from tests.conftest import needs_va

MAP = "emd_30342_chainA_zone.mrc"
MODEL = "7cec_chainA.cif"


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_and_files(capsys, emd30342, tmp_path):
    files = {k: tmp_path / f"out.{k}" for k in ("json", "atoms.csv", "res.csv", "cif", "pdb")}
    code, out, _ = run(
        capsys, "score", emd30342 / MAP, emd30342 / MODEL, "--sigma", "0.6",
        "--json", files["json"], "--atoms-csv", files["atoms.csv"],
        "--residues-csv", files["res.csv"], "--cif", files["cif"], "--pdb", files["pdb"],
    )  # fmt: skip
    assert code == 0
    doc = json.loads(files["json"].read_text())
    for key in ("model_q", "atoms_scored", "sigma", "mode", "seconds", "chains"):
        assert key in doc
    assert doc["atoms_scored"] == 4308 and doc["sigma"] == 0.6 and doc["mode"] == "direct"
    assert abs(doc["model_q"] - 0.4570) < 5e-4
    assert abs(doc["chains"]["A"] - doc["model_q"]) < 1e-12
    assert doc["resolution"] == 3.9 and doc["verdict"] == "typical"
    atoms = pd.read_csv(files["atoms.csv"], keep_default_na=False)
    assert list(atoms.columns)[:11] == [
        "chain", "resseq", "icode", "resname", "atom", "altloc", "element", "x", "y", "z", "q",
    ]  # fmt: skip
    assert len(atoms) == 4308
    assert len(pd.read_csv(files["res.csv"])) == 553
    assert "_atom_site.Q_score" in files["cif"].read_text()
    assert files["pdb"].read_text().count("\nATOM  ") == 4308
    assert "Model Q-score: 0.457" in out


@needs_va
def test_context_at_sigma_04(capsys, emd30342, tmp_path):
    path = tmp_path / "o.json"
    code, _, _ = run(
        capsys, "score", emd30342 / MAP, emd30342 / MODEL, "--resolution", "3.9", "--json", path
    )
    doc = json.loads(path.read_text())
    assert code == 0
    for key in (
        "q_peak",
        "q_low95",
        "q_high95",
        "verdict",
        "q_relative_all",
        "q_relative_resolution",
    ):
        assert doc[key] is not None, key
    assert 0 < doc["q_relative_all"] < 100


def test_summary_text_without_outputs(capsys, emd30342):
    code, out, err = run(capsys, "score", emd30342 / MAP, emd30342 / MODEL)
    assert code == 0
    assert "4308 atoms scored" in out and "chain A" in out
    assert err == ""


def _write_map(path: Path, data: np.ndarray) -> Path:
    with warnings.catch_warnings(), mrcfile.new(str(path), overwrite=True) as mrc:
        warnings.simplefilter("ignore", RuntimeWarning)
        mrc.set_data(data.astype(np.float32))
        mrc.voxel_size = 1.0
    return path


def _patched(path: Path, source: Path, offset: int, fmt: str, value) -> Path:
    raw = bytearray(source.read_bytes())
    struct.pack_into(fmt, raw, offset, value)
    path.write_bytes(bytes(raw))
    return path


@pytest.fixture
def small_map(tmp_path) -> Path:
    rng = np.random.default_rng(0)
    return _write_map(tmp_path / "small.mrc", rng.random((20, 20, 20)))


@pytest.fixture
def small_model(emd30342, tmp_path) -> Path:
    """The first 100 atoms of 7cec moved next to the origin, inside ``small_map``."""
    text = (emd30342 / "7cec_chainA_first100atoms.cif").read_text()
    from qscore.io.models import read_model

    model = read_model(text.encode(), name="m.cif")
    shift = model.xyz.min(axis=0) - 3.0
    from qscore.io.export import pdb_text

    moved = model.with_coordinates(model.xyz - shift)
    path = tmp_path / "m.pdb"
    path.write_text(pdb_text(moved, moved.b_iso))
    return path


def _bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


BAD_MAPS = {
    "truncated": (lambda p, m: _bytes(p, m.read_bytes()[:2000]), "truncated"),
    "text named .mrc": (lambda p, m: _bytes(p, b"this is not a map\n" * 100), "not"),
    "unknown mode": (lambda p, m: _patched(p, m, 12, "<i", 7), "mode"),
    "absurd dimensions": (lambda p, m: _patched(p, m, 0, "<i", 2_000_000_000), "header is corrupt"),
    "NaN voxels": (
        lambda p, m: _write_map(p, np.where(np.arange(8000).reshape(20, 20, 20) == 5, np.nan, 0.5)),
        "NaN",
    ),
    "constant map": (lambda p, m: _write_map(p, np.ones((20, 20, 20))), "constant"),
}


@pytest.mark.parametrize("case", sorted(BAD_MAPS))
def test_bad_maps_give_a_sentence_and_exit_2(capsys, tmp_path, small_map, small_model, case):
    make, phrase = BAD_MAPS[case]
    bad = make(tmp_path / "bad.mrc", small_map)
    code, _, err = run(capsys, "score", bad, small_model)
    assert code == 2
    assert phrase.lower() in err.lower(), err
    assert "Traceback" not in err


def test_small_case_scores(capsys, small_map, small_model):
    code, out, _ = run(capsys, "score", small_map, small_model)
    assert code == 0 and "100 atoms scored" in out


@pytest.mark.parametrize(
    ("content", "phrase"),
    [
        (b"", "empty"),
        (b"garbage text\n", "neither"),
        (b"data_x\nloop_\n_atom_site.id\n", "no atoms"),
    ],
)
def test_bad_models_give_a_sentence_and_exit_2(capsys, tmp_path, small_map, content, phrase):
    bad = tmp_path / "bad.cif"
    bad.write_bytes(content)
    code, _, err = run(capsys, "score", small_map, bad)
    assert code == 2 and phrase in err and "Traceback" not in err


def test_model_outside_the_map(capsys, emd30342, small_map):
    code, _, err = run(capsys, "score", small_map, emd30342 / MODEL)
    assert code == 2 and "outside the map" in err


def test_model_partly_outside_is_scored_with_a_warning(capsys, tmp_path, small_model):
    rng = np.random.default_rng(1)
    half = _write_map(tmp_path / "half.mrc", rng.random((40, 40, 12)))
    code, out, _ = run(capsys, "score", half, small_model)
    assert code == 0
    assert "atoms lie outside the map" in out


@pytest.mark.parametrize("sigma", ["0", "-1"])
def test_sigma_must_be_positive(capsys, small_map, small_model, sigma):
    code, _, err = run(capsys, "score", small_map, small_model, "--sigma", sigma)
    assert code == 2 and "sigma must be a positive" in err


def test_unknown_mode_is_a_usage_error(capsys, small_map, small_model):
    with pytest.raises(SystemExit) as exit_info:
        main(["score", str(small_map), str(small_model), "--mode", "fast"])
    assert exit_info.value.code == 2


def test_console_script_without_terminal_prints_no_progress_bar(small_map, small_model):
    exe = Path(sys.executable).with_name("qscore")
    proc = subprocess.run(
        [str(exe), "score", str(small_map), str(small_model)], capture_output=True, text=True
    )
    assert proc.returncode == 0
    assert proc.stderr == ""


def test_many_chains_summarised_in_one_line_naming_the_lowest():
    from qscore.cli.score import CHAIN_LINES, chain_lines

    few = {"A": 0.5, "B": float("nan")}
    assert chain_lines(few) == ["  chain A: 0.500", "  chain B: nan"]
    rng = np.random.default_rng(3)
    names = [f"C{k}" for k in range(2_520)]
    values = rng.uniform(0.45, 0.55, len(names))
    values[[17, 900, 2_000]] = [0.101, 0.102, 0.103]
    chains = dict(zip(names, values.tolist(), strict=True))
    chains["X"] = float("nan")
    (line,) = chain_lines(chains)
    lowest = sorted(values)[:5]
    assert line.startswith(
        f"  2,521 chains: Q 0.101–{values.max():.3f}, median {np.median(values):.3f}; "
        "lowest: C17 0.101, C900 0.102, C2000 0.103, "
    )
    assert f"{lowest[3]:.3f}" in line and f"{lowest[4]:.3f}" in line
    assert "1 without a scored atom" in line and "--json" in line
    assert len(chain_lines(dict(list(chains.items())[:CHAIN_LINES]))) == CHAIN_LINES
    assert chain_lines({n: float("nan") for n in names}) == [
        "  2,520 chains, none with a scored atom"
    ]
