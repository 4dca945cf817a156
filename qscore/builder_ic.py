"""Ideal internal coordinates of the 20 amino acids, written for this project.

Bond lengths and angles are rounded Engh & Huber-like values; side-chain torsions are either
fixed (planar groups, ring closures) or chi angles taken from common rotamers. Each side-chain
atom is placed from three parent atoms (a, b, c): bonded to c, bond angle b-c-atom, torsion
a-b-c-atom. Atom names follow PDB conventions.
"""

from __future__ import annotations

from typing import NamedTuple

ONE_TO_THREE = {
    "A": "ALA",
    "R": "ARG",
    "N": "ASN",
    "D": "ASP",
    "C": "CYS",
    "Q": "GLN",
    "E": "GLU",
    "G": "GLY",
    "H": "HIS",
    "I": "ILE",
    "L": "LEU",
    "K": "LYS",
    "M": "MET",
    "F": "PHE",
    "P": "PRO",
    "S": "SER",
    "T": "THR",
    "W": "TRP",
    "Y": "TYR",
    "V": "VAL",
}

#: Backbone bond lengths (Å) and angles (degrees).
N_CA, CA_C, C_N, C_O, C_OXT = 1.458, 1.525, 1.329, 1.231, 1.249
ANG_N_CA_C, ANG_CA_C_N, ANG_C_N_CA, ANG_CA_C_O = 111.0, 116.2, 121.7, 120.8
#: CB: bond, angle N-CA-CB and improper torsion C-N-CA-CB of an L-amino acid.
CA_CB, ANG_N_CA_CB, TOR_C_N_CA_CB = 1.530, 110.5, -122.5


class IC(NamedTuple):
    """One side-chain atom: name, element, parents, bond (Å), angle (°), torsion rule.

    The torsion is ``offset`` when ``chi`` is 0, else chi angle number ``chi`` plus ``offset``.
    """

    name: str
    element: str
    a: str
    b: str
    c: str
    bond: float
    angle: float
    chi: int
    offset: float


def _ic(name, element, a, b, c, bond, angle, chi=0, offset=0.0) -> IC:
    return IC(name, element, a, b, c, bond, angle, chi, offset)


_RING6 = [
    _ic("CD1", "C", "CA", "CB", "CG", 1.390, 120.8, 2, 0.0),
    _ic("CD2", "C", "CA", "CB", "CG", 1.390, 120.8, 2, 180.0),
    _ic("CE1", "C", "CB", "CG", "CD1", 1.390, 120.0, 0, 180.0),
    _ic("CE2", "C", "CB", "CG", "CD2", 1.390, 120.0, 0, 180.0),
    _ic("CZ", "C", "CG", "CD1", "CE1", 1.390, 120.0, 0, 0.0),
]

SIDE_CHAINS: dict[str, list[IC]] = {
    "GLY": [],
    "ALA": [],
    "SER": [_ic("OG", "O", "N", "CA", "CB", 1.417, 111.1, 1)],
    "CYS": [_ic("SG", "S", "N", "CA", "CB", 1.808, 114.0, 1)],
    "VAL": [
        _ic("CG1", "C", "N", "CA", "CB", 1.524, 110.7, 1),
        _ic("CG2", "C", "N", "CA", "CB", 1.524, 110.4, 1, 120.0),
    ],
    "THR": [
        _ic("OG1", "O", "N", "CA", "CB", 1.428, 109.2, 1),
        _ic("CG2", "C", "N", "CA", "CB", 1.519, 111.1, 1, -120.0),
    ],
    "LEU": [
        _ic("CG", "C", "N", "CA", "CB", 1.530, 116.3, 1),
        _ic("CD1", "C", "CA", "CB", "CG", 1.524, 110.7, 2),
        _ic("CD2", "C", "CA", "CB", "CG", 1.524, 110.7, 2, 120.0),
    ],
    "ILE": [
        _ic("CG1", "C", "N", "CA", "CB", 1.530, 110.4, 1),
        _ic("CG2", "C", "N", "CA", "CB", 1.527, 110.5, 1, -120.0),
        _ic("CD1", "C", "CA", "CB", "CG1", 1.513, 113.8, 2),
    ],
    "MET": [
        _ic("CG", "C", "N", "CA", "CB", 1.520, 114.1, 1),
        _ic("SD", "S", "CA", "CB", "CG", 1.807, 112.7, 2),
        _ic("CE", "C", "CB", "CG", "SD", 1.791, 100.9, 3),
    ],
    "PRO": [
        _ic("CG", "C", "N", "CA", "CB", 1.495, 104.5, 1),
        _ic("CD", "C", "CA", "CB", "CG", 1.502, 105.5, 2),
    ],
    "PHE": [_ic("CG", "C", "N", "CA", "CB", 1.502, 113.8, 1), *_RING6],
    "TYR": [
        _ic("CG", "C", "N", "CA", "CB", 1.512, 113.9, 1),
        *_RING6,
        _ic("OH", "O", "CD1", "CE1", "CZ", 1.376, 120.0, 0, 180.0),
    ],
    "TRP": [
        _ic("CG", "C", "N", "CA", "CB", 1.498, 113.6, 1),
        _ic("CD1", "C", "CA", "CB", "CG", 1.365, 127.0, 2),
        _ic("CD2", "C", "CA", "CB", "CG", 1.433, 126.6, 2, 180.0),
        _ic("NE1", "N", "CB", "CG", "CD1", 1.374, 110.2, 0, 180.0),
        _ic("CE2", "C", "CB", "CG", "CD2", 1.409, 107.2, 0, 180.0),
        _ic("CE3", "C", "CB", "CG", "CD2", 1.398, 133.9, 0, 0.0),
        _ic("CZ2", "C", "CG", "CD2", "CE2", 1.394, 122.4, 0, 180.0),
        _ic("CZ3", "C", "CG", "CD2", "CE3", 1.382, 118.7, 0, 180.0),
        _ic("CH2", "C", "CD2", "CE2", "CZ2", 1.368, 117.5, 0, 0.0),
    ],
    "HIS": [
        _ic("CG", "C", "N", "CA", "CB", 1.497, 113.7, 1),
        _ic("ND1", "N", "CA", "CB", "CG", 1.378, 122.7, 2),
        _ic("CD2", "C", "CA", "CB", "CG", 1.356, 131.0, 2, 180.0),
        _ic("CE1", "C", "CB", "CG", "ND1", 1.321, 109.0, 0, 180.0),
        _ic("NE2", "N", "CB", "CG", "CD2", 1.374, 107.0, 0, 180.0),
    ],
    "ASP": [
        _ic("CG", "C", "N", "CA", "CB", 1.516, 112.6, 1),
        _ic("OD1", "O", "CA", "CB", "CG", 1.249, 118.4, 2),
        _ic("OD2", "O", "CA", "CB", "CG", 1.249, 118.4, 2, 180.0),
    ],
    "ASN": [
        _ic("CG", "C", "N", "CA", "CB", 1.516, 112.6, 1),
        _ic("OD1", "O", "CA", "CB", "CG", 1.231, 120.8, 2),
        _ic("ND2", "N", "CA", "CB", "CG", 1.328, 116.4, 2, 180.0),
    ],
    "GLU": [
        _ic("CG", "C", "N", "CA", "CB", 1.520, 114.1, 1),
        _ic("CD", "C", "CA", "CB", "CG", 1.516, 112.6, 2),
        _ic("OE1", "O", "CB", "CG", "CD", 1.249, 118.4, 3),
        _ic("OE2", "O", "CB", "CG", "CD", 1.249, 118.4, 3, 180.0),
    ],
    "GLN": [
        _ic("CG", "C", "N", "CA", "CB", 1.520, 114.1, 1),
        _ic("CD", "C", "CA", "CB", "CG", 1.516, 112.6, 2),
        _ic("OE1", "O", "CB", "CG", "CD", 1.231, 120.8, 3),
        _ic("NE2", "N", "CB", "CG", "CD", 1.328, 116.4, 3, 180.0),
    ],
    "LYS": [
        _ic("CG", "C", "N", "CA", "CB", 1.520, 114.1, 1),
        _ic("CD", "C", "CA", "CB", "CG", 1.520, 111.3, 2),
        _ic("CE", "C", "CB", "CG", "CD", 1.520, 111.3, 3),
        _ic("NZ", "N", "CG", "CD", "CE", 1.489, 111.9, 4),
    ],
    "ARG": [
        _ic("CG", "C", "N", "CA", "CB", 1.520, 114.1, 1),
        _ic("CD", "C", "CA", "CB", "CG", 1.520, 111.3, 2),
        _ic("NE", "N", "CB", "CG", "CD", 1.460, 112.0, 3),
        _ic("CZ", "C", "CG", "CD", "NE", 1.329, 124.2, 4),
        _ic("NH1", "N", "CD", "NE", "CZ", 1.326, 120.0, 0, 0.0),
        _ic("NH2", "N", "CD", "NE", "CZ", 1.326, 120.0, 0, 180.0),
    ],
}

#: Bonds that close rings (not implied by the parent atom of each IC entry).
RING_CLOSURES: dict[str, list[tuple[str, str]]] = {
    "PRO": [("CD", "N")],
    "PHE": [("CE2", "CZ")],
    "TYR": [("CE2", "CZ")],
    "TRP": [("NE1", "CE2"), ("CZ3", "CH2")],
    "HIS": [("CE1", "NE2")],
}

#: Common rotamers (chi1, chi2, ...), most preferred first; the builder takes the first that fits.
ROTAMERS: dict[str, list[tuple[float, ...]]] = {
    "SER": [(-65.0,), (64.0,), (178.0,)],
    "CYS": [(-65.0,), (-177.0,), (63.0,)],
    "VAL": [(175.0,), (-60.0,), (63.0,)],
    "THR": [(62.0,), (-60.0,), (-175.0,)],
    "LEU": [(-65.0, 175.0), (-177.0, 65.0), (-85.0, 65.0), (-172.0, 145.0)],
    "ILE": [(-65.0, 170.0), (-57.0, -60.0), (62.0, 170.0), (-177.0, 66.0)],
    "MET": [
        (-68.0, 180.0, -75.0),
        (-65.0, -65.0, -70.0),
        (-177.0, 180.0, 75.0),
        (-177.0, 65.0, 75.0),
    ],
    "PRO": [(30.0, -35.0), (-25.0, 38.0)],
    "PHE": [(-65.0, -85.0), (-177.0, 80.0), (62.0, 90.0), (-65.0, -30.0)],
    "TYR": [(-65.0, -85.0), (-177.0, 80.0), (62.0, 90.0), (-65.0, -30.0)],
    "TRP": [(-65.0, 95.0), (-177.0, -105.0), (-65.0, -5.0), (62.0, -90.0), (-177.0, 90.0)],
    "HIS": [(-65.0, -70.0), (-177.0, 80.0), (-65.0, 165.0), (62.0, -75.0)],
    "ASP": [(-70.0, -15.0), (-177.0, 0.0), (62.0, 10.0)],
    "ASN": [(-65.0, -20.0), (-177.0, 30.0), (-65.0, 120.0), (62.0, -10.0)],
    "GLU": [
        (-65.0, 180.0, -10.0),
        (-177.0, 180.0, 10.0),
        (-65.0, -65.0, -40.0),
        (62.0, 180.0, 20.0),
    ],
    "GLN": [
        (-65.0, 180.0, -25.0),
        (-177.0, 180.0, 20.0),
        (-65.0, -65.0, -40.0),
        (62.0, 180.0, 20.0),
    ],
    "LYS": [
        (-65.0, 180.0, 180.0, 180.0),
        (-177.0, 180.0, 180.0, 180.0),
        (-65.0, 180.0, 180.0, 65.0),
        (-65.0, -65.0, 180.0, 180.0),
        (62.0, 180.0, 180.0, 180.0),
    ],
    "ARG": [
        (-65.0, 180.0, 180.0, 180.0),
        (-177.0, 180.0, 180.0, 85.0),
        (-65.0, 180.0, 65.0, 85.0),
        (-65.0, -65.0, 180.0, 180.0),
        (62.0, 180.0, 180.0, 180.0),
    ],
}


def residue_bonds(resname: str) -> list[tuple[str, str]]:
    """Intra-residue heavy-atom bonds of an amino acid (backbone, CB and side chain)."""
    bonds = [("N", "CA"), ("CA", "C"), ("C", "O"), ("C", "OXT")]
    if resname != "GLY":
        bonds.append(("CA", "CB"))
    bonds += [(ic.c, ic.name) for ic in SIDE_CHAINS[resname]]
    bonds += RING_CLOSURES.get(resname, [])
    return bonds
