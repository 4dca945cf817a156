"""Only an EM reconstruction's resolution prefills the map's resolution; diffraction resolutions
of X-ray models (mmCIF items or PDB REMARK 2/3/200) never do, on any face."""

from __future__ import annotations

import json
from pathlib import Path

import gemmi
import pytest

from qscore.cli.main import main
from qscore.io.maps import write_map
from qscore.io.models import read_model
from tests.test_modelmap import experimental_like, small_model, small_structure

XRAY_HEADER = "\n".join(
    line.ljust(80)
    for line in (
        "HEADER    HYDROLASE                               01-JAN-20   1XYZ",
        "EXPDTA    X-RAY DIFFRACTION",
        "REMARK   2",
        "REMARK   2 RESOLUTION.    1.80 ANGSTROMS.",
        "REMARK   3",
        "REMARK   3 REFINEMENT.",
        "REMARK   3   PROGRAM     : REFMAC 5.8.0158",
        "REMARK   3",
        "REMARK   3  DATA USED IN REFINEMENT.",
        "REMARK   3   RESOLUTION RANGE HIGH (ANGSTROMS) : 1.80",
        "REMARK   3   RESOLUTION RANGE LOW  (ANGSTROMS) : 40.00",
        "REMARK 200",
        "REMARK 200 EXPERIMENTAL DETAILS",
        "REMARK 200  EXPERIMENT TYPE                : X-RAY DIFFRACTION",
        "REMARK 200  RESOLUTION RANGE HIGH      (A) : 1.80",
        "REMARK 200  RESOLUTION RANGE LOW       (A) : 40.00",
    )
)


def write_mmcif(path: Path, items: dict[str, str]) -> Path:
    """The small test model as mmCIF with the given extra items (tag -> value)."""
    document = small_structure().make_mmcif_document()
    block = document.sole_block()
    for tag, value in items.items():
        block.set_pair(tag, value)
    document.write_file(str(path))
    return path


def xray_items(resolution: float = 1.8) -> dict[str, str]:
    return {
        "_exptl.method": "'X-RAY DIFFRACTION'",
        "_refine.ls_d_res_high": f"{resolution:g}",
        "_reflns.d_resolution_high": f"{resolution:g}",
    }


def write_xray_pdb(path: Path) -> Path:
    """The small test model as a PDB file of an X-ray structure (REMARK 2, 3 and 200)."""
    atoms = [
        line
        for line in small_structure().make_pdb_string().splitlines()
        if line.startswith(("ATOM", "HETATM", "TER"))
    ]
    path.write_text(XRAY_HEADER + "\n" + "\n".join(atoms) + "\nEND\n")
    return path


def test_xray_mmcif_gives_no_resolution_and_says_why(tmp_path):
    model = read_model(write_mmcif(tmp_path / "xray.cif", xray_items(1.8)))
    assert model.resolution is None
    assert any("diffraction resolution of 1.8 Å" in note for note in model.notes)


def test_xray_pdb_gives_no_resolution(tmp_path):
    path = write_xray_pdb(tmp_path / "xray.pdb")
    assert gemmi.read_pdb_string(path.read_text()).resolution == pytest.approx(1.8)
    model = read_model(path)
    assert model.resolution is None
    assert any("diffraction resolution of 1.8 Å" in note for note in model.notes)


def test_em_pdb_keeps_its_remark_2_resolution(tmp_path):
    """A PDB file of an EM structure states the map's resolution in REMARK 2 (gemmi's conversion
    drops it); an X-ray header's is a diffraction resolution and stays out."""
    header = XRAY_HEADER.replace("X-RAY DIFFRACTION", "ELECTRON MICROSCOPY").replace(
        "1.80 ANGSTROMS", "3.40 ANGSTROMS"
    )
    path = write_xray_pdb(tmp_path / "em.pdb")
    path.write_text(path.read_text().replace(XRAY_HEADER, header))
    model = read_model(path)
    assert model.resolution == pytest.approx(3.4)
    assert not any("diffraction" in note for note in model.notes)


def test_em_reconstruction_resolution_is_used_even_beside_a_refinement_resolution(tmp_path):
    items = {"_em_3d_reconstruction.resolution": "3.2", "_refine.ls_d_res_high": "3.0"}
    model = read_model(write_mmcif(tmp_path / "em.cif", items))
    assert model.resolution == pytest.approx(3.2)
    assert not any("diffraction" in note for note in model.notes)


def test_cli_score_of_an_xray_model_asks_for_the_resolution(tmp_path, capsys):
    map_path = tmp_path / "map.mrc"
    write_map(map_path, experimental_like(small_model()))
    model_path = write_mmcif(tmp_path / "xray.cif", xray_items(1.8))
    assert main(["score", str(map_path), str(model_path), "--json", "-"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert "q_peak" not in doc and "q_relative_all" not in doc
    assert any("diffraction resolution of 1.8 Å" in note for note in doc["notes"])
    assert main(["score", str(map_path), str(model_path), "--resolution", "4", "--json", "-"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["resolution"] == 4 and doc["q_peak"] is not None
