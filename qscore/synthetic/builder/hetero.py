"""Non-protein parts of synthetic models: a ligand, a glycan, a nucleic-acid strand, waters, ions.

Each is generated from ideal geometry written here (planar aromatic rings from regular
hexagons, pyranose chairs with axial/equatorial substituents) and then placed next to the
protein by a seeded search that keeps every atom clear of the atoms already present.
"""

from __future__ import annotations

import gemmi
import numpy as np
from scipy.spatial import cKDTree
from scipy.spatial.transform import Rotation

from qscore.synthetic.builder.geometry import outward, place, polygon, rotation_about, superpose
from qscore.synthetic.builder.nucleic import _sp3_pair, nucleotide_strand
from qscore.synthetic.builder.protein import AtomSpec, add_residue, all_heavy_xyz

__all__ = [
    "GLYCAN_BONDS",
    "LIGAND_BONDS",
    "add_glycan",
    "add_ions",
    "add_ligand",
    "add_nucleic",
    "add_waters",
    "flip_ligand",
    "ligand_atoms",
]

# ---------------------------------------------------------------------------------------------
# Ligand: a substituted aza-naphthalene (19 heavy atoms, C/N/O), planar.

LIGAND_BONDS = [
    ("C1", "C2"),
    ("C2", "C3"),
    ("C3", "C4"),
    ("C4", "C5"),
    ("C5", "C6"),
    ("C6", "C1"),
    ("C4", "C7"),
    ("C7", "C8"),
    ("C8", "C9"),
    ("C9", "N1"),
    ("N1", "C3"),
    ("C1", "O1"),
    ("C2", "C10"),
    ("C5", "C11"),
    ("C11", "O2"),
    ("C11", "N2"),
    ("C8", "N3"),
    ("C9", "C12"),
    ("C12", "C13"),
    ("C13", "O3"),
]


def ligand_atoms() -> list[AtomSpec]:
    """The ligand in its own frame: two fused six-membered rings with five substituents."""
    ring_a = polygon(6, 1.39)
    a = {f"C{k + 1}": ring_a[k] for k in range(6)}
    # ring B is ring A mirrored across the shared C3-C4 edge
    c3, c4 = a["C3"], a["C4"]
    edge = (c4 - c3) / np.linalg.norm(c4 - c3)

    def mirror(p):
        v = p - c3
        para = np.dot(v, edge) * edge
        return c3 + 2.0 * para - v

    pos = dict(a)
    pos["C7"] = mirror(a["C5"])
    pos["C8"] = mirror(a["C6"])
    pos["C9"] = mirror(a["C1"])
    pos["N1"] = mirror(a["C2"])
    centre_a = ring_a.mean(axis=0)
    centre_b = np.mean([pos[n] for n in ("C3", "C4", "C7", "C8", "C9", "N1")], axis=0)
    pos["O1"] = outward(centre_a, pos["C1"], 1.36)
    pos["C10"] = outward(centre_a, pos["C2"], 1.50)
    pos["C11"] = outward(centre_a, pos["C5"], 1.50)
    pos["O2"] = np.array(place(pos["C4"], pos["C5"], pos["C11"], 1.23, 121.0, 180.0))
    pos["N2"] = np.array(place(pos["C4"], pos["C5"], pos["C11"], 1.33, 116.0, 0.0))
    pos["N3"] = outward(centre_b, pos["C8"], 1.38)
    pos["C12"] = outward(centre_b, pos["C9"], 1.51)
    pos["C13"] = np.array(place(pos["C8"], pos["C9"], pos["C12"], 1.52, 112.0, 180.0))
    pos["O3"] = np.array(place(pos["C9"], pos["C12"], pos["C13"], 1.43, 110.0, 180.0))
    order = [
        "C1",
        "C2",
        "C3",
        "C4",
        "C5",
        "C6",
        "C7",
        "C8",
        "C9",
        "N1",
        "O1",
        "C10",
        "C11",
        "O2",
        "N2",
        "N3",
        "C12",
        "C13",
        "O3",
    ]
    return [(n, n[0], np.asarray(pos[n], dtype=float)) for n in order]


def flip_ligand(atoms: list[AtomSpec]) -> list[AtomSpec]:
    """The same ligand turned 180° about its long axis: the rings overlap, substituents swap sides."""
    xyz = np.array([x for _, _, x in atoms])
    ring = xyz[:10]
    centre = ring.mean(axis=0)
    axis = np.linalg.svd(ring - centre)[2][0]
    rot = rotation_about(axis, 180.0)
    return [(n, e, (x - centre) @ rot.T + centre) for (n, e, _), x in zip(atoms, xyz, strict=True)]


def _dock(
    points: np.ndarray,
    env: np.ndarray,
    rng: np.random.Generator,
    *,
    centres: np.ndarray,
    trials: int,
    min_gap: float,
    contact: float,
) -> np.ndarray:
    """Best rigid placement of ``points`` near ``env``: most contacts with every atom ≥ min_gap."""
    tree = cKDTree(env)
    own = points - points.mean(axis=0)
    best, best_score = None, -np.inf
    rotations = Rotation.random(trials, random_state=rng.integers(2**31)).as_matrix()
    for k in range(trials):
        moved = own @ rotations[k].T + centres[k % len(centres)]
        gap = tree.query(moved)[0].min()
        if gap < min_gap:
            continue
        score = sum(len(x) for x in tree.query_ball_point(moved, contact)) + gap
        if score > best_score:
            best, best_score = moved, score
    if best is None:
        raise RuntimeError("no clash-free placement found next to the model")
    return best


def _pocket_centres(env: np.ndarray, rng: np.random.Generator, n: int) -> np.ndarray:
    """Grid points 4–7.5 Å from the nearest atom with the most atoms within 10 Å (clefts)."""
    lo, hi = env.min(axis=0), env.max(axis=0)
    axes = [np.arange(lo[k], hi[k], 1.5) for k in range(3)]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
    tree = cKDTree(env)
    d = tree.query(grid)[0]
    grid = grid[(d > 4.0) & (d < 7.5)]
    buried = np.array([len(x) for x in tree.query_ball_point(grid, 10.0)])
    top = grid[np.argsort(-buried, kind="stable")[: max(n, 1)]]
    return top[rng.permutation(len(top))]


def add_ligand(
    st: gemmi.Structure, *, chain_id: str = "L", resseq: int = 1, seed: int = 0, b_iso: float = 30.0
) -> gemmi.Structure:
    """Dock the ligand (HETATM ``LIG``) into the most buried clash-free cleft (≥ 3.2 Å away)."""
    rng = np.random.default_rng(seed)
    env = all_heavy_xyz(st)
    atoms = ligand_atoms()
    pts = np.array([x for _, _, x in atoms])
    centres = _pocket_centres(env, rng, 200)
    placed = _dock(pts, env, rng, centres=centres, trials=2000, min_gap=3.2, contact=4.5)
    chain = gemmi.Chain(chain_id)
    new = [(n, e, x) for (n, e, _), x in zip(atoms, placed, strict=True)]
    add_residue(chain, "LIG", resseq, new, het=True, b_iso=b_iso)
    st[0].add_chain(chain)
    return st


# ---------------------------------------------------------------------------------------------
# Glycans: pyranose chairs (4C1) built from a puckered hexagon.

_RING = ["C1", "C2", "C3", "C4", "C5", "O5"]
#: Substituents per sugar: (name, element, ring atom, axial?, bond).
_SUGAR_SUBSTITUENTS = {
    "NAG": [("O1", "O", "C1", False, 1.43), ("N2", "N", "C2", False, 1.46)],
    "BMA": [("O1", "O", "C1", False, 1.43), ("O2", "O", "C2", True, 1.43)],
    "MAN": [("O1", "O", "C1", True, 1.43), ("O2", "O", "C2", True, 1.43)],
}
_COMMON_SUBSTITUENTS = [
    ("O3", "O", "C3", False, 1.43),
    ("O4", "O", "C4", False, 1.43),
    ("C6", "C", "C5", False, 1.52),
]

GLYCAN_BONDS = {
    name: list(zip(_RING, _RING[1:] + _RING[:1], strict=True))
    + [(parent, sub) for sub, _, parent, _, _ in _SUGAR_SUBSTITUENTS[name] if sub != "O1"]
    + [(parent, sub) for sub, _, parent, _, _ in _COMMON_SUBSTITUENTS]
    + [("C6", "O6")]
    + ([("N2", "C7"), ("C7", "O7"), ("C7", "C8")] if name == "NAG" else [])
    for name in _SUGAR_SUBSTITUENTS
}


def _pyranose(name: str) -> dict[str, np.ndarray]:
    """One sugar in its own frame (D-sugar, 4C1 chair), including the anomeric O1."""
    angles = np.radians([0.0, -60.0, -120.0, 180.0, 120.0, 60.0])
    radius = 1.414
    zs = [-0.25, 0.25, -0.25, 0.25, -0.25, 0.25]
    pos = {
        n: np.array([radius * np.cos(a), radius * np.sin(a), z])
        for n, a, z in zip(_RING, angles, zs, strict=True)
    }
    for sub, _, parent, axial, bond in _SUGAR_SUBSTITUENTS[name] + _COMMON_SUBSTITUENTS:
        k = _RING.index(parent)
        d1, d2 = _sp3_pair(pos[parent], pos[_RING[k - 1]], pos[_RING[(k + 1) % 6]])
        ax, eq = (d1, d2) if abs(d1[2]) > abs(d2[2]) else (d2, d1)
        pos[sub] = pos[parent] + bond * (ax if axial else eq)
    pos["O6"] = np.array(place(pos["C4"], pos["C5"], pos["C6"], 1.43, 111.0, 60.0))
    if name == "NAG":
        pos["C7"] = np.array(place(pos["C1"], pos["C2"], pos["N2"], 1.34, 123.0, -100.0))
        pos["O7"] = np.array(place(pos["C2"], pos["N2"], pos["C7"], 1.23, 122.0, 0.0))
        pos["C8"] = np.array(place(pos["C2"], pos["N2"], pos["C7"], 1.50, 116.0, 180.0))
    return pos


def _sugar_order(name: str) -> list[str]:
    extra = ["N2", "C7", "O7", "C8"] if name == "NAG" else ["O2"]
    return _RING[:5] + ["C6", "O3", "O4", "O5", "O6"] + extra


def _attach_sugar(name, x, y, z, env_tree, angle: float) -> dict[str, np.ndarray]:
    """Place sugar ``name`` with its C1 bonded to acceptor x (parent y, grandparent z).

    The two glycosidic torsions are scanned in 30° steps for the placement farthest from
    every other atom.
    """
    tmpl = _pyranose(name)
    best, best_gap = None, -np.inf
    for psi in np.arange(-180.0, 180.0, 30.0):
        c1 = np.array(place(z, y, x, 1.44, angle, psi))
        for phi in np.arange(-180.0, 180.0, 30.0):
            bond = float(np.linalg.norm(tmpl["O5"] - tmpl["C1"]))
            o5: np.ndarray = np.array(place(y, x, c1, bond, 109.0, float(phi)))
            rot, shift = superpose(
                np.array([tmpl["O1"], tmpl["C1"], tmpl["O5"]]), np.array([x, c1, o5])
            )
            pts = {n: tmpl[n] @ rot.T + shift for n in _sugar_order(name)}
            arr = np.array(list(pts.values()))
            gap = env_tree.query(arr[1:])[0].min() if env_tree.n else np.inf
            gap = min(gap, np.linalg.norm(arr[1:] - y, axis=1).min() + 0.6)
            if gap > best_gap:
                best, best_gap = pts, gap
    assert best is not None
    return best


def add_glycan(
    st: gemmi.Structure,
    asn: tuple[str, int],
    *,
    chain_id: str = "G",
    first_resseq: int = 1,
    b_iso: float = 30.0,
) -> gemmi.Structure:
    """Attach a NAG-NAG-BMA(-MAN)(-MAN) N-glycan to ND2 of the asparagine ``(chain, resseq)``."""
    res = st[0][asn[0]][str(asn[1])][0]
    if res.name != "ASN":
        raise ValueError(f"residue {asn} is {res.name}, not ASN")
    tree_parts: list[tuple[str, int, str]] = [
        ("NAG", -1, "ND2"),
        ("NAG", 0, "O4"),
        ("BMA", 1, "O4"),
        ("MAN", 2, "O3"),
        ("MAN", 2, "O6"),
    ]
    placed: list[dict[str, np.ndarray]] = []
    parents = {"ND2": ("CG", "CB"), "O4": ("C4", "C3"), "O3": ("C3", "C2"), "O6": ("C6", "C5")}
    env = all_heavy_xyz(st)
    for name, parent, acceptor in tree_parts:
        get = {a.name: np.array(a.pos.tolist()) for a in res} if parent < 0 else placed[parent]
        y_name, z_name = parents[acceptor]
        x, y, z = get[acceptor], get[y_name], get[z_name]
        others = [env] + [np.array(list(p.values())) for p in placed]
        pool = np.concatenate(others)
        keep = np.linalg.norm(pool - x, axis=1) > 0.1
        keep &= np.linalg.norm(pool - y, axis=1) > 0.1
        tree = cKDTree(pool[keep])
        placed.append(_attach_sugar(name, x, y, z, tree, 123.0 if acceptor == "ND2" else 117.0))
    chain = gemmi.Chain(chain_id)
    for k, ((name, _, _), pts) in enumerate(zip(tree_parts, placed, strict=True)):
        atoms = [(n, n[0], pts[n]) for n in _sugar_order(name)]
        add_residue(chain, name, first_resseq + k, atoms, het=True, b_iso=b_iso)
    st[0].add_chain(chain)
    return st


# ---------------------------------------------------------------------------------------------
# Nucleic acid, waters and ions.


def add_nucleic(
    st: gemmi.Structure,
    sequence: str,
    *,
    chain_id: str = "N",
    dna: bool = False,
    seed: int = 0,
    b_iso: float = 30.0,
) -> gemmi.Structure:
    """Build an A-form strand and lay it against the protein surface without clashes."""
    rng = np.random.default_rng(seed)
    residues = nucleotide_strand(sequence, dna=dna)
    pts = np.array([x for _, atoms in residues for _, _, x in atoms])
    env = all_heavy_xyz(st)
    centre = env.mean(axis=0)
    radius = np.percentile(np.linalg.norm(env - centre, axis=1), 90)
    dirs = rng.normal(size=(400, 3))
    dirs /= np.linalg.norm(dirs, axis=1)[:, None]
    centres = centre + (radius + 6.0) * dirs
    placed = _dock(pts, env, rng, centres=centres, trials=1200, min_gap=3.4, contact=7.0)
    chain = gemmi.Chain(chain_id)
    k = 0
    for i, (resname, atoms) in enumerate(residues):
        new = []
        for name, element, _ in atoms:
            new.append((name, element, placed[k]))
            k += 1
        add_residue(chain, resname, i + 1, new, b_iso=b_iso)
    st[0].add_chain(chain)
    return st


def _surface_sites(
    env: np.ndarray,
    anchors: np.ndarray,
    rng: np.random.Generator,
    n: int,
    distance: float,
    min_gap: float,
    taken: np.ndarray,
) -> list[np.ndarray]:
    """Up to n points at ``distance`` from an anchor atom and ≥ min_gap from everything else."""
    tree = cKDTree(env)
    sites: list[np.ndarray] = []
    order = rng.permutation(len(anchors))
    for k in order:
        for _ in range(12):
            d = rng.normal(size=3)
            p = anchors[k] + distance * d / np.linalg.norm(d)
            dist, idx = tree.query(p, k=2)
            if dist[0] < distance - 0.01 or dist[1] < min_gap:
                continue
            pool = list(taken) + sites
            if pool and np.linalg.norm(np.array(pool) - p, axis=1).min() < 2.8:
                continue
            sites.append(p)
            break
        if len(sites) >= n:
            break
    return sites


def _polar_atoms(st: gemmi.Structure, names: set[str] | None = None) -> np.ndarray:
    pts = [
        a.pos.tolist()
        for ch in st[0]
        for r in ch
        for a in r
        if a.element.name in ("N", "O") and (names is None or a.name in names)
    ]
    return np.array(pts, dtype=float).reshape(-1, 3)


def add_waters(
    st: gemmi.Structure, n: int, *, chain_id: str = "W", seed: int = 0, b_iso: float = 35.0
) -> gemmi.Structure:
    """Add n waters (HOH), each 2.8 Å from a polar atom and ≥ 3.0 Å from all others."""
    rng = np.random.default_rng(seed)
    env = all_heavy_xyz(st)
    sites = _surface_sites(env, _polar_atoms(st), rng, n, 2.8, 3.0, np.empty((0, 3)))
    chain = gemmi.Chain(chain_id)
    for k, p in enumerate(sites):
        add_residue(chain, "HOH", k + 1, [("O", "O", p)], het=True, b_iso=b_iso)
    st[0].add_chain(chain)
    return st


def add_ions(
    st: gemmi.Structure,
    ions: tuple[str, ...] = ("MG", "ZN"),
    *,
    chain_id: str = "I",
    seed: int = 0,
    b_iso: float = 30.0,
) -> gemmi.Structure:
    """Add ions at 2.4 Å from side-chain oxygens or nitrogens (carboxylates, histidines)."""
    rng = np.random.default_rng(seed)
    env = all_heavy_xyz(st)
    anchors = _polar_atoms(st, {"OD1", "OD2", "OE1", "OE2", "NE2", "ND1", "SG"})
    sites = _surface_sites(env, anchors, rng, len(ions), 2.4, 2.9, np.empty((0, 3)))
    chain = gemmi.Chain(chain_id)
    for k, (name, p) in enumerate(zip(ions, sites, strict=False)):
        element = name.capitalize()
        add_residue(chain, name, k + 1, [(name, element, p)], het=True, b_iso=b_iso)
    st[0].add_chain(chain)
    return st
