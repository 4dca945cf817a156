"""CSV, mmCIF (``_atom_site.Q_score``, as MapQ writes it) and PDB (Q as B-factor) writers."""

from __future__ import annotations

import gemmi
import numpy as np
import pytest

from qscore.errors import ModelFormatError
from qscore.io import export
from qscore.io.models import read_model
from tests.conftest import mapq_scores
from tests.test_models import pdb_text


@pytest.fixture
def small(emd30342):
    model = read_model(emd30342 / "7cec_chainA_first100atoms.cif")
    q = np.linspace(-0.2, 0.9, model.n_atoms)
    return model, q


def test_mmcif_gains_q_score_after_b_and_keeps_everything_else(small, tmp_path):
    model, q = small
    path = tmp_path / "out.cif"
    export.write_mmcif(model, q, path)
    block = gemmi.cif.read(str(path)).sole_block()
    tags = list(block.find_mmcif_category("_atom_site.").tags)
    assert tags.index("_atom_site.Q_score") == tags.index("_atom_site.B_iso_or_equiv") + 1
    values = np.array([float(v) for v in block.find_values("_atom_site.Q_score")])
    np.testing.assert_allclose(values, q, atol=5e-7)
    assert block.find_value("_em_3d_reconstruction.resolution") == "3.9"
    again = read_model(path)
    np.testing.assert_array_equal(again.xyz, model.xyz)
    np.testing.assert_array_equal(again.b_iso, model.b_iso)


def test_mmcif_marks_atoms_without_q(small):
    model, q = small
    q = q.copy()
    q[3] = np.nan
    text = export.mmcif_text(model, q)
    block = gemmi.cif.read_string(text).sole_block()
    assert list(block.find_values("_atom_site.Q_score"))[3] == "?"


def test_pdb_has_q_with_two_decimals(small, tmp_path):
    model, q = small
    path = tmp_path / "out.pdb"
    export.write_pdb(model, q, path, remarks=("Q-scores",))
    lines = path.read_text().splitlines()
    assert lines[0].startswith("REMARK   0 Q-scores")
    atoms = [line for line in lines if line.startswith(("ATOM", "HETATM"))]
    assert len(atoms) == model.n_atoms
    assert atoms[0][60:66] == f"{q[0]:6.2f}"
    again = read_model(path)
    np.testing.assert_allclose(again.xyz, model.xyz, atol=5e-4)
    np.testing.assert_allclose(again.b_iso, np.round(q, 2), atol=1e-9)
    assert list(again.name) == list(model.name)


def test_pdb_refuses_long_chain_ids(tmp_path, emd30342):
    text = (
        (emd30342 / "7cec_chainA_first100atoms.cif").read_text().replace(" PHE A N ", " PHE AB1 N ")
    )
    path = tmp_path / "long.cif"
    path.write_text(text)
    model = read_model(path)
    with pytest.raises(export.ExportError, match="use the mmCIF"):
        export.pdb_text(model, np.zeros(model.n_atoms))


def test_atoms_csv_has_the_contract_columns(small, tmp_path):
    model, q = small
    frame = export.atoms_frame(model, q)
    assert list(frame.columns) == [*export.ATOM_COLUMNS, "q"]
    assert len(frame) == 100
    path = tmp_path / "atoms.csv"
    export.write_csv(frame, path)
    assert (
        path.read_text().splitlines()[0] == "chain,resseq,icode,resname,atom,altloc,element,x,y,z,q"
    )


def test_pdb_round_trip_of_a_pdb_input(tmp_path):
    path = tmp_path / "in.pdb"
    path.write_text(pdb_text())
    model = read_model(path)
    text = export.pdb_text(model, np.full(model.n_atoms, 0.25))
    out = tmp_path / "out.pdb"
    out.write_text(text)
    again = read_model(out)
    assert list(again.altloc) == list(model.altloc)
    assert list(again.icode) == list(model.icode)
    assert list(again.element) == list(model.element)


def test_the_q_item_is_named_as_in_mapq_output(small, emd30342):
    model, q = small
    ours = gemmi.cif.read_string(export.mmcif_text(model, q)).sole_block()
    mapq = gemmi.cif.read(str(emd30342 / "mapq_single_process_sigma0.6.cif")).sole_block()
    q_tags = {
        tag
        for block in (ours, mapq)
        for tag in block.find_mmcif_category("_atom_site.").tags
        if tag.lower().startswith("_atom_site.q")
    }
    assert q_tags == {"_atom_site.Q_score"}


def test_mapq_output_given_back_is_read_and_rewritten_with_one_q_item(emd30342):
    path = emd30342 / "mapq_single_process_sigma0.6.cif"
    model = read_model(path)
    stored = export.stored_qscores(model)
    np.testing.assert_array_equal(stored, mapq_scores(path))
    text = export.mmcif_text(model, np.full(model.n_atoms, 0.5))
    block = gemmi.cif.read_string(text).sole_block()
    assert [t for t in block.find_mmcif_category("_atom_site.").tags if "Q" in t] == [
        "_atom_site.Q_score"
    ]
    assert set(block.find_values("_atom_site.Q_score")) == {"0.500000"}


def test_files_with_the_older_q_item_are_read_and_rewritten(small, tmp_path):
    model, q = small
    legacy = export.mmcif_text(model, q).replace("_atom_site.Q_score", "_atom_site.Q-score")
    path = tmp_path / "legacy.cif"
    path.write_text(legacy)
    again = read_model(path)
    np.testing.assert_allclose(export.stored_qscores(again), q, atol=5e-7)
    text = export.mmcif_text(again, q)
    assert "_atom_site.Q-score" not in text
    assert text.count("_atom_site.Q_score") == 1


def test_a_model_without_q_has_no_stored_scores(small):
    model, _ = small
    assert export.stored_qscores(model) is None


def test_a_damaged_q_item_is_a_plain_error(small, tmp_path):
    model, q = small
    text = export.mmcif_text(model, q)
    block = gemmi.cif.read_string(text).sole_block()
    first = block.find_values("_atom_site.Q_score")[0]
    path = tmp_path / "damaged.cif"
    path.write_text(text.replace(f" {first} ", " abc ", 1))
    with pytest.raises(ModelFormatError, match="Q_score"):
        export.stored_qscores(read_model(path))


def test_large_models_keep_their_text_and_are_written_back_the_same(emd30342, monkeypatch):
    """Above KEEP_DOCUMENT_ATOMS a model keeps its mmCIF text, not gemmi's larger document;
    writing it back and reading stored Q-scores give what the kept document gives."""
    from qscore.io import models

    path = emd30342 / "mapq_single_process_sigma0.6.cif"
    kept = read_model(path)
    monkeypatch.setattr(models, "KEEP_DOCUMENT_ATOMS", 10)
    large = read_model(path)
    assert large.document is None and large.document_text is not None
    assert kept.document is not None and kept.document_text is None
    q = np.linspace(0.0, 1.0, kept.n_atoms)
    assert export.mmcif_text(large, q) == export.mmcif_text(kept, q)
    np.testing.assert_array_equal(export.stored_qscores(large), export.stored_qscores(kept))
