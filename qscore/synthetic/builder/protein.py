"""Atomic models from ideal geometry: proteins from sequence and secondary structure.

Backbones are grown with NeRF from per-residue (phi, psi, omega); helices and strands use fixed
ideal dihedrals, while each loop is chosen from seeded random samples so that the chain folds
back into a compact, clash-free arrangement (and two strands joined by a short turn pair up into
an anti-parallel sheet). Side chains are then added with ideal internal coordinates, taking the
first common rotamer that does not clash. Everything is deterministic for a given seed.

Other molecule kinds (nucleic acids, ligands, glycans, waters, ions) live in
:mod:`qscore.synthetic.builder.hetero`; this module also holds the small gemmi helpers they share.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence

import gemmi
import numpy as np
from scipy.optimize import minimize
from scipy.spatial import cKDTree

from qscore.synthetic.builder import internal_coords as ic
from qscore.synthetic.builder.geometry import place

__all__ = [
    "AtomSpec",
    "add_residue",
    "all_heavy_xyz",
    "build_protein",
    "new_structure",
    "sequence_and_ss",
    "structure_to_mmcif",
]

#: (name, element, xyz) of one atom to be added.
AtomSpec = tuple[str, str, np.ndarray]

#: Ideal (phi, psi) of regular secondary structure.
HELIX = (-62.0, -41.0)
STRAND = (-139.0, 135.0)
#: Loop dihedral basins: alpha-R, beta, poly-Pro II, alpha-L (alpha-L only for Gly/Asn/Asp).
_LOOP_BASINS = [(-65.0, -40.0), (-120.0, 130.0), (-70.0, 145.0), (-90.0, 0.0), (60.0, 40.0)]
_LOOP_WEIGHTS = np.array([0.3, 0.25, 0.3, 0.15, 0.0])
_TURNS = [
    [(60.0, 30.0), (90.0, 0.0)],
    [(60.0, -120.0), (-80.0, 0.0)],
    [(-60.0, -30.0), (-90.0, 0.0)],
]
_LOOP_TRIALS = 160
_CLASH_CA = 5.5
_PAIR_CA = 5.0


def new_structure(name: str = "synthetic") -> gemmi.Structure:
    """An empty single-model structure in a P1 box-less cell, ready for chains."""
    st = gemmi.Structure()
    st.name = name
    st.add_model(gemmi.Model(1))
    return st


def add_residue(
    chain: gemmi.Chain,
    resname: str,
    seqnum: int,
    atoms: Iterable[AtomSpec],
    *,
    het: bool = False,
    b_iso: float = 30.0,
) -> None:
    """Append a residue with the given atoms (``het`` marks HETATM records)."""
    res = gemmi.Residue()
    res.name = resname
    res.seqid = gemmi.SeqId(seqnum, " ")
    res.het_flag = "H" if het else "A"
    for name, element, xyz in atoms:
        atom = gemmi.Atom()
        atom.name = name
        atom.element = gemmi.Element(element)
        atom.pos = gemmi.Position(*map(float, xyz))
        atom.occ = 1.0
        atom.b_iso = b_iso
        res.add_atom(atom)
    chain.add_residue(res)


def all_heavy_xyz(st: gemmi.Structure) -> np.ndarray:
    """Coordinates (n, 3) of every non-hydrogen atom of the first model."""
    pts = [a.pos.tolist() for ch in st[0] for r in ch for a in r if a.element.name != "H"]
    return np.array(pts, dtype=float).reshape(-1, 3)


def _asym_id(k: int) -> str:
    """Label asym ids A, B, ..., Z, AA, BA, ... as in the PDB."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = letters[k % 26]
    k //= 26
    while k:
        out += letters[(k - 1) % 26]
        k = (k - 1) // 26
    return out


def structure_to_mmcif(st: gemmi.Structure, path: str, resolution: float | None = None) -> None:
    """Write ``st`` as mmCIF (coordinates to 0.001 Å, entities and label ids filled in),
    recording ``resolution`` as an EM reconstruction's when given."""
    st = st.clone()
    st.spacegroup_hm = "P 1"
    for ch in st[0]:
        for r in ch:
            for a in r:
                a.pos = gemmi.Position(*(round(v, 3) for v in a.pos.tolist()))
                a.b_iso = round(a.b_iso, 2)
    st.setup_entities()
    for ent in st.entities:
        if ent.entity_type == gemmi.EntityType.Polymer and ent.subchains:
            sub = st[0].get_subchain(ent.subchains[0])
            ent.full_sequence = [r.name for r in sub]
    st.assign_label_seq_id()
    names: dict[str, str] = {}
    for ch in st[0]:
        for r in ch:
            r.subchain = names.setdefault(r.subchain, _asym_id(len(names)))
    for k, ent in enumerate(st.entities):
        ent.name = str(k + 1)
        ent.subchains = [names[s] for s in ent.subchains if s in names]
    doc = st.make_mmcif_document()
    block = doc.sole_block()
    if resolution is not None:
        block.set_mmcif_category(
            "_exptl.", {"entry_id": [st.name], "method": ["ELECTRON MICROSCOPY"]}
        )
        block.set_mmcif_category(
            "_em_3d_reconstruction.",
            {"entry_id": [st.name], "id": ["1"], "resolution": [f"{resolution:.2f}"]},
        )
    doc.write_file(path)


def _residue_atoms(prev, phi_i, psi_prev, omega_prev, psi_i):
    """N, CA, C, O, CB of one residue from the previous residue's N, CA, C and its dihedrals."""
    n = place(prev[0], prev[1], prev[2], ic.C_N, ic.ANG_CA_C_N, psi_prev)
    ca = place(prev[1], prev[2], n, ic.N_CA, ic.ANG_C_N_CA, omega_prev)
    c = place(prev[2], n, ca, ic.CA_C, ic.ANG_N_CA_C, phi_i)
    o = place(n, ca, c, ic.C_O, ic.ANG_CA_C_O, psi_i + 180.0)
    cb = place(c, n, ca, ic.CA_CB, ic.ANG_N_CA_CB, ic.TOR_C_N_CA_CB)
    return (n, ca, c, o, cb)


def _reoriented_o(residue, psi: float):
    """The residue's N, CA, C, O, CB with O placed again for a new psi."""
    n, ca, c, _, cb = residue
    return (n, ca, c, place(n, ca, c, ic.C_O, ic.ANG_CA_C_O, psi + 180.0), cb)


def _first_residue(psi0: float):
    """The first residue in a fixed frame: N at the origin, CA along x."""
    n = (0.0, 0.0, 0.0)
    ca = (ic.N_CA, 0.0, 0.0)
    ang = math.radians(180.0 - ic.ANG_N_CA_C)
    c = (ca[0] + ic.CA_C * math.cos(ang), ic.CA_C * math.sin(ang), 0.0)
    o = place(n, ca, c, ic.C_O, ic.ANG_CA_C_O, psi0 + 180.0)
    cb = place(c, n, ca, ic.CA_CB, ic.ANG_N_CA_CB, ic.TOR_C_N_CA_CB)
    return (n, ca, c, o, cb)


def _extend(atoms: list, phi, psi, omega, start: int, stop: int) -> list:
    """Residues start..stop-1 (N, CA, C, O, CB each) grown after ``atoms[start - 1]``."""
    out = []
    prev = atoms[start - 1]
    for i in range(start, stop):
        prev = _residue_atoms(prev, phi[i], psi[i - 1], omega[i - 1], psi[i])
        out.append(prev)
    return out


def _segments(ss: str) -> list[tuple[str, int, int]]:
    """Runs of equal secondary-structure letters as (letter, start, stop)."""
    runs = []
    start = 0
    for i in range(1, len(ss) + 1):
        if i == len(ss) or ss[i] != ss[start]:
            runs.append((ss[start], start, i))
            start = i
    return runs


def _loop_sample(
    rng: np.random.Generator, seq: str, start: int, stop: int, hairpin: bool
) -> list[tuple[float, float]]:
    """Random (phi, psi) for loop residues start..stop-1."""
    n = stop - start
    if hairpin and n == 2:
        base = _TURNS[rng.integers(len(_TURNS))]
        return [(p + rng.normal(0, 15), s + rng.normal(0, 15)) for p, s in base]
    out = []
    for i in range(start, stop):
        weights = _LOOP_WEIGHTS.copy()
        if seq[i] in "GND":
            weights[-1] = 0.25
        k = rng.choice(len(_LOOP_BASINS), p=weights / weights.sum())
        p, s = _LOOP_BASINS[k]
        out.append((p + rng.normal(0, 12), s + rng.normal(0, 12)))
    return out


class _Fold:
    """Backbone state while loops are chosen one after another."""

    def __init__(self, seq: str, ss: str, rng: np.random.Generator):
        n = len(seq)
        self.seq, self.rng = seq, rng
        self.phi = np.zeros(n)
        self.psi = np.zeros(n)
        self.omega = np.full(n, 180.0)
        for i, s in enumerate(ss):
            self.phi[i], self.psi[i] = {"H": HELIX, "E": STRAND}.get(s, (-70.0, 145.0))
            if seq[i] == "P":
                self.phi[i] = -65.0
        self.has_cb = np.array([aa != "G" for aa in seq])
        self.paired: set[tuple[int, int]] = set()
        self.clash_free = -np.inf
        self._hairpins: set[int] = set()

    def _blocks(self, runs) -> list[tuple[int, int]]:
        """Loops to search, as (start, stop); hairpin turns are shaped up front instead."""
        loops = []
        for k, (letter, start, stop) in enumerate(runs):
            if letter != "L" or k == 0:
                continue
            hairpin = k < len(runs) - 1 and runs[k - 1][0] == runs[k + 1][0] == "E"
            if hairpin and stop - start <= 4:
                self._shape_hairpin(runs, k)
            else:
                loops.append((start, stop))
        return loops

    def _shape_hairpin(self, runs, k: int) -> None:
        """Fit the turn (and its flanking dihedrals) so that the two strands pair up."""
        pairs = _hairpin_pairs(runs, k)
        _, first, _ = runs[k - 1]
        while first > 0 and runs[k - 1][1] == first and k >= 3 and runs[k - 2][0] == "L":
            break
        sheet_start = first
        j = k - 1
        while (
            j >= 2 and runs[j - 1][0] == "L" and runs[j - 2][0] == "E" and (j - 1) in self._hairpins
        ):
            sheet_start = runs[j - 2][1]
            j -= 2
        self._hairpins.add(k)
        _, start, stop = runs[k]
        end = runs[k + 1][2]
        idx = [start - 1] + list(range(start, stop)) + [stop]
        allowed = self.paired | set(pairs)
        ii, jj = np.triu_indices(end - sheet_start, k=4)
        limit = np.full(len(ii), _CLASH_CA)
        for q, (i, j) in enumerate(zip(ii + sheet_start, jj + sheet_start, strict=True)):
            for a, b in allowed:
                if min((i - a) ** 2 + (j - b) ** 2, (i - b) ** 2 + (j - a) ** 2) <= 2:
                    limit[q] = 4.2
                    break

        def build(x):
            phi, psi = self.phi.copy(), self.psi.copy()
            psi[idx[0]] = x[0]
            for m, i in enumerate(idx[1:-1]):
                phi[i], psi[i] = x[1 + 2 * m], x[2 + 2 * m]
            phi[idx[-1]] = x[-1]
            return phi, psi

        def cost(x, phase):
            phi, psi = build(x)
            atoms = [_first_residue(psi[sheet_start])]
            shifted_phi, shifted_psi = phi[sheet_start:end], psi[sheet_start:end]
            atoms += _extend(
                atoms, shifted_phi, shifted_psi, self.omega[sheet_start:end], 1, end - sheet_start
            )
            bb = np.array(atoms)
            ca = bb[:, 1]
            c = 0.0
            for m, (a, b) in enumerate(pairs):
                a, b = a - sheet_start, b - sheet_start
                if (m + phase) % 2 == 0:
                    c += (np.linalg.norm(ca[a] - ca[b]) - 5.5) ** 2
                    c += (np.linalg.norm(bb[a, 0] - bb[b, 3]) - 2.9) ** 2
                    c += (np.linalg.norm(bb[a, 3] - bb[b, 0]) - 2.9) ** 2
                else:
                    c += (np.linalg.norm(ca[a] - ca[b]) - 4.5) ** 2
            d = np.linalg.norm(ca[:, None] - ca[None, :], axis=2)
            c += 10.0 * float(np.sum(np.clip(limit - d[ii, jj], 0.0, None) ** 2))
            heavy = bb[:, :4].reshape(-1, 3)
            close = cKDTree(heavy).query_pairs(3.0, output_type="ndarray")
            if len(close):
                far = np.abs(close[:, 0] // 4 - close[:, 1] // 4) >= 2
                gaps = np.linalg.norm(heavy[close[far, 0]] - heavy[close[far, 1]], axis=1)
                c += 10.0 * float(np.sum((3.0 - gaps) ** 2))
            return c

        starts = []
        n_loop = stop - start
        if n_loop == 2:
            starts = [[STRAND[1], *t[0], *t[1], STRAND[0]] for t in _TURNS]
        for _ in range(max(0, 3 - len(starts))):
            sample = _loop_sample(self.rng, self.seq, start, stop, False)
            starts.append([STRAND[1], *[v for ps in sample for v in ps], STRAND[0]])
        best = None
        for x0, phase in itertools.product(starts, (0, 1)):
            res = minimize(
                cost,
                x0,
                args=(phase,),
                method="Nelder-Mead",
                options={"maxiter": 600, "xatol": 0.5, "fatol": 1e-3},
            )
            if best is None or res.fun < best.fun:
                best = res
        assert best is not None
        self.phi, self.psi = build(best.x)
        self.paired.update(pairs)

    def _proline_cd(self, old: np.ndarray, new: np.ndarray, start: int):
        """Approximate CD of each proline (it sits on N, cis to the previous CA)."""
        both = np.concatenate([old, new])
        pts, res = [], []
        for i in range(max(start, 1), start + len(new)):
            if self.seq[i] == "P":
                prev, cur = both[i - 1], both[i]
                pts.append(place(prev[1], prev[2], cur[0], 1.47, 125.0, 0.0))
                res.append(i)
        for i in self._prolines_before(start):
            prev, cur = both[i - 1], both[i]
            pts.append(place(prev[1], prev[2], cur[0], 1.47, 125.0, 0.0))
            res.append(i)
        if not pts:
            return [], []
        return [np.array(pts)], [np.array(res)]

    def _prolines_before(self, start: int) -> list[int]:
        return [i for i in range(1, start) if self.seq[i] == "P"]

    def cost(self, old: np.ndarray, new: np.ndarray, start: int) -> float:
        """Clash + compactness cost of the new residues (from ``start``) against the old ones."""
        n_old, n_new = len(old), len(new)
        oa = old.reshape(-1, 3)
        na = new.reshape(-1, 3)
        ires_o = np.repeat(np.arange(n_old), 5)
        ires_n = np.repeat(np.arange(start, start + n_new), 5)
        keep_o = np.tile([True] * 4 + [False], n_old) | np.repeat(self.has_cb[:n_old], 5)
        keep_n = np.tile([True] * 4 + [False], n_new) | np.repeat(
            self.has_cb[start : start + n_new], 5
        )
        cd_xyz, cd_res = self._proline_cd(old, new, start)
        allx = np.concatenate([oa[keep_o], na[keep_n], *cd_xyz])
        allr = np.concatenate([ires_o[keep_o], ires_n[keep_n], *cd_res])
        tree = cKDTree(allx)
        pairs_close = tree.query_pairs(2.9, output_type="ndarray")
        cost = 0.0
        if len(pairs_close):
            ri, rj = allr[pairs_close[:, 0]], allr[pairs_close[:, 1]]
            sel = (np.abs(ri - rj) >= 2) & ((ri >= start) | (rj >= start))
            if sel.any():
                d = np.linalg.norm(allx[pairs_close[sel, 0]] - allx[pairs_close[sel, 1]], axis=1)
                cost += 50.0 * float(np.sum((2.9 - d) ** 2))
        ca_all = np.concatenate([old[:, 1], new[:, 1]])
        ca_new = new[:, 1]
        d = np.linalg.norm(ca_new[:, None, :] - ca_all[None, :, :], axis=2)
        idx_new = np.arange(start, start + n_new)[:, None]
        idx_all = np.arange(len(ca_all))[None, :]
        limit = np.full(d.shape, _CLASH_CA)
        for i, j in self.paired:
            for a, b in ((i, j), (j, i)):
                if start <= a < start + n_new:
                    limit[a - start, max(b - 1, 0) : b + 2] = 4.2
        viol = np.clip(limit - d, 0.0, None)
        viol[(idx_all >= idx_new) | (idx_new - idx_all < 4)] = 0.0
        cost += 50.0 * float(np.sum(viol**2))
        compact = float(np.linalg.norm(ca_new.mean(axis=0) - old[:, 1].mean(axis=0)))
        self.clash_free = compact + 1e-9 if cost == 0.0 else -np.inf
        return cost + compact

    def run(self, ss: str) -> np.ndarray:
        """Choose every loop and return (n, 5, 3) coordinates of N, CA, C, O, CB."""
        runs = _segments(ss)
        seq, n = self.seq, len(self.seq)
        loops = self._blocks(runs)
        atoms = [_first_residue(self.psi[0])]
        for m, (start, stop) in enumerate(loops):
            if len(atoms) < start:
                atoms += _extend(atoms, self.phi, self.psi, self.omega, len(atoms), start)
            new_stop = loops[m + 1][0] if m + 1 < len(loops) else n
            best, best_cost, best_free = None, np.inf, -np.inf
            for trial in range(4 * _LOOP_TRIALS):
                if trial >= _LOOP_TRIALS and best_free > 0:
                    break
                phi, psi = self.phi.copy(), self.psi.copy()
                psi[start - 1] += self.rng.normal(0.0, 20.0)
                for j, (p, s) in enumerate(_loop_sample(self.rng, seq, start, stop, False)):
                    if seq[start + j] != "P":
                        phi[start + j] = p
                    psi[start + j] = s
                head = atoms[: start - 1] + [_reoriented_o(atoms[start - 1], psi[start - 1])]
                new = _extend(head, phi, psi, self.omega, start, new_stop)
                cost = self.cost(np.array(head[:-1]), np.array(head[-1:] + new), start - 1)
                if cost < best_cost:
                    best, best_cost, best_free = (phi, psi, new), cost, self.clash_free
            assert best is not None
            self.phi, self.psi, new = best
            atoms = atoms[: start - 1] + [_reoriented_o(atoms[start - 1], self.psi[start - 1])]
            atoms += new
        if len(atoms) < n:
            atoms += _extend(atoms, self.phi, self.psi, self.omega, len(atoms), n)
        return np.array(atoms)


def _hairpin_pairs(runs, k: int) -> list[tuple[int, int]]:
    """CA pairs expected to be ~5 Å apart when loop run k joins two strands into a hairpin."""
    _, s1, e1 = runs[k - 1]
    _, s2, e2 = runs[k + 1]
    pairs = []
    a, b = e1 - 1, s2
    while a >= s1 and b < e2:
        pairs.append((a, b))
        a -= 1
        b += 1
    return pairs


def _side_chain(resname: str, pos: dict, chis: Sequence[float]) -> list[AtomSpec]:
    """Side-chain atoms (name, element, xyz) beyond CB for one rotamer."""
    pos = dict(pos)
    out = []
    for entry in ic.SIDE_CHAINS[resname]:
        tor = entry.offset + (chis[entry.chi - 1] if entry.chi else 0.0)
        xyz = place(pos[entry.a], pos[entry.b], pos[entry.c], entry.bond, entry.angle, tor)
        pos[entry.name] = xyz
        out.append((entry.name, entry.element, np.array(xyz)))
    return out


def _rotamer_options(resname: str, pos: dict) -> list[list[AtomSpec]]:
    """Side chains for each common rotamer, then for each rotamer with chi1/chi2 nudged
    (proline keeps its two ring puckers, which close the ring)."""
    base = ic.ROTAMERS.get(resname, [()])
    options = [_side_chain(resname, pos, chis) for chis in base]
    if resname == "PRO":
        return options
    for delta in (15.0, -15.0, 30.0, -30.0):
        for chis in base:
            nudged = tuple(c + delta * (k < 2) for k, c in enumerate(chis))
            options.append(_side_chain(resname, pos, nudged))
    return options


class _SideChains:
    """Greedy, then iteratively repaired, choice of one rotamer per residue."""

    def __init__(self, seq: str, bb: np.ndarray, env: np.ndarray):
        self.seq = seq
        self.n = len(seq)
        self.bb = bb
        self.env = env
        self.options: list[list[list[AtomSpec]]] = []
        for i, aa in enumerate(seq):
            resname = ic.ONE_TO_THREE[aa]
            if resname in ("GLY", "ALA"):
                self.options.append([[]])
                continue
            pos = {"N": bb[i, 0], "CA": bb[i, 1], "C": bb[i, 2], "CB": bb[i, 4]}
            self.options.append(_rotamer_options(resname, pos))
        self.choice: list[list[AtomSpec] | None] = [None] * self.n
        self.widened: set[int] = set()

    def _context(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Atoms of everything but residue i, with a class: 0 other residues, 1 backbone of a
        sequence neighbour, 2 side chain of a sequence neighbour."""
        pts, cls = [], []
        for j in range(self.n):
            if j == i:
                continue
            keep = [0, 1, 2, 3] + ([4] if self.seq[j] != "G" else [])
            near = abs(j - i) == 1
            pts.append(self.bb[j, keep])
            cls.append(np.full(len(keep), 1 if near else 0))
            choice = self.choice[j]
            if choice:
                pts.append(np.array([x for _, _, x in choice]))
                cls.append(np.full(len(choice), 2 if near else 0))
        pts.append(self.env.reshape(-1, 3))
        cls.append(np.zeros(len(pts[-1]), dtype=int))
        return np.concatenate(pts), np.concatenate(cls)

    def _gap(self, i: int, side: list[AtomSpec], trees: list[cKDTree | None]) -> float:
        """Smallest distance from the rotamer's atoms to other atoms (0.4 Å slack for atoms of
        the same or a neighbouring residue); Pro CD is bonded to N, so only other side chains
        count for it."""
        if not side:
            return np.inf
        far, near_bb, near_sc = trees
        pts = np.array([x for _, _, x in side])
        is_cd = np.array([self.seq[i] == "P" and name == "CD" for name, _, _ in side])

        def nearest(tree: cKDTree | None, q: np.ndarray) -> float:
            return float(tree.query(q)[0].min()) if tree is not None and len(q) else np.inf

        gap = nearest(far, pts)
        gap = min(gap, nearest(near_sc, pts) + 0.4, nearest(near_bb, pts[~is_cd]) + 0.4)
        deep = np.array([name[1] in "DEZH" for name, _, _ in side]) & ~is_cd
        gap = min(gap, nearest(cKDTree(self.bb[i, [3]]), pts[~deep & ~is_cd]) + 0.4)
        gap = min(gap, nearest(cKDTree(self.bb[i, :4]), pts[deep]) + 0.4)
        gap = min(gap, nearest(cKDTree(self.bb[i, 2:4]), pts[is_cd]) + 0.4)
        return gap

    def _pick(self, i: int) -> float:
        pts, cls = self._context(i)
        trees = [cKDTree(pts[cls == k]) if (cls == k).any() else None for k in (0, 1, 2)]
        best, best_gap = None, -np.inf
        for side in self.options[i]:
            gap = self._gap(i, side, trees)
            if gap >= 3.1:
                self.choice[i] = side
                return gap
            if gap > best_gap:
                best, best_gap = side, gap
        if best_gap < 2.8 and i not in self.widened:
            self.widened.add(i)
            self.options[i] = self.options[i] + self._grid_options(i)
            return self._pick(i)
        self.choice[i] = best
        return best_gap

    def _grid_options(self, i: int) -> list[list[AtomSpec]]:
        """Side chains on a 30° chi1 × chi2 grid (further chis from the first rotamer)."""
        resname = ic.ONE_TO_THREE[self.seq[i]]
        first = ic.ROTAMERS.get(resname, [()])[0]
        if not first or resname == "PRO":
            return []
        pos = {"N": self.bb[i, 0], "CA": self.bb[i, 1], "C": self.bb[i, 2], "CB": self.bb[i, 4]}
        grid = np.arange(-180.0, 180.0, 30.0)
        chi2s = grid if len(first) > 1 else [None]
        out = []
        for c1 in grid:
            for c2 in chi2s:
                chis = (c1,) + ((c2,) + tuple(first[2:]) if c2 is not None else ())
                out.append(_side_chain(resname, pos, chis))
        return out

    def run(self, passes: int = 4) -> list[list[AtomSpec]]:
        gaps = np.array([self._pick(i) for i in range(self.n)])
        for _ in range(passes):
            bad = np.flatnonzero(gaps < 3.1)
            if not len(bad):
                break
            for i in bad:
                gaps[i] = self._pick(int(i))
        return [c or [] for c in self.choice]


def sequence_and_ss(parts: Sequence[tuple[str, str]]) -> tuple[str, str]:
    """The ``sequence`` and ``ss`` of :func:`build_protein` from ``(segment, ss letter)`` parts,
    e.g. ``[("MS", "L"), ("PEELLKK", "H")]``."""
    sequence = "".join(segment for segment, _ in parts)
    ss = "".join(letter * len(segment) for segment, letter in parts)
    return sequence, ss


def build_protein(
    sequence: str,
    ss: str,
    *,
    chain_id: str = "A",
    seed: int = 0,
    first_resseq: int = 1,
    structure: gemmi.Structure | None = None,
) -> gemmi.Structure:
    """Build a full-atom protein chain from one-letter ``sequence`` and per-residue ``ss``.

    ``ss`` holds one letter per residue: ``H`` helix, ``E`` strand, ``L`` loop. Two strands
    joined by a loop of at most 4 residues form an anti-parallel hairpin. The chain is added to
    ``structure`` (a new one by default), which is returned.
    """
    if len(sequence) != len(ss):
        raise ValueError("sequence and secondary structure must have the same length")
    seq = sequence.upper()
    unknown = set(seq) - set(ic.ONE_TO_THREE)
    if unknown:
        raise ValueError(f"unknown one-letter amino-acid codes: {''.join(sorted(unknown))}")
    fold = _Fold(seq, ss.upper(), np.random.default_rng(seed))
    bb = fold.run(ss.upper())
    st = structure if structure is not None else new_structure()
    env = all_heavy_xyz(st)
    sides = _SideChains(seq, bb, env).run()
    n = len(seq)
    chain = gemmi.Chain(chain_id)
    for i, aa in enumerate(seq):
        resname = ic.ONE_TO_THREE[aa]
        atoms: list[AtomSpec] = [
            (name, name[0], bb[i, k]) for k, name in enumerate(("N", "CA", "C", "O"))
        ]
        if resname != "GLY":
            atoms.append(("CB", "C", bb[i, 4]))
        atoms += sides[i]
        if i == n - 1:
            oxt = place(bb[i, 0], bb[i, 1], bb[i, 2], ic.C_OXT, 117.0, fold.psi[i])
            atoms.append(("OXT", "O", np.array(oxt)))
        add_residue(chain, resname, first_resseq + i, atoms)
    st[0].add_chain(chain)
    return st
