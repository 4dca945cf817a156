"""Geometry sanity, atom naming and atom counts of models made by the builder."""

from __future__ import annotations

import collections

import gemmi
import numpy as np
import pytest
from scipy.spatial import cKDTree

from qscore.synthetic.builder.geometry import superpose, torsion
from qscore.synthetic.builder.hetero import (
    add_glycan,
    add_ions,
    add_ligand,
    add_nucleic,
    add_waters,
    flip_ligand,
    ligand_atoms,
)
from qscore.synthetic.builder.internal_coords import ONE_TO_THREE, SIDE_CHAINS
from qscore.synthetic.builder.nucleic import BASE_ATOMS, nucleotide_strand
from qscore.synthetic.builder.protein import build_protein, sequence_and_ss, structure_to_mmcif
from qscore.synthetic.builder.topology import bonds
from qscore.synthetic.examples import SCENARIO_PARTS

# helix - hairpin sheet (3 strands) - helix; every amino acid at least once: the scenario
# protein without its third helix
PARTS = [p for p in SCENARIO_PARTS if p not in (("KRGD", "L"), ("TEQLREVLERLMQQ", "H"))]
SEQ, SS = sequence_and_ss(PARTS)

HEAVY_ATOMS_PER_RESIDUE = {
    "GLY": 4, "ALA": 5, "SER": 6, "CYS": 6, "VAL": 7, "THR": 7, "PRO": 7, "ILE": 8, "LEU": 8,
    "ASP": 8, "ASN": 8, "GLN": 9, "GLU": 9, "LYS": 9, "MET": 8, "HIS": 10, "PHE": 11,
    "ARG": 11, "TYR": 12, "TRP": 14,
}  # fmt: skip


@pytest.fixture(scope="module")
def full_model() -> gemmi.Structure:
    st = build_protein(SEQ, SS, seed=3)
    st = add_ligand(st, seed=1)
    asn = next(r.seqid.num for r in st[0]["A"] if r.name == "ASN")
    st = add_glycan(st, ("A", asn))
    st = add_nucleic(st, "GGCAUCGCUA", seed=2)
    st = add_waters(st, 8, seed=1)
    return add_ions(st, ("MG", "ZN"), seed=1)


def _atoms(st):
    return [(ch.name, r.name, r.seqid.num, a.name) for ch in st[0] for r in ch for a in r]


def test_bonded_atoms_have_bond_lengths(full_model):
    xyz = np.array([a.pos.tolist() for ch in full_model[0] for r in ch for a in r])
    pairs = np.array(bonds(full_model))
    lengths = np.linalg.norm(xyz[pairs[:, 0]] - xyz[pairs[:, 1]], axis=1)
    assert lengths.min() >= 1.2
    assert lengths.max() <= 1.9


def test_no_clashes_between_non_bonded_atoms(full_model):
    """Apart from 1-2 and 1-3 neighbours (bond, angle), no heavy atoms within 2.2 Å."""
    xyz = np.array([a.pos.tolist() for ch in full_model[0] for r in ch for a in r])
    adj = collections.defaultdict(set)
    for i, j in bonds(full_model):
        adj[i].add(j)
        adj[j].add(i)
    names = _atoms(full_model)
    clashes = [
        (names[i], names[j])
        for i, j in cKDTree(xyz).query_pairs(2.2)
        if j not in adj[i] and not adj[i] & adj[j]
    ]
    assert clashes == []


def test_every_residue_has_its_atoms_and_elements(full_model):
    chain = full_model[0]["A"]
    assert len(chain) == len(SEQ)
    for r, aa in zip(chain, SEQ, strict=True):
        assert r.name == ONE_TO_THREE[aa]
        names = [a.name for a in r]
        expected = ["N", "CA", "C", "O"] + (["CB"] if r.name != "GLY" else [])
        expected += [ic.name for ic in SIDE_CHAINS[r.name]]
        assert names[: len(expected)] == expected
        extra = 1 if r is chain[len(chain) - 1] else 0
        assert len(r) == HEAVY_ATOMS_PER_RESIDUE[r.name] + extra
        for a in r:
            assert a.element.name == a.name[0]
    assert [a.name for a in chain[len(chain) - 1]][-1] == "OXT"
    assert {r.name for r in chain} == set(ONE_TO_THREE.values())


def test_l_amino_acids_and_secondary_structure(full_model):
    chain = full_model[0]["A"]
    pos = [{a.name: np.array(a.pos.tolist()) for a in r} for r in chain]
    for p in pos:
        if "CB" in p:
            assert torsion(p["C"], p["N"], p["CA"], p["CB"]) == pytest.approx(-122.5, abs=1)
    helix = range(2, 15)
    for i in helix:
        assert np.linalg.norm(pos[i]["CA"] - pos[i + 3]["CA"]) == pytest.approx(5.2, abs=0.3)
    # hairpin partners of the sheet: CA-CA 4.2-5.8 Å, H-bonded N...O near 2.9 Å
    first_strand_end, second_strand_start = 29, 32
    for k in range(5):
        a, b = first_strand_end - k, second_strand_start + k
        assert 4.0 < np.linalg.norm(pos[a]["CA"] - pos[b]["CA"]) < 6.0


def test_nucleotides_named_and_stacked_as_a_form():
    strand = nucleotide_strand("ACGUA")
    for resname, atoms in strand:
        names = [n for n, _, _ in atoms]
        assert names[:12] == ["P", "OP1", "OP2", "O5'", "C5'", "C4'", "O4'", "C3'", "O3'",
                              "C2'", "O2'", "C1'"]  # fmt: skip
        assert names[12:] == BASE_ATOMS[resname]
    assert "N6" in [n for n, _, _ in strand[0][1]] and "N9" in [n for n, _, _ in strand[0][1]]
    dna = nucleotide_strand("ACGT", dna=True)
    assert [r for r, _ in dna] == ["DA", "DC", "DG", "DT"]
    assert all("O2'" not in [n for n, _, _ in atoms] for _, atoms in dna)
    a = np.array([x for _, _, x in strand[1][1][:12]])
    b = np.array([x for _, _, x in strand[2][1][:12]])
    rot, shift = superpose(a, b)
    twist = np.degrees(np.arccos((np.trace(rot) - 1) / 2))
    w, v = np.linalg.eig(rot)
    axis = np.real(v[:, np.argmin(abs(w - 1))])
    assert twist == pytest.approx(32.7, abs=1.0)
    assert abs(np.dot(shift, axis)) == pytest.approx(2.8, abs=0.15)


def test_ligand_glycan_waters_ions(full_model):
    protein = np.array([a.pos.tolist() for r in full_model[0]["A"] for a in r])
    tree = cKDTree(protein)
    lig = full_model[0]["L"][0]
    assert lig.name == "LIG" and lig.het_flag == "H"
    assert 15 <= len(lig) <= 25
    assert {a.element.name for a in lig} == {"C", "N", "O"}
    lig_xyz = np.array([a.pos.tolist() for a in lig])
    assert tree.query(lig_xyz)[0].min() >= 3.0
    assert tree.query(lig_xyz)[0].max() < 8.0
    sugars = full_model[0]["G"]
    assert [r.name for r in sugars] == ["NAG", "NAG", "BMA", "MAN", "MAN"]
    assert {a.name for a in sugars[0]} == {
        "C1", "C2", "C3", "C4", "C5", "C6", "O3", "O4", "O5", "O6", "N2", "C7", "C8", "O7",
    }  # fmt: skip
    assert "O2" in {a.name for a in sugars[3]}
    asn = next(r for r in full_model[0]["A"] if r.name == "ASN")
    assert asn["ND2"][0].pos.dist(sugars[0]["C1"][0].pos) == pytest.approx(1.44, abs=0.01)
    assert [r.name for r in full_model[0]["W"]] == ["HOH"] * 8
    assert [r.name for r in full_model[0]["I"]] == ["MG", "ZN"]
    assert full_model[0]["I"][1][0].element.name == "Zn"


def test_flipped_ligand_keeps_rings_moves_substituents():
    atoms = ligand_atoms()
    flipped = flip_ligand(atoms)
    before = np.array([x for _, _, x in atoms])
    after = np.array([x for _, _, x in flipped])
    assert np.allclose(before[:10].mean(axis=0), after[:10].mean(axis=0))
    moved = np.linalg.norm(before - after, axis=1)
    assert moved[10:].mean() > 2.0


def test_builder_is_deterministic_and_writes_mmcif(tmp_path):
    a = build_protein("MKVLEAGSWDKT", "LHHHHHLLLHHL", seed=5)
    b = build_protein("MKVLEAGSWDKT", "LHHHHHLLLHHL", seed=5)
    xa = np.array([x.pos.tolist() for r in a[0]["A"] for x in r])
    xb = np.array([x.pos.tolist() for r in b[0]["A"] for x in r])
    assert np.array_equal(xa, xb)
    path = tmp_path / "m.cif"
    structure_to_mmcif(a, str(path), resolution=3.2)
    back = gemmi.read_structure(str(path))
    assert back.resolution == pytest.approx(3.2)
    assert back[0].count_atom_sites() == len(xa)


def test_bad_input_is_rejected():
    with pytest.raises(ValueError):
        build_protein("MKV", "HH")
    with pytest.raises(ValueError):
        build_protein("MXV", "HHH")
    with pytest.raises(ValueError):
        nucleotide_strand("ACGZ")
