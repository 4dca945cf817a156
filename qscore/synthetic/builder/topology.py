"""Heavy-atom bonds of models made by the builder, from its own residue templates.

Used to check geometry (bonded atoms 1.2–1.9 Å apart, nothing else too close) and to tell
bonded from non-bonded neighbours; it knows only the residue types the builder writes.
"""

from __future__ import annotations

import gemmi
import numpy as np
from scipy.spatial import cKDTree

from qscore.synthetic.builder.hetero import GLYCAN_BONDS, LIGAND_BONDS
from qscore.synthetic.builder.internal_coords import SIDE_CHAINS, residue_bonds
from qscore.synthetic.builder.nucleic import nucleic_bonds

__all__ = ["bonds"]

_NUCLEIC = {"A", "C", "G", "U", "DA", "DC", "DG", "DT"}
#: Inter-residue links: (atom in the earlier residue, atom in the later one, max length).
_LINKS = [("C", "N"), ("O3'", "P")]


def _template(resname: str) -> list[tuple[str, str]]:
    if resname in SIDE_CHAINS:
        return residue_bonds(resname)
    if resname in _NUCLEIC:
        return nucleic_bonds(resname)
    if resname in GLYCAN_BONDS:
        return GLYCAN_BONDS[resname]
    if resname == "LIG":
        return LIGAND_BONDS
    return []


def bonds(st: gemmi.Structure) -> list[tuple[int, int]]:
    """Bonded atom pairs (i < j) as indices into the first model's atoms in file order.

    Intra-residue bonds come from the templates; links are the peptide C-N and the
    phosphodiester O3'-P between consecutive residues of a chain, and every glycosidic C1
    within 1.7 Å of an O or N of another residue.
    """
    index: dict[tuple[int, str], int] = {}
    xyz: list[list[float]] = []
    res_of: list[int] = []
    names: list[str] = []
    residues = [r for ch in st[0] for r in ch]
    for k, r in enumerate(residues):
        for atom in r:
            index[(k, atom.name)] = len(xyz)
            xyz.append(atom.pos.tolist())
            res_of.append(k)
            names.append(atom.name)
    pairs: set[tuple[int, int]] = set()

    def add(i: int, j: int) -> None:
        pairs.add((min(i, j), max(i, j)))

    for k, r in enumerate(residues):
        for a, b in _template(r.name):
            if (k, a) in index and (k, b) in index:
                add(index[(k, a)], index[(k, b)])
    k = 0
    for ch in st[0]:
        for i in range(len(ch) - 1):
            for a, b in _LINKS:
                if (k + i, a) in index and (k + i + 1, b) in index:
                    add(index[(k + i, a)], index[(k + i + 1, b)])
        k += len(ch)
    pts = np.array(xyz, dtype=float).reshape(-1, 3)
    tree = cKDTree(pts)
    for i, name in enumerate(names):
        if name == "C1" and residues[res_of[i]].name in GLYCAN_BONDS:
            for j in tree.query_ball_point(pts[i], 1.7):
                if res_of[j] != res_of[i] and names[j][0] in "ON":
                    add(i, j)
    return sorted(pairs)
