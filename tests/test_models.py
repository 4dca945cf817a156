"""Reading PDB and mmCIF models into per-atom arrays."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from qscore.errors import EmptyModelError, ModelFormatError
from qscore.io.models import read_model

# Columns: record, serial, name, altloc, resname, chain, resseq, icode, x, y, z, occ, B, element.
_ROWS = [
    ("ATOM", "N", "", "ALA", "A", 51, "", (0.0, 0.0, 0.0), "N"),
    ("ATOM", "CA", "", "ALA", "A", 51, "", (1.46, 0.0, 0.0), "C"),
    ("ATOM", "C", "", "ALA", "A", 51, "", (2.0, 1.4, 0.0), "C"),
    ("ATOM", "O", "", "ALA", "A", 51, "", (1.3, 2.4, 0.0), "O"),
    ("ATOM", "CB", "A", "ALA", "A", 51, "", (2.0, -0.8, 1.2), "C"),
    ("ATOM", "CB", "B", "ALA", "A", 51, "", (2.0, -0.8, -1.2), "C"),
    ("ATOM", "HA", "", "ALA", "A", 51, "", (1.2, 0.5, 0.9), "H"),
    ("ATOM", "N", "", "SER", "A", 52, "A", (3.3, 1.5, 0.0), "N"),
    ("ATOM", "CA", "", "SER", "A", 52, "A", (4.0, 2.7, 0.0), "C"),
    ("ATOM", "D", "", "SER", "A", 52, "A", (3.8, 0.6, 0.0), "D"),
    ("HETATM", "P", "", "SEP", "A", 53, "", (6.0, 2.7, 0.0), "P"),
    ("HETATM", "CA", "", "SEP", "A", 53, "", (7.0, 2.7, 0.0), "C"),
    ("HETATM", "C1", "", "NAG", "B", 1, "", (10.0, 0.0, 0.0), "C"),
    ("HETATM", "O5", "", "NAG", "B", 1, "", (11.4, 0.0, 0.0), "O"),
    ("HETATM", "C1", "", "LIG", "C", 1, "", (15.0, 0.0, 0.0), "C"),
    ("HETATM", "N1", "", "LIG", "C", 1, "", (16.4, 0.0, 0.0), "N"),
    ("HETATM", "ZN", "", "ZN", "D", 1, "", (20.0, 0.0, 0.0), "ZN"),
    ("HETATM", "O", "", "HOH", "E", 1, "", (25.0, 0.0, 0.0), "O"),
    ("ATOM", "P", "", "U", "F", 1, "", (30.0, 0.0, 0.0), "P"),
    ("ATOM", "C1'", "", "U", "F", 1, "", (31.5, 0.0, 0.0), "C"),
    ("ATOM", "N1", "", "U", "F", 1, "", (32.9, 0.0, 0.0), "N"),
]


def pdb_text(rows=_ROWS, model_records: int = 1) -> str:
    """A small PDB file with one or more MODEL blocks."""
    lines = []
    for m in range(model_records):
        if model_records > 1:
            lines.append(f"MODEL     {m + 1:4d}")
        for i, (rec, name, alt, resn, ch, seq, ic, xyz, el) in enumerate(rows, start=1):
            padded = f" {name:<3}" if len(name) < 4 and len(el) == 1 else f"{name:<4}"
            lines.append(
                f"{rec:<6}{i:5d} {padded}{alt:1}{resn:>3} {ch}{seq:4d}{ic:1}   "
                f"{xyz[0] + m:8.3f}{xyz[1]:8.3f}{xyz[2]:8.3f}{1.0:6.2f}{20.0:6.2f}          {el:>2}"
            )
        if model_records > 1:
            lines.append("ENDMDL")
    lines.append("END")
    return "\n".join(lines) + "\n"


def test_reads_the_shared_mmcif(emd30342):
    model = read_model(emd30342 / "7cec_chainA.cif")
    assert model.n_atoms == 4308
    assert model.resolution == 3.9
    assert len(model.residues) == 553
    assert set(model.residues["kind"]) == {"protein"}
    assert (model.subset == "backbone").sum() == 553 * 4
    assert model.name[1] == "CA" and model.resseq[0] == 1 and model.chain[0] == "A"
    np.testing.assert_allclose(model.xyz[0], [198.275, 155.934, 154.248])


def test_classes_altlocs_insertion_codes_hydrogens(tmp_path):
    path = tmp_path / "mixed.pdb"
    path.write_text(pdb_text())
    model = read_model(path)
    assert model.n_atoms == len(_ROWS)
    kinds = dict(zip(model.residues["resname"], model.residues["kind"], strict=True))
    assert kinds == {
        "ALA": "protein",
        "SER": "protein",
        "SEP": "protein",
        "NAG": "glycan",
        "LIG": "ligand",
        "ZN": "ion",
        "HOH": "water",
        "U": "nucleic",
    }
    assert list(model.altloc[4:6]) == ["A", "B"]
    assert model.icode[7] == "A" and model.resseq[7] == 52
    assert model.is_hydrogen[6] and model.is_hydrogen[9]
    assert model.hydrogen_parent[6] == 1
    assert model.hydrogen_parent[9] == 7
    assert any("hydrogen" in note for note in model.notes)
    assert list(model.subset[:6]) == ["backbone"] * 4 + ["sidechain"] * 2
    assert list(model.subset[18:21]) == ["phosphate", "sugar", "base"]
    assert model.subset[6] == ""


def test_first_model_of_a_multi_model_file_with_a_note(tmp_path):
    path = tmp_path / "ensemble.pdb"
    path.write_text(pdb_text(model_records=3))
    model = read_model(path)
    assert model.n_atoms == len(_ROWS)
    assert model.xyz[0, 0] == 0.0
    assert any("3 models" in note and "first" in note for note in model.notes)


def test_gzip_and_bytes_inputs(tmp_path, emd30342):
    raw = (emd30342 / "7cec_chainA_first100atoms.cif").read_bytes()
    gz = tmp_path / "m.cif.gz"
    gz.write_bytes(gzip.compress(raw))
    a = read_model(gz)
    b = read_model(raw, name="upload.cif")
    assert a.n_atoms == b.n_atoms == 100
    assert b.source == "upload.cif"


def test_long_chain_ids_from_mmcif(tmp_path, emd30342):
    text = (emd30342 / "7cec_chainA_first100atoms.cif").read_text()
    text = text.replace(" PHE A N ", " PHE AB1 N ").replace(" PHE A CA ", " PHE AB1 CA ")
    path = tmp_path / "long.cif"
    path.write_text(text)
    model = read_model(path)
    assert "AB1" in set(model.chain)


@pytest.mark.parametrize(
    ("content", "error", "phrase"),
    [
        (b"", EmptyModelError, "is empty"),
        (b"hello, this is not a model\n", ModelFormatError, "neither an mmCIF"),
        (b"\x00\x01\x02binary", ModelFormatError, "binary file"),
        (b"data_x\n_cell.length_a 10\n", EmptyModelError, "no atoms"),
        (
            b"data_x\nloop_\n_atom_site.id\n_atom_site.Cartn_x\n1 2.0\n3\n",
            ModelFormatError,
            "truncated",
        ),
        (b"\x1f\x8b\x08\x00garbage", ModelFormatError, "damaged gzip"),
    ],
)
def test_bad_models_raise_readable_errors(tmp_path, content, error, phrase):
    path = tmp_path / "bad.cif"
    path.write_bytes(content)
    with pytest.raises(error, match=phrase):
        read_model(path)


def test_model_with_only_hydrogens_is_empty(tmp_path):
    rows = [("ATOM", "H1", "", "ALA", "A", 1, "", (0.0, 0.0, 0.0), "H")]
    path = tmp_path / "h.pdb"
    path.write_text(pdb_text(rows))
    with pytest.raises(EmptyModelError, match="no non-hydrogen atoms"):
        read_model(path)


def test_missing_file():
    with pytest.raises(ModelFormatError, match="does not exist"):
        read_model("/nonexistent/model.cif")
