"""``qscore bfactor`` through the dispatcher: outputs, JSON contract and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from qscore.cli.main import main
from qscore.io.maps import write_map
from qscore.io.models import read_model
from tests.test_modelmap import experimental_like, small_model, small_structure


def write_model(path: Path, *, resolution: float | None, shift: float = 0.0) -> Path:
    """The small test model as mmCIF, with ``_em_3d_reconstruction.resolution`` if given."""
    text = small_structure(shift=shift).make_mmcif_document().as_string()
    if resolution is not None:
        head, rest = text.split("\n", 1)
        text = f"{head}\n_em_3d_reconstruction.resolution {resolution}\n{rest}"
    path.write_text(text)
    return path


@pytest.fixture
def pair(tmp_path) -> tuple[Path, Path]:
    map_path = tmp_path / "map.mrc"
    write_map(map_path, experimental_like(small_model()))
    return map_path, write_model(tmp_path / "model.cif", resolution=4.0)


def test_outputs_and_json_contract(pair, tmp_path, capsys):
    map_path, model_path = pair
    out = {k: tmp_path / f"out.{k}" for k in ("json", "cif", "pdb", "csv")}
    code = main(
        [
            "bfactor",
            str(map_path),
            str(model_path),
            "--f-range",
            "0:200:50",
            "--sigma",
            "0.6",
            "--json",
            str(out["json"]),
            "--cif",
            str(out["cif"]),
            "--pdb",
            str(out["pdb"]),
            "--table",
            str(out["csv"]),
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "Best f =" in text and "CC-mean" in text
    doc = json.loads(out["json"].read_text())
    for key in ("f_scan", "best_f", "cc_mean_best", "cc_mean_b0", "cc_mean_deposited", "cc"):
        assert key in doc
    assert doc["resolution"] == 4.0
    assert [row["f"] for row in doc["f_scan"]] == [0, 50, 100, 150, 200]
    assert doc["cc_mean_best"] == max(row["cc_mean"] for row in doc["f_scan"])
    assert doc["best_f"] in [row["f"] for row in doc["f_scan"]]
    assert set(doc["chains"]) == {"A"} and set(doc["chains"]["A"]) == {"cc", "cc_mean"}
    assert 0 < doc["cc"] <= 1 and -1 <= doc["cc_mean"] <= 1
    written = read_model(out["cif"])
    model = read_model(model_path)
    np.testing.assert_allclose(written.xyz, model.xyz)
    if doc["best_f"] > 0:
        assert not np.allclose(written.b_iso, model.b_iso)
    assert np.all(written.b_iso <= doc["best_f"] + 1e-6)
    from_pdb = read_model(out["pdb"])
    np.testing.assert_allclose(from_pdb.b_iso, written.b_iso, atol=0.006)
    table = pd.read_csv(out["csv"])
    assert list(table.columns) == [
        "chain", "resseq", "icode", "resname", "cc", "cc_mean", "cc_b", "cc_mean_b", "mean_b",
        "n_points",
    ]  # fmt: skip
    assert len(table) == 6


def test_json_to_stdout_and_explicit_resolution(tmp_path, capsys):
    map_path = tmp_path / "map.mrc"
    write_map(map_path, experimental_like(small_model()))
    model_path = write_model(tmp_path / "model.cif", resolution=None)
    code = main(
        ["bfactor", str(map_path), str(model_path), "--resolution", "4.5", "--f-range",
         "0:40:20", "--json", "-"]
    )  # fmt: skip
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["resolution"] == 4.5 and len(doc["f_scan"]) == 3


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--resolution", "0"], "resolution must be a positive number"),
        (["--resolution", "-2"], "resolution must be a positive number"),
        (["--f-range", "300:0:20"], "f range is empty"),
        (["--f-range", "0-300-20"], "START:STOP:STEP"),
        (["--f-range", "0:300:x"], "with numbers"),
    ],
)
def test_bad_parameters(pair, extra, message, capsys):
    map_path, model_path = pair
    code = main(["bfactor", str(map_path), str(model_path), *extra])
    assert code != 0
    err = capsys.readouterr().err
    assert err.startswith("qscore bfactor: ") and message in err


def test_missing_resolution(tmp_path, capsys):
    map_path = tmp_path / "map.mrc"
    write_map(map_path, experimental_like(small_model()))
    model_path = write_model(tmp_path / "model.cif", resolution=None)
    assert main(["bfactor", str(map_path), str(model_path)]) != 0
    assert "--resolution" in capsys.readouterr().err


def test_no_overlap(tmp_path, capsys):
    map_path = tmp_path / "map.mrc"
    write_map(map_path, experimental_like(small_model()))
    model_path = write_model(tmp_path / "far.cif", resolution=4.0, shift=500.0)
    assert main(["bfactor", str(map_path), str(model_path)]) != 0
    err = capsys.readouterr().err
    assert "outside the map" in err
