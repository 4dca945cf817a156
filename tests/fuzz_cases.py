"""Deterministic fuzz cases for ``qscore score``: damaged, hostile and odd maps and models.

Every case is generated in code (fixed seeds) from two base pairs: the EMD-30342 map with the
first 100 atoms of 7cec chain A (when ``../shared`` is present) and a small synthetic pair (a
12-residue helix and a map of Gaussians at its atoms). Families: map header fields, byte flips,
truncation and extension, gzip damage, sizes and odd files; model line damage, mmCIF damage,
encodings and sizes. :func:`build_cases` writes the files and returns the cases to run.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qscore.io.export import pdb_text
from qscore.io.maps import DensityMap, write_map
from qscore.io.models import model_from_structure, read_model
from qscore.synthetic.builder.protein import build_protein, structure_to_mmcif

#: Header words (index, kind) that the header family mutates.
HEADER_WORDS = {
    "NX": (0, "i"), "NY": (1, "i"), "NZ": (2, "i"), "MODE": (3, "i"),
    "NXSTART": (4, "i"), "NYSTART": (5, "i"), "NZSTART": (6, "i"),
    "MX": (7, "i"), "MY": (8, "i"), "MZ": (9, "i"),
    "CELLA.x": (10, "f"), "CELLA.y": (11, "f"), "CELLA.z": (12, "f"),
    "ALPHA": (13, "f"), "BETA": (14, "f"), "GAMMA": (15, "f"),
    "MAPC": (16, "i"), "MAPR": (17, "i"), "MAPS": (18, "i"),
    "NSYMBT": (23, "i"), "ORIGIN.x": (49, "f"), "ORIGIN.z": (51, "f"), "MACHST": (53, "i"),
}  # fmt: skip
INT_VALUES = (0, -1, 1, 2, 7, 3, 2**31 - 1, -(2**31), 1000, 65536)
FLOAT_VALUES = (0.0, -1.0, float("nan"), float("inf"), 1e30, 1e-30, 60.0, 120.0, 179.0, 3.5)


@dataclass(frozen=True)
class Case:
    """One run of ``qscore score MAP MODEL [args]``."""

    family: str
    name: str
    map: str
    model: str
    args: tuple[str, ...] = field(default=())


def synthetic_pair(folder: Path) -> tuple[Path, Path, Path]:
    """A 12-residue helix (mmCIF and PDB) and a map of Gaussians at its atoms with some noise."""
    folder.mkdir(parents=True, exist_ok=True)
    st = build_protein("MSPEELLKKALG", "LLHHHHHHHHLL", seed=4)
    structure_to_mmcif(st, str(folder / "model.cif"))
    model = model_from_structure(st, name="model")
    (folder / "model.pdb").write_text(pdb_text(model, model.b_iso))
    xyz = model.xyz[model.heavy]
    lo = np.floor(xyz.min(axis=0) - 6.0)
    voxel = 0.7
    n = np.ceil((xyz.max(axis=0) + 6.0 - lo) / voxel).astype(int) + 1
    grid = [lo[a] + voxel * np.arange(n[a]) for a in range(3)]
    z, y, x = np.meshgrid(grid[2], grid[1], grid[0], indexing="ij")
    values = np.random.default_rng(0).normal(0.0, 0.05, z.shape)
    for c in xyz:
        values += np.exp(-((x - c[0]) ** 2 + (y - c[1]) ** 2 + (z - c[2]) ** 2) / (2 * 0.9**2))
    write_map(folder / "map.mrc", DensityMap(values.astype(np.float32), lo, np.full(3, voxel)))
    return folder / "map.mrc", folder / "model.cif", folder / "model.pdb"


class _Writer:
    """Writes case files into one folder under unique names."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0

    def __call__(self, data: bytes, suffix: str) -> str:
        self.count += 1
        path = self.folder / f"case{self.count:04d}{suffix}"
        path.write_bytes(data)
        return str(path)


def _set_word(raw: bytes, index: int, kind: str, value: float) -> bytes:
    out = bytearray(raw)
    struct.pack_into("<i" if kind == "i" else "<f", out, 4 * index, value)
    return bytes(out)


def map_cases(
    tag: str, raw: bytes, model: str, write: _Writer, rng: np.random.Generator
) -> Iterator[Case]:
    """Damaged variants of one map (MRC bytes), each scored with a good ``model``."""
    size = len(raw)
    yield Case("map: intact", f"{tag} intact", write(raw, ".mrc"), model)
    yield Case(
        "map: intact", f"{tag} intact gzip", write(gzip.compress(raw, mtime=0), ".mrc.gz"), model
    )
    for word, (index, kind) in HEADER_WORDS.items():
        values = INT_VALUES if kind == "i" else FLOAT_VALUES
        for value in rng.choice(np.array(values, dtype=object), size=3, replace=False):
            yield Case(
                "map: header field",
                f"{tag} {word}={value}",
                write(_set_word(raw, index, kind, value), ".mrc"),
                model,
            )
    for _ in range(12):
        out = bytearray(raw)
        at = int(rng.integers(0, 1024))
        out[at] = int(rng.integers(0, 256))
        yield Case("map: byte flip", f"{tag} header byte {at}", write(bytes(out), ".mrc"), model)
    for _ in range(6):
        out = bytearray(raw)
        at = int(rng.integers(1024, size))
        out[at] ^= 0xFF
        yield Case("map: byte flip", f"{tag} data byte {at}", write(bytes(out), ".mrc"), model)
    for keep in (0, 1, 100, 1023, 1024, 1025, size // 2, size - 4, size - 1):
        yield Case("map: truncation", f"{tag} first {keep} bytes", write(raw[:keep], ".mrc"), model)
    for extra in (1, 4, 4096):
        yield Case(
            "map: truncation",
            f"{tag} {extra} extra bytes",
            write(raw + bytes(extra), ".mrc"),
            model,
        )
    packed = gzip.compress(raw, mtime=0)
    for cut in (10, len(packed) // 3, len(packed) - 20, len(packed) - 8, len(packed) - 1):
        yield Case(
            "map: gzip damage", f"{tag} gzip cut at {cut}", write(packed[:cut], ".mrc.gz"), model
        )
    for _ in range(8):
        out = bytearray(packed)
        at = int(rng.integers(10, len(packed)))
        out[at] ^= 1 << int(rng.integers(0, 8))
        yield Case(
            "map: gzip damage", f"{tag} gzip bit flip at {at}", write(bytes(out), ".mrc.gz"), model
        )
    for name, data in (
        ("bad CRC", packed[:-8] + bytes(b ^ 0xFF for b in packed[-8:-4]) + packed[-4:]),
        ("bad length", packed[:-4] + struct.pack("<I", (size + 1) % 2**32)),
        ("trailing garbage", packed + b"garbage!"),
        ("second member", packed + gzip.compress(b"\0" * 64, mtime=0)),
        ("gzip of gzip", gzip.compress(packed, mtime=0)),
        ("gzip of half the map", gzip.compress(raw[: size // 2], mtime=0)),
        ("empty gzip", gzip.compress(b"", mtime=0)),
    ):
        yield Case("map: gzip damage", f"{tag} {name}", write(data, ".mrc.gz"), model)


def odd_map_cases(model: str, write: _Writer, folder: Path) -> Iterator[Case]:
    """Maps of odd sizes and kinds: bombs, tiny grids, text, folders and pipes."""
    for n in ((8192, 7936, 1), (4096, 4096, 16)):
        data = zero_map_gzip(n)
        yield Case(
            "map: sizes and kinds", f"gzip of {n} zero voxels", write(data, ".mrc.gz"), model
        )
    for n in ((1, 1, 1), (2, 2, 2), (1, 50, 50)):
        values = np.random.default_rng(1).normal(size=n[::-1]).astype(np.float32)
        data = _mrc_header(n, (20.0, 20.0, 20.0)) + values.tobytes()
        yield Case("map: sizes and kinds", f"{n} voxel grid", write(data, ".mrc"), model)
    yield Case("map: sizes and kinds", "empty file", write(b"", ".mrc"), model)
    yield Case(
        "map: sizes and kinds",
        "PDB text named .mrc",
        write(Path(model).read_bytes(), ".mrc"),
        model,
    )
    yield Case(
        "map: sizes and kinds",
        "random bytes",
        write(np.random.default_rng(2).bytes(5000), ".mrc"),
        model,
    )
    yield Case("map: sizes and kinds", "folder", str(folder), model)
    yield Case("map: sizes and kinds", "missing file", str(folder / "missing.mrc"), model)
    yield Case("map: sizes and kinds", "/dev/zero", "/dev/zero", model)


def _mrc_header(n: tuple[int, int, int], cell: tuple[float, float, float]) -> bytes:
    ints = np.zeros(256, dtype="<i4")
    floats = ints.view("<f4")
    ints[0:4] = (*n, 2)
    ints[7:10] = n
    floats[10:13] = cell
    floats[13:16] = 90.0
    ints[16:19] = (1, 2, 3)
    raw = bytearray(ints.tobytes())
    raw[208:212] = b"MAP "
    raw[212:216] = b"\x44\x44\x00\x00"
    return bytes(raw)


def repeated_gzip(prefix: bytes, unit: bytes, count: int) -> bytes:
    """A gzip file of ``prefix`` then ``count`` copies of ``unit``, made without compressing each.

    After a full flush deflate forgets what came before, so one compressed copy of ``unit`` can
    be repeated; only the CRC is computed over the whole content.
    """
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = deflate.compress(prefix) + deflate.flush(zlib.Z_FULL_FLUSH)
    block = deflate.compress(unit) + deflate.flush(zlib.Z_FULL_FLUSH)
    tail = deflate.flush(zlib.Z_FINISH)
    crc = zlib.crc32(prefix)
    for _ in range(count):
        crc = zlib.crc32(unit, crc)
    size = (len(prefix) + count * len(unit)) % 2**32
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return header + head + block * count + tail + struct.pack("<II", crc, size)


def zero_map_gzip(n: tuple[int, int, int]) -> bytes:
    """A gzip MRC file of ``n`` (x, y, z) float32 zero voxels (``n[0] * n[1]`` a multiple of 1024)."""
    header = bytearray(_mrc_header(n, tuple(map(float, n))))
    unit = bytes(1 << 22)
    total = 4 * n[0] * n[1] * n[2]
    assert total % len(unit) == 0
    return repeated_gzip(bytes(header), unit, total // len(unit))


def model_cases(
    tag: str, pdb: bytes, cif: bytes, dmap: str, write: _Writer, rng: np.random.Generator
) -> Iterator[Case]:
    """Damaged variants of one model (PDB and mmCIF text), each scored in a good ``dmap``."""
    yield Case("model: intact", f"{tag} intact PDB", dmap, write(pdb, ".pdb"))
    yield Case("model: intact", f"{tag} intact mmCIF", dmap, write(cif, ".cif"))
    lines = pdb.split(b"\n")
    atoms = [i for i, line in enumerate(lines) if line.startswith((b"ATOM", b"HETATM"))]
    edits: list[tuple[str, Callable[[bytes], bytes]]] = [
        ("coordinate 'nan'", lambda s: s[:30] + b"     nan" + s[38:]),
        ("coordinate '*******'", lambda s: s[:30] + b"********" + s[38:]),
        ("coordinate 1e300", lambda s: s[:30] + b"1.0e+300" + s[38:]),
        ("blank coordinates", lambda s: s[:30] + b" " * 24 + s[54:]),
        ("residue number 'XXXX'", lambda s: s[:22] + b"XXXX" + s[26:]),
        ("occupancy 'abc'", lambda s: s[:54] + b"   abc" + s[60:]),
        ("element 'Zz'", lambda s: s[:76] + b"Zz" + s[78:]),
        ("line cut at column 40", lambda s: s[:40]),
        ("tab in the name", lambda s: s[:12] + b"\tCA\t" + s[16:]),
        ("NUL in the name", lambda s: s[:13] + b"\0" + s[14:]),
    ]

    def pdb_case(name: str, changed: list[bytes]) -> Case:
        return Case(
            "model: line damage", f"{tag} PDB {name}", dmap, write(b"\n".join(changed), ".pdb")
        )

    for label, edit in edits:
        for i in rng.choice(atoms, size=2, replace=False):
            changed = list(lines)
            changed[i] = edit(changed[i])
            yield pdb_case(f"{label} (line {i})", changed)
    for _ in range(6):
        yield pdb_case("random lines deleted", [line for line in lines if rng.random() > 0.2])
    for _ in range(4):
        cut = int(rng.integers(0, len(pdb)))
        yield Case(
            "model: line damage", f"{tag} PDB cut at byte {cut}", dmap, write(pdb[:cut], ".pdb")
        )
    for _ in range(4):
        cut = int(rng.integers(0, len(cif)))
        yield Case(
            "model: line damage", f"{tag} mmCIF cut at byte {cut}", dmap, write(cif[:cut], ".cif")
        )
    for _ in range(6):
        out = bytearray(cif)
        at = int(rng.integers(0, len(out)))
        out[at] = int(rng.integers(0, 256))
        yield Case(
            "model: line damage", f"{tag} mmCIF byte {at} changed", dmap, write(bytes(out), ".cif")
        )
    cif_lines = cif.split(b"\n")
    first_tag = next(i for i, line in enumerate(cif_lines) if line.startswith(b"_atom_site."))
    loop = first_tag - 1  # the loop_ line of the atom_site table
    for label, edit in (
        (
            "atom_site loop header removed",
            lambda ls: [line for i, line in enumerate(ls) if i != loop],
        ),
        (
            "Cartn_x tag removed",
            lambda ls: [line for line in ls if not line.startswith(b"_atom_site.Cartn_x")],
        ),
        ("duplicate tag", lambda ls: ls[:2] + [b"_dup 1", b"_dup 2"] + ls[2:]),
        ("unterminated quote", lambda ls: ls + [b"_x 'open"]),
        ("unterminated text field", lambda ls: ls + [b"_x", b";text"]),
        ("second data block", lambda ls: ls + [b"data_second", b"_y 1"]),
        ("no data_ line", lambda ls: ls[1:]),
        ("auth_seq_id beyond int64", lambda ls: [_huge_seq(line) for line in ls]),
    ):
        yield Case(
            "model: mmCIF damage",
            f"{tag} {label}",
            dmap,
            write(b"\n".join(edit(list(cif_lines))), ".cif"),
        )
    for label, data, suffix in (
        ("UTF-8 BOM mmCIF", b"\xef\xbb\xbf" + cif, ".cif"),
        ("UTF-8 BOM PDB", b"\xef\xbb\xbf" + pdb, ".pdb"),
        ("UTF-16 PDB", pdb.decode("ascii", "replace").encode("utf-16"), ".pdb"),
        ("CR-only PDB", pdb.replace(b"\n", b"\r"), ".pdb"),
        ("CRLF mmCIF", cif.replace(b"\n", b"\r\n"), ".cif"),
        ("latin-1 bytes in PDB names", pdb.replace(b" CA ", b" C\xc1 ", 3), ".pdb"),
        ("invalid UTF-8 in mmCIF", cif.replace(b" CA ", b" C\xff ", 3), ".cif"),
        ("no final newline", pdb.rstrip(b"\n"), ".pdb"),
        ("NUL bytes at the start", b"\0" * 16 + pdb, ".pdb"),
        ("gzip PDB", gzip.compress(pdb, mtime=0), ".pdb.gz"),
        ("gzip cut short", gzip.compress(cif, mtime=0)[:-30], ".cif.gz"),
    ):
        yield Case("model: encodings", f"{tag} {label}", dmap, write(data, suffix))


def _huge_seq(line: bytes) -> bytes:
    return (
        line.replace(b" 1 ", b" 99999999999999999999999 ", 1) if line.startswith(b"ATOM") else line
    )


def sized_model_cases(pdb: Path, dmap: str, write: _Writer) -> Iterator[Case]:
    """Models of odd sizes and placements."""
    model = read_model(pdb)
    centre = model.xyz.mean(axis=0)

    def moved(xyz: np.ndarray, label: str) -> Case:
        m = model.with_coordinates(xyz)
        return Case("model: sizes", label, dmap, write(pdb_text(m, m.b_iso).encode(), ".pdb"))

    yield moved((model.xyz - centre) * 0.1 + centre, "coordinates in nm")
    yield moved((model.xyz - centre) * 0.01 + centre, "atoms 100x too dense")
    yield moved(np.broadcast_to(centre, model.xyz.shape).copy(), "every atom at one point")
    yield moved(model.xyz + 5000.0, "model 5000 Å away")
    yield moved(model.xyz + [0.0, 0.0, 1000.0], "model beside the map")
    lines = pdb.read_bytes().split(b"\n")
    first_atom = next(line for line in lines if line.startswith(b"ATOM"))
    yield Case("model: sizes", "one atom", dmap, write(first_atom + b"\n", ".pdb"))
    hydrogen = first_atom[:76] + b" H" + first_atom[78:]
    yield Case("model: sizes", "only a hydrogen", dmap, write(hydrogen + b"\n", ".pdb"))
    yield Case("model: sizes", "empty file", dmap, write(b"", ".pdb"))
    yield Case("model: sizes", "only a header", dmap, write(b"HEADER    NOTHING\nEND\n", ".pdb"))
    comments = repeated_gzip(b"", b"#\n" * 2**20, 40)
    yield Case("model: sizes", "gzip mmCIF of comment lines", dmap, write(comments, ".cif.gz"))
    yield Case(
        "model: sizes",
        "100,000 comment lines then the model",
        dmap,
        write(b"# x\n" * 100_000 + _pdb_as_cif(pdb), ".cif"),
    )


def _pdb_as_cif(pdb: Path) -> bytes:
    return read_model(pdb).document.as_string().encode()


def build_cases(folder: Path, emd30342: Path | None) -> list[Case]:
    """Write every case's files under ``folder`` and return the cases, in a fixed order."""
    rng = np.random.default_rng(20240611)
    write = _Writer(folder)
    synthetic_map, synthetic_cif, synthetic_pdb = synthetic_pair(folder / "synthetic")
    cases = list(map_cases("synthetic", synthetic_map.read_bytes(), str(synthetic_pdb), write, rng))
    cases += odd_map_cases(str(synthetic_pdb), write, folder)
    cases += model_cases(
        "synthetic",
        synthetic_pdb.read_bytes(),
        synthetic_cif.read_bytes(),
        str(synthetic_map),
        write,
        rng,
    )
    cases += sized_model_cases(synthetic_pdb, str(synthetic_map), write)
    if emd30342 is not None:
        emd_map = emd30342 / "emd_30342_chainA_zone.mrc"
        emd_model = emd30342 / "7cec_chainA_first100atoms.cif"
        model = read_model(emd_model)
        emd_pdb = write(pdb_text(model, model.b_iso).encode(), ".pdb")
        raw = emd_map.read_bytes()
        few = [c for c in map_cases("EMD-30342", raw, emd_pdb, write, rng)]
        cases += few[::2]
        cases += model_cases(
            "7cec", Path(emd_pdb).read_bytes(), emd_model.read_bytes(), str(emd_map), write, rng
        )
    for i, case in enumerate(cases):
        if i % 7 == 3:
            cases[i] = Case(
                case.family,
                case.name + " (multi-process)",
                case.map,
                case.model,
                ("--mode", "mapq-multiprocess"),
            )
    return cases
