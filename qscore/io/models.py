"""Atomic models (PDB or mmCIF) as flat per-atom NumPy arrays.

Both formats go through one path: a PDB file is converted by gemmi into an mmCIF document, and the
``_atom_site`` table of the first model is read column by column. Keeping the document lets the
exporters write the file back with every other category untouched.
"""

from __future__ import annotations

import gzip
import io
import math
import os
import re
import stat
import zlib
from collections.abc import Callable
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
#: Models with more atoms keep the mmCIF text they were read from instead of gemmi's parsed
#: document (several times larger in memory); writing them back parses the text again.
KEEP_DOCUMENT_ATOMS = 250_000
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
    document_text: str | None = field(default=None, repr=False)

    def cif_document(self) -> gemmi.cif.Document | None:
        """The mmCIF document the model was read from (parsed again from its text for large
        models, which do not keep the parsed document), or None for a model built in memory."""
        if self.document is None and self.document_text is not None:
            return gemmi.cif.read_string(self.document_text)
        return self.document

    @property
    def n_atoms(self) -> int:
        """Number of atoms, hydrogens included."""
        return int(self.xyz.shape[0])

    @property
    def heavy(self) -> np.ndarray:
        """Boolean mask of the atoms that are scored (every element but H and D)."""
        return ~self.is_hydrogen

    def residue_atoms(self, row: int) -> np.ndarray:
        """Indices of the heavy atoms of residue ``row`` (a row of :attr:`residues`)."""
        atoms = np.arange(int(self.residues.at[row, "start"]), int(self.residues.at[row, "stop"]))
        return atoms[self.heavy[atoms]]

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

    Only the first model of a multi-model file is used, and a note says so.

    Parameters
    ----------
    source : str, os.PathLike or bytes
        A path, or the file's bytes (uploads).
    name : str, optional
        Labels bytes in messages.

    Returns
    -------
    AtomModel
        The first model's atoms.

    Raises
    ------
    ModelFormatError
        The file is missing, not a regular file, damaged, or not a PDB/mmCIF model.
    EmptyModelError
        The file holds no atoms to score.
    """
    label, raw = _read_bytes(source, name)
    text, is_cif, notes = _decode(raw, label)
    del raw
    doc = _parse_document(text, is_cif, label)
    block = doc.sole_block() if len(doc) == 1 else doc[0]
    large = is_cif and len(block.find_values("_atom_site.Cartn_x")) > KEEP_DOCUMENT_ATOMS
    source_text = text if large else None
    del text
    try:
        model = _model_from_block(doc, block, label)
    except OverflowError:
        raise ModelFormatError(
            f"{label} holds a number too large to read (such as a residue number beyond "
            "9,223,372,036,854,775,807); the file is damaged."
        ) from None
    _check_coordinates(model.xyz, label)
    if source_text is not None:
        model = replace(model, document=None, document_text=source_text)
    return replace(model, notes=(*notes, *model.notes)) if notes else model


#: Largest coordinate magnitude (Å) accepted; real models lie within a few thousand Å of 0.
MAX_COORDINATE = 1e6


def _check_coordinates(xyz: np.ndarray, label: str) -> None:
    """Refuse coordinates no structure has (they overflow distance computations)."""
    largest = float(np.abs(xyz).max()) if xyz.size else 0.0
    if largest > MAX_COORDINATE:
        raise ModelFormatError(
            f"{label} has an atom at a coordinate of {largest:.3g} Å; real models lie within a "
            "few thousand Å of the origin, so the file is damaged."
        )


#: A compressed model may expand to this many bytes, and beyond that at most
#: _MAX_INFLATION-fold (model text compresses 4–8-fold; far more means a damaged or hostile file).
_INFLATION_FLOOR = 32 * 2**20
_MAX_INFLATION = 32
_CHUNK = 1 << 22
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
#: Bytes outside ASCII become "?" in PDB text, one for one, so fixed columns stay in place.
_ASCII_ONLY = bytes(range(128)) + b"?" * 128
_FIRST_CONTENT = re.compile(rb"^[ \t]*[^#\s]", re.MULTILINE)
_COORDINATE_RECORD = re.compile(rb"^(?:ATOM  |HETATM)", re.MULTILINE)
_PDB_COORDINATES = re.compile(
    rb"^(?:ATOM  |HETATM)[^\n]{24}([^\n]{8})([^\n]{8})([^\n]{8})", re.MULTILINE
)
_NON_ASCII_ATOM = re.compile(rb"^(?:ATOM  |HETATM)[^\n]*[\x80-\xff]", re.MULTILINE)


def _read_bytes(source: str | os.PathLike | bytes, name: str | None) -> tuple[str, bytes]:
    """The file's bytes, from a path or bytes, gunzipped (bounded) if needed."""
    if isinstance(source, bytes | bytearray | memoryview):
        raw = bytes(source)
        label = name or "uploaded model"
    else:
        path = Path(source)
        label = name or path.name
        try:
            info = os.stat(path)
        except FileNotFoundError:
            raise ModelFormatError(f"The model file {label} does not exist.") from None
        except OSError as exc:
            raise ModelFormatError(
                f"The model file {label} cannot be read: {exc.strerror}."
            ) from None
        if stat.S_ISDIR(info.st_mode):
            raise ModelFormatError(f"{label} is a folder, not a model file.")
        if not stat.S_ISREG(info.st_mode):
            raise ModelFormatError(
                f"{label} is a named pipe, device or socket, not a regular file; save the model "
                "to a file and give its path."
            )
        if info.st_size > _MAX_MODEL_BYTES:
            raise ModelFormatError(f"The model file {label} is larger than 4 GB.")
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ModelFormatError(
                f"The model file {label} cannot be read: {exc.strerror}."
            ) from None
    if raw[:2] == b"\x1f\x8b":
        raw = _gunzip(raw, label)
    return label, raw


def _gunzip(packed: bytes, label: str) -> bytes:
    """Decompress in bounded chunks, refusing damaged streams and implausible expansion."""
    limit = max(_INFLATION_FLOOR, _MAX_INFLATION * len(packed))
    parts: list[bytes] = []
    total = 0
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(packed), mode="rb") as stream:
            while part := stream.read(_CHUNK):
                total += len(part)
                if total > limit:
                    raise ModelFormatError(
                        f"The compressed model file {label} ({len(packed)} bytes) expands to "
                        f"more than {limit // 2**20} MB, over {_MAX_INFLATION}-fold; model files "
                        "do not compress that well, so it is damaged or not a model."
                    )
                parts.append(part)
    except (OSError, EOFError, zlib.error):
        raise ModelFormatError(
            f"The model file {label} is a damaged gzip file (it cannot be decompressed whole); "
            "download or export it again."
        ) from None
    return b"".join(parts)


def _decode(raw: bytes, label: str) -> tuple[str, bool, tuple[str, ...]]:
    """Text of the model, whether it is mmCIF, and notes on bytes that had to be replaced."""
    if raw.startswith(_UTF16_BOMS):
        raise ModelFormatError(
            f"{label} is UTF-16 text; save it as plain text (ASCII or UTF-8) and try again."
        )
    if raw.startswith(_UTF8_BOM):
        raw = raw[len(_UTF8_BOM) :]
    if not raw.strip():
        raise EmptyModelError(f"The model file {label} is empty.")
    if b"\x00" in raw[:4096]:
        raise ModelFormatError(
            f"{label} is a binary file, not a PDB or mmCIF model (is it a map?)."
        )
    if b"\r" in raw:
        raw = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    first = _FIRST_CONTENT.search(raw)
    if first is not None and raw[first.end() - 1 : first.end() + 4].lower() == b"data_":
        return raw.decode("utf-8", errors="replace"), True, ()
    if not _COORDINATE_RECORD.search(raw):
        raise ModelFormatError(
            f"{label} is neither an mmCIF file (no data_ block) nor a PDB file "
            "(no ATOM or HETATM records)."
        )
    _check_pdb_coordinates(raw, label)
    notes: tuple[str, ...] = ()
    damaged = len(_NON_ASCII_ATOM.findall(raw))
    if damaged:
        notes = (
            f"{damaged} ATOM/HETATM records hold bytes outside ASCII, read as '?'; check the "
            "names in those records.",
        )
    return raw.translate(_ASCII_ONLY).decode("ascii"), False, notes


def _check_pdb_coordinates(raw: bytes, label: str) -> None:
    """Refuse coordinate records whose x, y, z columns (31–54) are not three numbers.

    gemmi reads a blank or overflowed ("********") coordinate as 0, which would silently move
    the atom to the origin.
    """
    for match in _PDB_COORDINATES.finditer(raw):
        fields = match.group(1, 2, 3)
        try:
            values = [float(f) for f in fields]
        except ValueError:
            values = [math.nan]
        if not all(math.isfinite(v) for v in values):
            line = raw.count(b"\n", 0, match.start()) + 1
            shown = b"".join(fields).decode("ascii", "replace").strip()
            raise ModelFormatError(
                f"{label} line {line}: the coordinates (columns 31–54) read {shown!r}, not three "
                "numbers; the file is damaged."
            )


def _parse_document(text: str, is_cif: bool, label: str) -> gemmi.cif.Document:
    """An mmCIF document from mmCIF text, or converted from PDB text."""
    try:
        if is_cif:
            return gemmi.cif.read_string(text)
        st = gemmi.read_pdb_string(text)
        st.setup_entities()
        document = st.make_mmcif_document()
        _keep_em_resolution(document.sole_block(), st.resolution)
        return document
    except (RuntimeError, ValueError, IndexError, OverflowError) as exc:
        raise ModelFormatError(
            f"{label} could not be read as a model; it may be truncated or damaged "
            f"({_parser_detail(exc)})."
        ) from None


def _keep_em_resolution(block: gemmi.cif.Block, resolution: float) -> None:
    """Carry an EM model's REMARK 2 resolution into the converted document.

    In a PDB file of an electron-microscopy structure (``EXPDTA ELECTRON MICROSCOPY``) REMARK 2
    is the map's resolution, but gemmi's conversion writes it nowhere; it is kept as
    ``_em_3d_reconstruction.resolution`` so it prefills like an mmCIF's. Other methods' REMARK 2
    is a diffraction resolution and is left alone.
    """
    method = block.find_value("_exptl.method")
    if method and "ELECTRON MICROSCOPY" in gemmi.cif.as_string(method).upper() and resolution > 0:
        block.set_pair(EM_RESOLUTION_ITEM, f"{resolution:g}")


def _parser_detail(exc: BaseException) -> str:
    """gemmi's message on one line, with its 'string:LINE' prefix as 'line LINE'."""
    detail = " ".join(str(exc).split())
    detail = re.sub(r"^string:(\d+)\S*\s*(?:in \S+:\s*)?", r"line \1: ", detail).rstrip(". ")
    return detail if len(detail) <= 200 else detail[:197] + "..."


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


class _Columns:
    """The ``_atom_site`` columns present in a block, read from gemmi one at a time when asked.

    Only the columns the model needs are turned into Python strings, one column at a time, so a
    model of millions of atoms never holds more than one column as Python objects; ``keep`` (set
    for multi-model files) selects the rows of the first model.
    """

    def __init__(self, table: gemmi.cif.Table, order: tuple[str, ...]) -> None:
        self._table = table
        self._index = {col: i for i, col in enumerate(order) if table.has_column(i)}
        self.length = len(table)
        self.keep: np.ndarray | None = None

    def __contains__(self, name: str) -> bool:
        return name in self._index

    def raw(self, name: str) -> list[str] | np.ndarray:
        """The column's raw CIF values (quotes kept), first model only: a list of strings, or an
        object array when rows are selected."""
        values = list(self._table.column(self._index[name]))
        return values if self.keep is None else np.array(values, dtype=object)[self.keep]


def _atom_site_columns(block: gemmi.cif.Block, label: str) -> _Columns:
    """The ``_atom_site`` columns present in the block."""
    order = ("Cartn_x", *(c for c in _COLUMNS if c != "Cartn_x"))
    table = block.find("_atom_site.", [order[0], *("?" + c for c in order[1:])])
    if len(table) == 0:
        raise EmptyModelError(f"{label} has no atoms (no _atom_site records with coordinates).")
    cols = _Columns(table, order)
    for needed in ("Cartn_y", "Cartn_z"):
        if needed not in cols:
            raise ModelFormatError(f"{label} has atoms without coordinates ({needed} missing).")
    return cols


def _pick(
    cols: _Columns, *names: str, default: str = "", clean: Callable[[str], str] | None = None
) -> np.ndarray:
    """First available column among ``names`` as strings, CIF quotes removed, null markers
    replaced by ``default`` and ``clean`` applied. Each distinct value is handled once, so this
    stays fast for millions of atoms."""
    for n in names:
        if n in cols:
            codes, distinct = pd.factorize(np.asarray(cols.raw(n), dtype=object))
            text = [gemmi.cif.as_string(v) for v in distinct]
            text = [default if v in ("?", ".") else v for v in text]
            if clean is not None:
                text = [clean(v) for v in text]
            return np.array(text or [default], dtype=str)[codes]
    length = cols.length if cols.keep is None else int(np.count_nonzero(cols.keep))
    fill = default if clean is None else clean(default)
    return np.full(length, fill, dtype=object).astype(str)


def _numbers(cols: _Columns, name: str, label: str, default: float) -> np.ndarray:
    """A numeric column; nulls become ``default``; garbage is a clear error."""
    if name not in cols:
        length = cols.length if cols.keep is None else int(np.count_nonzero(cols.keep))
        return np.full(length, default)
    raw = cols.raw(name)
    try:
        return np.array(raw, dtype=np.float64)
    except ValueError:
        pass
    values = np.array(raw, dtype=object)
    values[(values == "?") | (values == ".")] = str(default)
    try:
        return values.astype(np.float64)
    except ValueError as exc:
        raise ModelFormatError(f"{label} has a non-numeric value in _atom_site.{name}.") from exc


def _atom_name(text: str) -> str:
    """An atom name without the double quotes some writers leave in it."""
    return text.replace('"', "").strip()


def _model_from_block(doc: gemmi.cif.Document, block: gemmi.cif.Block, label: str) -> AtomModel:
    """Build the per-atom arrays of the first model from an mmCIF block."""
    cols = _atom_site_columns(block, label)
    notes: list[str] = []
    rows = np.arange(cols.length)
    models = _pick(cols, "pdbx_PDB_model_num", default="1")
    first = models[0]
    if np.any(models != first):
        n_models = len(dict.fromkeys(models.tolist()))
        notes.append(f"The file holds {n_models} models; only the first (model {first}) is used.")
        keep = models == first
        cols.keep = keep
        rows = rows[keep]

    xyz = np.stack([_numbers(cols, c, label, np.nan) for c in ("Cartn_x", "Cartn_y", "Cartn_z")], 1)
    if not np.all(np.isfinite(xyz)):
        raise ModelFormatError(f"{label} has atoms with missing or non-numeric coordinates.")
    element = _pick(cols, "type_symbol", clean=str.upper)
    name = _pick(cols, "auth_atom_id", "label_atom_id", clean=_atom_name)
    element = _fill_missing_elements(element, name)
    resname = _pick(cols, "auth_comp_id", "label_comp_id")
    chain = _pick(cols, "auth_asym_id", "label_asym_id", default="A")
    resseq = _integers(_pick(cols, "auth_seq_id", "label_seq_id", default="0"), label)
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
    symbols, codes = np.unique(element, return_inverse=True)
    atomic_number = np.array([gemmi.Element(e).atomic_number for e in symbols], dtype=np.int16)[
        codes
    ]
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


def _integers(text: np.ndarray, label: str) -> np.ndarray:
    """Residue numbers from their text (each distinct value converted once)."""
    distinct, codes = np.unique(text, return_inverse=True)
    try:
        return np.array([int(v) for v in distinct], dtype=np.int64)[codes]
    except ValueError as exc:
        raise ModelFormatError(f"{label} has a non-integer residue number.") from exc


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
