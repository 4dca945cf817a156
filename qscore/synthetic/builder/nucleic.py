"""Single-stranded A-form RNA or DNA from ideal geometry.

The sugar-phosphate backbone is grown with NeRF from A-form dihedrals (alpha ... zeta, C3'-endo
sugar pucker); repeating the same internal coordinates for every nucleotide makes the strand a
regular helix (about 2.8 Å rise and 33° twist per nucleotide, 11 per turn) with stacked bases.
Bases are planar rings built from regular polygons and attached at C1' with an anti glycosidic
torsion. The result is plausible (bonded atoms 1.2–1.6 Å, no clashes), not crystallographic.
"""

from __future__ import annotations

import numpy as np

from qscore.synthetic.builder.geometry import outward, place, polygon, superpose

__all__ = ["BASE_ATOMS", "nucleic_bonds", "nucleotide_strand"]

#: A-form backbone dihedrals (degrees), tuned within 2° so that rise = 2.8 Å and twist = 32.7°.
ALPHA, BETA, GAMMA, DELTA, EPSILON, ZETA = -68.7, 177.5, 53.2, 82.0, -154.6, -72.8
CHI = -160.0
#: C3'-endo ring dihedrals nu4 (C3'-C4'-O4'-C1') and nu0 (C4'-O4'-C1'-C2').
NU4, NU0 = 22.0, 2.0

_PURINE = {"A", "G", "DA", "DG"}
#: Exocyclic atoms per base: (name, element, ring atom it hangs on, bond length).
_EXOCYCLIC = {
    "A": [("N6", "N", "C6", 1.34)],
    "G": [("O6", "O", "C6", 1.23), ("N2", "N", "C2", 1.34)],
    "C": [("O2", "O", "C2", 1.24), ("N4", "N", "C4", 1.33)],
    "U": [("O2", "O", "C2", 1.22), ("O4", "O", "C4", 1.23)],
    "T": [("O2", "O", "C2", 1.22), ("O4", "O", "C4", 1.23), ("C7", "C", "C5", 1.50)],
}
_HEXAGON = ["N1", "C2", "N3", "C4", "C5", "C6"]
_PENTAGON_EXTRA = ["N7", "C8", "N9"]

BASE_ATOMS = {
    base: (_HEXAGON + _PENTAGON_EXTRA if base in "AG" else _HEXAGON)
    + [e[0] for e in _EXOCYCLIC[base]]
    for base in "AGCUT"
}


def _base_template(base: str) -> dict[str, np.ndarray]:
    """Planar base coordinates in a local frame, including the glycosidic partner 'C1*'."""
    ring = polygon(6, 1.37)
    pos = dict(zip(_HEXAGON, ring, strict=True))
    centre6 = ring.mean(axis=0)
    if base in "AG":
        c4, c5 = pos["C4"], pos["C5"]
        mid = 0.5 * (c4 + c5)
        away = mid - centre6
        away /= np.linalg.norm(away)
        apothem = 1.37 / (2.0 * np.tan(np.pi / 5))
        centre5 = mid + apothem * away
        step = 2.0 * np.pi / 5
        rel = c5 - centre5
        for sign in (1.0, -1.0):
            rot = np.array(
                [
                    [np.cos(sign * step), -np.sin(sign * step), 0.0],
                    [np.sin(sign * step), np.cos(sign * step), 0.0],
                    [0.0, 0.0, 1.0],
                ]
            )
            if np.linalg.norm(centre5 + rot @ rel - c4) > 0.5:
                break
        pts = [centre5 + np.linalg.matrix_power(rot, k) @ rel for k in (1, 2, 3)]
        pos.update(zip(_PENTAGON_EXTRA, pts, strict=True))
        pos["C1*"] = outward(centre5, pos["N9"], 1.47)
    else:
        pos["C1*"] = outward(centre6, pos["N1"], 1.47)
    for name, _, parent, bond in _EXOCYCLIC[base]:
        pos[name] = outward(centre6, pos[parent], bond)
    return pos


def _sp3_pair(center, n1, n2) -> tuple[np.ndarray, np.ndarray]:
    """The two tetrahedral substituent directions of ``center`` bonded to n1 and n2."""
    b1 = (n1 - center) / np.linalg.norm(n1 - center)
    b2 = (n2 - center) / np.linalg.norm(n2 - center)
    u = -(b1 + b2)
    u /= np.linalg.norm(u)
    w = np.cross(b1, b2)
    w /= np.linalg.norm(w)
    half = np.radians(54.75)
    return u * np.cos(half) + w * np.sin(half), u * np.cos(half) - w * np.sin(half)


def _element(name: str) -> str:
    return "P" if name == "P" else name[0]


def nucleotide_strand(sequence: str, *, dna: bool = False) -> list[tuple[str, list]]:
    """Residues (resname, [(name, element, xyz), ...]) of one A-form strand, 5'→3'.

    ``sequence`` uses A, C, G, U (RNA) or A, C, G, T (DNA); DNA residues are named DA, DC ...
    and have no O2'. The first nucleotide keeps its 5' phosphate.
    """
    seq = sequence.upper()
    if set(seq) - set("ACGUT"):
        raise ValueError("nucleic-acid sequences use the letters A, C, G, U and T")
    o3_prev = np.array([-1.0, 1.2, 0.4])
    c3_prev = np.array([-1.9, 2.3, 0.0])
    p = np.zeros(3)
    residues = []
    c4_prev = np.array([-3.2, 2.0, 0.6])
    pos: dict[str, np.ndarray] = {}
    for k, base in enumerate(seq):
        if k:
            c4_prev, c3_prev, o3_prev = pos["C4'"], pos["C3'"], pos["O3'"]
            p = np.array(place(c4_prev, c3_prev, o3_prev, 1.607, 119.7, EPSILON))
        o5 = np.array(place(c3_prev, o3_prev, p, 1.593, 104.0, ZETA))
        pos = {"P": p, "O5'": o5}
        pos["OP1"] = np.array(place(c3_prev, o3_prev, p, 1.485, 108.0, 120.0 + ZETA))
        pos["OP2"] = np.array(place(c3_prev, o3_prev, p, 1.485, 108.0, -120.0 + ZETA))
        pos["C5'"] = np.array(place(o3_prev, p, o5, 1.440, 120.9, ALPHA))
        pos["C4'"] = np.array(place(p, o5, pos["C5'"], 1.510, 110.2, BETA))
        pos["C3'"] = np.array(place(o5, pos["C5'"], pos["C4'"], 1.524, 115.5, GAMMA))
        pos["O3'"] = np.array(place(pos["C5'"], pos["C4'"], pos["C3'"], 1.423, 110.5, DELTA))
        pos["O4'"] = np.array(place(o5, pos["C5'"], pos["C4'"], 1.451, 109.4, GAMMA - 120.0))
        pos["C1'"] = np.array(place(pos["C3'"], pos["C4'"], pos["O4'"], 1.414, 109.7, NU4))
        pos["C2'"] = np.array(place(pos["C4'"], pos["O4'"], pos["C1'"], 1.528, 106.4, NU0))
        normal = _ring_normal(pos)
        up = np.sign(np.dot(pos["C5'"] - pos["C4'"], normal))
        if not dna:
            d1, d2 = _sp3_pair(pos["C2'"], pos["C1'"], pos["C3'"])
            down = d1 if np.dot(d1, normal) * up < 0 else d2
            pos["O2'"] = pos["C2'"] + 1.413 * down
        d1, d2 = _sp3_pair(pos["C1'"], pos["O4'"], pos["C2'"])
        n_dir = d1 if np.dot(d1, normal) * up > 0 else d2
        letter = base
        glyco = "N9" if letter in "AG" else "N1"
        ring_next, ring_other = ("C4", "C8") if letter in "AG" else ("C2", "C6")
        n_glyco = pos["C1'"] + 1.47 * n_dir
        angle = 126.0 if letter in "AG" else 120.0
        a = np.array(place(pos["O4'"], pos["C1'"], n_glyco, 1.37, angle, CHI))
        b = np.array(place(pos["O4'"], pos["C1'"], n_glyco, 1.37, angle, CHI + 180.0))
        tmpl = _base_template(letter)
        names = [glyco, ring_next, ring_other, "C1*"]
        rot, shift = superpose(
            np.array([tmpl[n] for n in names]), np.array([n_glyco, a, b, pos["C1'"]])
        )
        base_pos = {n: tmpl[n] @ rot.T + shift for n in BASE_ATOMS[letter]}
        order = ["P", "OP1", "OP2", "O5'", "C5'", "C4'", "O4'", "C3'", "O3'", "C2'"]
        order += ([] if dna else ["O2'"]) + ["C1'"]
        atoms = [(n, _element(n), pos[n]) for n in order]
        atoms += [(n, _element(n), base_pos[n]) for n in BASE_ATOMS[letter]]
        resname = ("D" + letter) if dna else letter
        residues.append((resname, atoms))
    return residues


def _ring_normal(pos: dict[str, np.ndarray]) -> np.ndarray:
    """Unit normal of the furanose ring's mean plane."""
    ring = np.array([pos[n] for n in ("C1'", "C2'", "C3'", "C4'", "O4'")])
    centred = ring - ring.mean(axis=0)
    return np.linalg.svd(centred)[2][-1]


def nucleic_bonds(resname: str) -> list[tuple[str, str]]:
    """Intra-nucleotide heavy-atom bonds (the O3'-P link to the next residue is separate)."""
    base = resname[-1]
    bonds = [
        ("P", "OP1"),
        ("P", "OP2"),
        ("P", "O5'"),
        ("O5'", "C5'"),
        ("C5'", "C4'"),
        ("C4'", "O4'"),
        ("C4'", "C3'"),
        ("C3'", "O3'"),
        ("C3'", "C2'"),
        ("C2'", "C1'"),
        ("C1'", "O4'"),
        ("C2'", "O2'"),
        ("C1'", "N9" if base in "AG" else "N1"),
    ]
    ring = _HEXAGON + [_HEXAGON[0]]
    bonds += list(zip(ring[:-1], ring[1:], strict=True))
    if base in "AG":
        bonds += [("C5", "N7"), ("N7", "C8"), ("C8", "N9"), ("N9", "C4")]
    bonds += [(parent, name) for name, _, parent, _ in _EXOCYCLIC[base]]
    return bonds
