"""Atomic models (PDB or mmCIF) as flat per-atom NumPy arrays.

Both formats go through one path: a PDB file is converted by gemmi into an mmCIF document, and the
``_atom_site`` table of the first model is read column by column. Keeping the document lets the
exporters write the file back with every other category untouched.
"""

from __future__ import annotations

import gzip
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import gemmi
import numpy as np
import pandas as pd

from qscore.errors import EmptyModelError, ModelFormatError

#: Chimera's ``protein3to1`` names plus HSD/HSE: residues MapQ splits into backbone/side chain.
MAPQ_PROTEIN = frozenset(
    "ALA ARG ASH ASN ASP CYS CYX GLH GLU GLN GLY HID HIE HIP HIS HYP ILE LEU LYS MET MSE PHE "
    "PRO SER THR TRP TYR VAL ASX GLX HSD HSE".split()
)
#: Chimera's ``nucleic3to1`` names: residues MapQ splits into phosphate/sugar/base.
MAPQ_NUCLEIC = frozenset("A +A ADE C +C CYT DA DC DG DT G +G GUA T +T THY U +U URA".split())
PROTEIN_BACKBONE = frozenset({"N", "CA", "C", "O"})
#: MapQ's "phosphate" set includes C5' and O3'.
NUCLEIC_PHOSPHATE = frozenset({"P", "OP1", "OP2", "O1P", "O2P", "O5'", "C5'", "O3'"})
NUCLEIC_SUGAR = frozenset({"C1'", "C2'", "C3'", "C4'", "O4'", "O2'"})
#: Terminal oxygens that MapQ flags as backbone but puts in neither subset.
PROTEIN_UNASSIGNED = frozenset({"OT1", "OT2"})
WATER_NAMES = frozenset({"HOH", "WAT", "H2O", "DOD", "TIP", "TIP3", "SOL"})
GLYCAN_KINDS = (gemmi.ResidueKind.PYR, gemmi.ResidueKind.KET)
RESIDUE_KINDS = ("protein", "nucleic", "ligand", "glycan", "water", "ion")

_MAX_MODEL_BYTES = 4 * 1024**3
#: The only item whose resolution may stand for the map's: an EM reconstruction's.
EM_RESOLUTION_ITEM = "_em_3d_reconstruction.resolution"
#: Resolutions of diffraction data (X-ray, neutron, electron crystallography), never the map's.
DIFFRACTION_RESOLUTION_ITEMS = ("_refine.ls_d_res_high", "_reflns.d_resolution_high")


@dataclass(frozen=True, eq=False)
class AtomModel:
    """Per-atom arrays of the first model of a structure, in file order.

    ``residues`` has one row per residue (``chain, resseq, icode, resname, kind, start, stop``)
    and ``residue_index`` maps each atom to its row; ``subset`` is MapQ's atom class within the
    residue (``backbone``, ``sidechain``, ``phosphate``, ``sugar``, ``base`` or "").
    """

    xyz: np.ndarray
    element: np.ndarray
    name: np.ndarray
    altloc: np.ndarray
    resname: np.ndarray
    chain: np.ndarray
    resseq: np.ndarray
    icode: np.ndarray
    occupancy: np.ndarray
    b_iso: np.ndarray
    atomic_number: np.ndarray
    is_hydrogen: np.ndarray
    hydrogen_parent: np.ndarray
    residue_index: np.ndarray
    subset: np.ndarray
    residues: pd.DataFrame
    resolution: float | None = None
    notes: tuple[str, ...] = ()
    source: str = ""
    document: gemmi.cif.Document | None = field(default=None, repr=False)
    atom_site_rows: np.ndarray | None = field(default=None, repr=False)

    @property
    def n_atoms(self) -> int:
        """Number of atoms, hydrogens included."""
        return int(self.xyz.shape[0])

    @property
    def heavy(self) -> np.ndarray:
        """Boolean mask of the atoms that are scored (every element but H and D)."""
        return ~self.is_hydrogen

    @property
    def kind(self) -> np.ndarray:
        """Residue kind of each atom (protein, nucleic, ligand, glycan, water, ion)."""
        return self.residues["kind"].to_numpy()[self.residue_index]

    def atoms_frame(self) -> pd.DataFrame:
        """One row per atom with the identifying columns and coordinates."""
        return pd.DataFrame(
            {
                "chain": self.chain,
                "resseq": self.resseq,
                "icode": self.icode,
                "resname": self.resname,
                "atom": self.name,
                "altloc": self.altloc,
                "element": self.element,
                "x": self.xyz[:, 0],
                "y": self.xyz[:, 1],
                "z": self.xyz[:, 2],
                "b_iso": self.b_iso,
                "occupancy": self.occupancy,
                "kind": self.kind,
                "subset": self.subset,
            }
        )

    def with_coordinates(self, xyz: np.ndarray) -> AtomModel:
        """The same model with new coordinates (a moved ligand, a shifted segment, ...)."""
        xyz = np.ascontiguousarray(xyz, dtype=np.float64)
        if xyz.shape != self.xyz.shape:
            raise ValueError("new coordinates must have the shape of the old ones")
        return replace(self, xyz=xyz)


def read_model(source: str | os.PathLike | bytes, *, name: str | None = None) -> AtomModel:
    """Read a PDB or mmCIF file (optionally gzip-compressed) into an :class:`AtomModel`.

    ``source`` is a path or the file's bytes (uploads); ``name`` labels bytes in messages.
    Only the first model of a multi-model file is used, and a note says so.
    """
    label, text = _read_text(source, name)
    doc = _parse_document(text, label)
    block = doc.sole_block() if len(doc) == 1 else doc[0]
    return _model_from_block(doc, block, label)


def _read_text(source: str | os.PathLike | bytes, name: str | None) -> tuple[str, str]:
    """File contents as text, from a path or bytes, gunzipped if needed."""
    if isinstance(source, bytes | bytearray | memoryview):
        raw = bytes(source)
        label = name or "uploaded model"
    else:
        path = Path(source)
        label = name or path.name
        if not path.is_file():
            raise ModelFormatError(f"The model file {label} does not exist.")
        if path.stat().st_size > _MAX_MODEL_BYTES:
            raise ModelFormatError(f"The model file {label} is larger than 4 GB.")
        raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise ModelFormatError(f"The model file {label} is a damaged gzip file.") from exc
    if not raw.strip():
        raise EmptyModelError(f"The model file {label} is empty.")
    if b"\x00" in raw[:4096]:
        raise ModelFormatError(
            f"{label} is a binary file, not a PDB or mmCIF model (is it a map?)."
        )
    return label, raw.decode("utf-8", errors="replace")


def _parse_document(text: str, label: str) -> gemmi.cif.Document:
    """An mmCIF document from mmCIF text, or converted from PDB text."""
    head = text.lstrip()[:200]
    try:
        if head.startswith("data_") or re.match(r"^(#.*\n)*\s*data_", text):
            return gemmi.cif.read_string(text)
        if not re.search(r"^(ATOM  |HETATM)", text, flags=re.MULTILINE):
            raise ModelFormatError(
                f"{label} is neither an mmCIF file (no data_ block) nor a PDB file "
                "(no ATOM or HETATM records)."
            )
        st = gemmi.read_pdb_string(text)
        st.setup_entities()
        return st.make_mmcif_document()
    except ModelFormatError:
        raise
    except (RuntimeError, ValueError, IndexError) as exc:
        detail = re.sub(r"^string:(\d+):\S*\s*", r"line \1: ", str(exc))
        raise ModelFormatError(
            f"{label} could not be read as a model; it may be truncated or damaged ({detail})."
        ) from exc


_COLUMNS = (
    "group_PDB",
    "type_symbol",
    "label_atom_id",
    "auth_atom_id",
    "label_alt_id",
    "label_comp_id",
    "auth_comp_id",
    "label_asym_id",
    "auth_asym_id",
    "label_seq_id",
    "auth_seq_id",
    "pdbx_PDB_ins_code",
    "Cartn_x",
    "Cartn_y",
    "Cartn_z",
    "occupancy",
    "B_iso_or_equiv",
    "pdbx_PDB_model_num",
)


def _atom_site_columns(block: gemmi.cif.Block, label: str) -> dict[str, list[str]]:
    """The ``_atom_site`` columns present in the block, as lists of strings."""
    order = ("Cartn_x", *(c for c in _COLUMNS if c != "Cartn_x"))
    table = block.find("_atom_site.", [order[0], *("?" + c for c in order[1:])])
    if len(table) == 0:
        raise EmptyModelError(f"{label} has no atoms (no _atom_site records with coordinates).")
    cols = {col: list(table.column(i)) for i, col in enumerate(order) if table.has_column(i)}
    for needed in ("Cartn_y", "Cartn_z"):
        if needed not in cols:
            raise ModelFormatError(f"{label} has atoms without coordinates ({needed} missing).")
    return cols


def _pick(cols: dict[str, list[str]], *names: str, default: str = "") -> np.ndarray:
    """First available column among ``names``, with CIF null markers replaced by ``default``."""
    for n in names:
        if n in cols:
            arr = np.array([gemmi.cif.as_string(v) for v in cols[n]], dtype=object)
            arr[(arr == "?") | (arr == ".")] = default
            return arr.astype(str)
    length = len(cols["Cartn_x"])
    return np.full(length, default, dtype=object).astype(str)


def _numbers(cols: dict[str, list[str]], name: str, label: str, default: float) -> np.ndarray:
    """A numeric column; nulls become ``default``; garbage is a clear error."""
    if name not in cols:
        return np.full(len(cols["Cartn_x"]), default)
    values = np.array(cols[name], dtype=object)
    null = (values == "?") | (values == ".")
    values[null] = str(default)
    try:
        return values.astype(np.float64)
    except ValueError as exc:
        raise ModelFormatError(f"{label} has a non-numeric value in _atom_site.{name}.") from exc


def _model_from_block(doc: gemmi.cif.Document, block: gemmi.cif.Block, label: str) -> AtomModel:
    """Build the per-atom arrays of the first model from an mmCIF block."""
    cols = _atom_site_columns(block, label)
    notes: list[str] = []
    rows = np.arange(len(cols["Cartn_x"]))
    models = _pick(cols, "pdbx_PDB_model_num", default="1")
    first = models[0]
    if np.any(models != first):
        n_models = len(dict.fromkeys(models.tolist()))
        notes.append(f"The file holds {n_models} models; only the first (model {first}) is used.")
        keep = models == first
        cols = {k: [v for v, m in zip(vals, keep, strict=True) if m] for k, vals in cols.items()}
        rows = rows[keep]

    xyz = np.stack([_numbers(cols, c, label, np.nan) for c in ("Cartn_x", "Cartn_y", "Cartn_z")], 1)
    if not np.all(np.isfinite(xyz)):
        raise ModelFormatError(f"{label} has atoms with missing or non-numeric coordinates.")
    element = np.char.upper(_pick(cols, "type_symbol").astype(str))
    name = _pick(cols, "auth_atom_id", "label_atom_id")
    name = np.char.strip(np.char.replace(name.astype(str), '"', ""))
    element = _fill_missing_elements(element, name)
    resname = _pick(cols, "auth_comp_id", "label_comp_id")
    chain = _pick(cols, "auth_asym_id", "label_asym_id", default="A")
    resseq_s = _pick(cols, "auth_seq_id", "label_seq_id", default="0")
    try:
        resseq = resseq_s.astype(np.int64)
    except ValueError as exc:
        raise ModelFormatError(f"{label} has a non-integer residue number.") from exc
    icode = _pick(cols, "pdbx_PDB_ins_code")
    altloc = _pick(cols, "label_alt_id")
    occupancy = _numbers(cols, "occupancy", label, 1.0)
    b_iso = _numbers(cols, "B_iso_or_equiv", label, 0.0)

    is_h = np.isin(element, ("H", "D"))
    if not np.any(~is_h):
        raise EmptyModelError(f"{label} has no non-hydrogen atoms to score.")
    if np.any(is_h):
        notes.append(
            f"{int(is_h.sum())} hydrogen/deuterium atoms are not scored; each takes the Q "
            "of the heavy atom it is bonded to."
        )
    atomic_number = np.array([gemmi.Element(e).atomic_number for e in element], dtype=np.int16)
    resolution = _resolution(block)
    if resolution is None and (note := _diffraction_note(block)):
        notes.append(note)
    residues, residue_index = _residue_table(chain, resseq, icode, resname, is_h)
    subset = _subsets(name, residues["kind"].to_numpy()[residue_index], resname, is_h)
    return AtomModel(
        xyz=np.ascontiguousarray(xyz),
        element=element,
        name=name,
        altloc=altloc,
        resname=resname,
        chain=chain,
        resseq=resseq,
        icode=icode,
        occupancy=occupancy,
        b_iso=b_iso,
        atomic_number=atomic_number,
        is_hydrogen=is_h,
        hydrogen_parent=_hydrogen_parents(xyz, is_h, residue_index),
        residue_index=residue_index,
        subset=subset,
        residues=residues,
        resolution=resolution,
        notes=tuple(notes),
        source=label,
        document=doc,
        atom_site_rows=rows,
    )


def _fill_missing_elements(element: np.ndarray, name: np.ndarray) -> np.ndarray:
    """Element symbols for atoms whose file gives none, guessed from the atom name."""
    missing = np.flatnonzero((element == "") | (element == "?") | (element == "."))
    element = element.astype("<U3")
    for i in missing:
        letters = re.sub(r"[^A-Za-z]", "", str(name[i]))
        element[i] = letters[:1].upper() if letters else "X"
    return element


def _residue_kind(resname: str, n_heavy: int) -> str:
    """Residue class: MapQ's protein/nucleic sets first, then gemmi's residue table."""
    if resname in MAPQ_PROTEIN:
        return "protein"
    if resname in MAPQ_NUCLEIC:
        return "nucleic"
    if resname in WATER_NAMES:
        return "water"
    info = gemmi.find_tabulated_residue(resname)
    if info is not None:
        if info.is_water():
            return "water"
        if info.is_amino_acid():
            return "protein"
        if info.is_nucleic_acid():
            return "nucleic"
        if info.kind in GLYCAN_KINDS:
            return "glycan"
    if n_heavy == 1:
        return "ion"
    return "ligand"


def _residue_table(
    chain: np.ndarray, resseq: np.ndarray, icode: np.ndarray, resname: np.ndarray, is_h: np.ndarray
) -> tuple[pd.DataFrame, np.ndarray]:
    """One row per run of atoms sharing (chain, resseq, icode, resname), in file order."""
    n = len(chain)
    change = np.ones(n, dtype=bool)
    change[1:] = (
        (chain[1:] != chain[:-1])
        | (resseq[1:] != resseq[:-1])
        | (icode[1:] != icode[:-1])
        | (resname[1:] != resname[:-1])
    )
    starts = np.flatnonzero(change)
    stops = np.append(starts[1:], n)
    residue_index = np.cumsum(change) - 1
    heavy_counts = np.add.reduceat((~is_h).astype(np.int64), starts)
    kinds = [
        _residue_kind(str(resname[s]), int(h)) for s, h in zip(starts, heavy_counts, strict=True)
    ]
    residues = pd.DataFrame(
        {
            "chain": chain[starts],
            "resseq": resseq[starts],
            "icode": icode[starts],
            "resname": resname[starts],
            "kind": pd.Categorical(kinds, categories=RESIDUE_KINDS),
            "start": starts,
            "stop": stops,
        }
    )
    return residues, residue_index


def _subsets(
    name: np.ndarray, kind: np.ndarray, resname: np.ndarray, is_h: np.ndarray
) -> np.ndarray:
    """MapQ's atom subsets (§4.2 of the algorithm notes); hydrogens belong to none."""
    subset = np.full(len(name), "", dtype="<U9")
    protein = (kind == "protein") & ~is_h
    subset[protein] = "sidechain"
    subset[protein & np.isin(name, list(PROTEIN_BACKBONE))] = "backbone"
    subset[protein & np.isin(name, list(PROTEIN_UNASSIGNED))] = ""
    nucleic = (kind == "nucleic") & ~is_h
    subset[nucleic] = "base"
    subset[nucleic & np.isin(name, list(NUCLEIC_PHOSPHATE))] = "phosphate"
    subset[nucleic & np.isin(name, list(NUCLEIC_SUGAR))] = "sugar"
    return subset


def _hydrogen_parents(xyz: np.ndarray, is_h: np.ndarray, residue_index: np.ndarray) -> np.ndarray:
    """Index of the heavy atom each hydrogen is bonded to (nearest within 1.3 Å), else −1."""
    parent = np.full(len(xyz), -1, dtype=np.int64)
    h_idx = np.flatnonzero(is_h)
    heavy_idx = np.flatnonzero(~is_h)
    if len(h_idx) == 0 or len(heavy_idx) == 0:
        return parent
    from scipy.spatial import cKDTree

    tree = cKDTree(xyz[heavy_idx])
    dist, nearest = tree.query(xyz[h_idx], k=1, distance_upper_bound=1.3)
    found = np.isfinite(dist)
    parent[h_idx[found]] = heavy_idx[nearest[found]]
    return parent


def _positive_number(block: gemmi.cif.Block, tag: str) -> float | None:
    """The positive number recorded under ``tag``, or None (absent, null or not a number)."""
    value = block.find_value(tag)
    if value is None:
        return None
    try:
        number = float(gemmi.cif.as_string(value))
    except ValueError:
        return None
    return number if np.isfinite(number) and number > 0 else None


def _resolution(block: gemmi.cif.Block) -> float | None:
    """The EM reconstruction's resolution (Å) recorded in the mmCIF, if any.

    Only ``_em_3d_reconstruction.resolution`` describes a map; a diffraction resolution
    (``_refine.ls_d_res_high``, ``_reflns.d_resolution_high``, a PDB file's REMARK 2/3/200, which
    gemmi converts into those items) does not, and is never taken as the map's resolution.
    """
    return _positive_number(block, EM_RESOLUTION_ITEM)


def _diffraction_note(block: gemmi.cif.Block) -> str | None:
    """A sentence saying a diffraction resolution was left unused, when the file records one."""
    for tag in DIFFRACTION_RESOLUTION_ITEMS:
        value = _positive_number(block, tag)
        if value is not None:
            return (
                f"The model file records a diffraction resolution of {value:g} Å ({tag}); it is "
                "not the map's resolution, so give the map's resolution to compare the Q-score "
                "with the EMDB archive."
            )
    return None


def model_from_structure(structure: gemmi.Structure, *, name: str = "structure") -> AtomModel:
    """An :class:`AtomModel` from an in-memory gemmi Structure (generated examples, tests)."""
    structure.setup_entities()
    doc = structure.make_mmcif_document()
    return _model_from_block(doc, doc.sole_block(), name)
