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


def _chain(*atoms: tuple[str, str, float, float]) -> list[IC]:
    """Side-chain atoms (name, element, bond, angle) placed one after another from CB: each is
    bonded to the one before, with the next chi angle as its torsion (CG: chi 1, …)."""
    path = ["N", "CA", "CB"]
    out = []
    for chi, (name, element, bond, angle) in enumerate(atoms, start=1):
        a, b, c = path[-3:]
        out.append(_ic(name, element, a, b, c, bond, angle, chi))
        path.append(name)
    return out


def _pair(
    parents: tuple[str, str, str],
    chi: int,
    first: tuple[str, str, float, float],
    second: tuple[str, str, float, float],
    offset: float = 180.0,
) -> list[IC]:
    """Two atoms on the same parents: ``first`` at the torsion rule, ``second`` ``offset`` away."""
    (n1, e1, b1, a1), (n2, e2, b2, a2) = first, second
    return [_ic(n1, e1, *parents, b1, a1, chi), _ic(n2, e2, *parents, b2, a2, chi, offset)]


def _carboxylate(o1: str, o2: str, parents: tuple[str, str, str], chi: int) -> list[IC]:
    return _pair(parents, chi, (o1, "O", 1.249, 118.4), (o2, "O", 1.249, 118.4))


def _amide(o: str, n: str, parents: tuple[str, str, str], chi: int) -> list[IC]:
    return _pair(parents, chi, (o, "O", 1.231, 120.8), (n, "N", 1.328, 116.4))


_CG_ACID = ("CG", "C", 1.516, 112.6)  # ASP, ASN
_CG_LONG = ("CG", "C", 1.520, 114.1)  # MET, GLU, GLN, LYS, ARG
_CD_ACID = ("CD", "C", 1.516, 112.6)  # GLU, GLN
_CD_LONG = ("CD", "C", 1.520, 111.3)  # LYS, ARG

_RING6 = [
    *_pair(("CA", "CB", "CG"), 2, ("CD1", "C", 1.390, 120.8), ("CD2", "C", 1.390, 120.8)),
    _ic("CE1", "C", "CB", "CG", "CD1", 1.390, 120.0, 0, 180.0),
    _ic("CE2", "C", "CB", "CG", "CD2", 1.390, 120.0, 0, 180.0),
    _ic("CZ", "C", "CG", "CD1", "CE1", 1.390, 120.0, 0, 0.0),
]

SIDE_CHAINS: dict[str, list[IC]] = {
    "GLY": [],
    "ALA": [],
    "SER": _chain(("OG", "O", 1.417, 111.1)),
    "CYS": _chain(("SG", "S", 1.808, 114.0)),
    "VAL": _pair(
        ("N", "CA", "CB"), 1, ("CG1", "C", 1.524, 110.7), ("CG2", "C", 1.524, 110.4), 120.0
    ),
    "THR": _pair(
        ("N", "CA", "CB"), 1, ("OG1", "O", 1.428, 109.2), ("CG2", "C", 1.519, 111.1), -120.0
    ),
    "LEU": [
        *_chain(("CG", "C", 1.530, 116.3)),
        *_pair(
            ("CA", "CB", "CG"), 2, ("CD1", "C", 1.524, 110.7), ("CD2", "C", 1.524, 110.7), 120.0
        ),
    ],
    "ILE": [
        *_pair(
            ("N", "CA", "CB"), 1, ("CG1", "C", 1.530, 110.4), ("CG2", "C", 1.527, 110.5), -120.0
        ),
        _ic("CD1", "C", "CA", "CB", "CG1", 1.513, 113.8, 2),
    ],
    "MET": _chain(_CG_LONG, ("SD", "S", 1.807, 112.7), ("CE", "C", 1.791, 100.9)),
    "PRO": _chain(("CG", "C", 1.495, 104.5), ("CD", "C", 1.502, 105.5)),
    "PHE": [*_chain(("CG", "C", 1.502, 113.8)), *_RING6],
    "TYR": [
        *_chain(("CG", "C", 1.512, 113.9)),
        *_RING6,
        _ic("OH", "O", "CD1", "CE1", "CZ", 1.376, 120.0, 0, 180.0),
    ],
    "TRP": [
        *_chain(("CG", "C", 1.498, 113.6)),
        *_pair(("CA", "CB", "CG"), 2, ("CD1", "C", 1.365, 127.0), ("CD2", "C", 1.433, 126.6)),
        _ic("NE1", "N", "CB", "CG", "CD1", 1.374, 110.2, 0, 180.0),
        _ic("CE2", "C", "CB", "CG", "CD2", 1.409, 107.2, 0, 180.0),
        _ic("CE3", "C", "CB", "CG", "CD2", 1.398, 133.9, 0, 0.0),
        _ic("CZ2", "C", "CG", "CD2", "CE2", 1.394, 122.4, 0, 180.0),
        _ic("CZ3", "C", "CG", "CD2", "CE3", 1.382, 118.7, 0, 180.0),
        _ic("CH2", "C", "CD2", "CE2", "CZ2", 1.368, 117.5, 0, 0.0),
    ],
    "HIS": [
        *_chain(("CG", "C", 1.497, 113.7)),
        *_pair(("CA", "CB", "CG"), 2, ("ND1", "N", 1.378, 122.7), ("CD2", "C", 1.356, 131.0)),
        _ic("CE1", "C", "CB", "CG", "ND1", 1.321, 109.0, 0, 180.0),
        _ic("NE2", "N", "CB", "CG", "CD2", 1.374, 107.0, 0, 180.0),
    ],
    "ASP": [*_chain(_CG_ACID), *_carboxylate("OD1", "OD2", ("CA", "CB", "CG"), 2)],
    "ASN": [*_chain(_CG_ACID), *_amide("OD1", "ND2", ("CA", "CB", "CG"), 2)],
    "GLU": [*_chain(_CG_LONG, _CD_ACID), *_carboxylate("OE1", "OE2", ("CB", "CG", "CD"), 3)],
    "GLN": [*_chain(_CG_LONG, _CD_ACID), *_amide("OE1", "NE2", ("CB", "CG", "CD"), 3)],
    "LYS": _chain(_CG_LONG, _CD_LONG, ("CE", "C", 1.520, 111.3), ("NZ", "N", 1.489, 111.9)),
    "ARG": [
        *_chain(_CG_LONG, _CD_LONG, ("NE", "N", 1.460, 112.0), ("CZ", "C", 1.329, 124.2)),
        *_pair(("CD", "NE", "CZ"), 0, ("NH1", "N", 1.326, 120.0), ("NH2", "N", 1.326, 120.0)),
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

_AROMATIC_ROTAMERS: list[tuple[float, ...]] = [
    (-65.0, -85.0),
    (-177.0, 80.0),
    (62.0, 90.0),
    (-65.0, -30.0),
]

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
    "PHE": _AROMATIC_ROTAMERS,
    "TYR": _AROMATIC_ROTAMERS,
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
