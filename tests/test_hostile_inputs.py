"""Regression tests for damaged, hostile and odd inputs: each once gave a silent wrong answer, a
traceback, a hang or a memory blow-up; each now gives a score or one sentence (exit 2)."""

from __future__ import annotations

import gzip
import os
import signal
import struct
import time
import tracemalloc
from pathlib import Path

import gemmi
import numpy as np
import pytest

from qscore import engine
from qscore.cli.main import main
from qscore.errors import MapContentError, MapFormatError, ModelFormatError, NoOverlapError
from qscore.io.export import pdb_text
from qscore.io.maps import DensityMap, read_map, write_map
from qscore.io.models import read_model
from tests.fuzz_cases import repeated_gzip, synthetic_pair, zero_map_gzip


@pytest.fixture(scope="module")
def pair(tmp_path_factory) -> tuple[Path, Path, Path]:
    """A 12-residue helix (mmCIF and PDB) and a map of Gaussians at its atoms, with noise."""
    return synthetic_pair(tmp_path_factory.mktemp("pair"))


def traced_peak(call) -> int:
    """Peak bytes Python allocated while ``call()`` ran (its exception, if any, is re-raised)."""
    tracemalloc.start()
    try:
        call()
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak


def cli(capsys, *args) -> tuple[int, str, str]:
    code = main(["score", *(str(a) for a in args)])
    out, err = capsys.readouterr()
    return code, out, err


def refused(capsys, *args, phrase: str) -> str:
    """Run ``qscore score``; assert exit 2 with one line holding ``phrase``; return that line."""
    code, _, err = cli(capsys, *args)
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert phrase.lower() in err.lower(), err
    return err


# --------------------------------------------------------------------------- maps: silent wrong answers


def gzip_members(raw: bytes) -> bytes:
    return gzip.compress(raw, mtime=0)


@pytest.mark.parametrize(
    "damage",
    ["flipped bit near the end", "wrong CRC", "wrong length", "missing trailer"],
)
def test_damaged_gzip_stream_is_refused_even_when_the_crop_ends_early(pair, tmp_path, damage):
    map_path, model_path, _ = pair
    dmap = read_map(map_path)
    # The map's first sections hold the model; a large empty tail follows it in the file.
    tail = np.zeros((80, *dmap.values.shape[1:]), np.float32)
    big = DensityMap(np.concatenate([dmap.values, tail]), dmap.origin, dmap.voxel_size)
    write_map(tmp_path / "big.mrc", big)
    packed = bytearray(gzip_members((tmp_path / "big.mrc").read_bytes()))
    if damage == "flipped bit near the end":
        packed[-40] ^= 0x10
    elif damage == "wrong CRC":
        packed[-8] ^= 0xFF
    elif damage == "wrong length":
        packed[-1] ^= 0x01
    else:
        packed = packed[:-8]
    bad = tmp_path / "bad.mrc.gz"
    bad.write_bytes(bytes(packed))
    model = read_model(model_path)
    with pytest.raises(MapFormatError, match="compressed map file"):
        read_map(bad, crop_to=model.xyz, margin=5.0)


@pytest.mark.parametrize(
    ("word", "value", "phrase"),
    [
        (0, -1, "more than its header describes"),  # NX one smaller: the file is longer
        (2, -1, "more than its header describes"),  # NZ one smaller
        (3, 1, "more than its header describes"),  # mode 2 -> 1 (2-byte voxels)
        (0, +1, "truncated"),  # NX one larger: the file is shorter
    ],
)
@pytest.mark.parametrize("packed", [False, True])
def test_map_length_must_match_the_header(pair, tmp_path, capsys, word, value, phrase, packed):
    map_path, model_path, _ = pair
    raw = bytearray(map_path.read_bytes())
    old = struct.unpack_from("<i", raw, 4 * word)[0]
    struct.pack_into("<i", raw, 4 * word, value if word == 3 else old + value)
    if word == 0:  # keep MX = NX so that the voxel size is unchanged
        struct.pack_into("<i", raw, 28, old + value)
    bad = tmp_path / ("bad.mrc.gz" if packed else "bad.mrc")
    bad.write_bytes(gzip_members(bytes(raw)) if packed else bytes(raw))
    refused(capsys, bad, model_path, phrase=phrase)


def test_extra_bytes_after_the_data_are_refused(pair, tmp_path, capsys):
    map_path, model_path, _ = pair
    bad = tmp_path / "long.mrc"
    bad.write_bytes(map_path.read_bytes() + b"\0" * 4096)
    refused(capsys, bad, model_path, phrase="4096 bytes more than its header describes")


def test_absent_extended_header_is_read_as_chimera_does(pair, tmp_path):
    map_path, _, _ = pair
    raw = bytearray(map_path.read_bytes())
    struct.pack_into("<i", raw, 92, 800)  # NSYMBT says 800 bytes that are not there
    (tmp_path / "nsymbt.mrc").write_bytes(bytes(raw))
    dmap = read_map(tmp_path / "nsymbt.mrc")
    np.testing.assert_array_equal(dmap.values, read_map(map_path).values)
    assert any("extended header" in note for note in dmap.notes)


@pytest.mark.parametrize(
    ("sampling", "phrase"),
    [((1, 0, 0), "times longer along one axis"), ((100, 100, 100), "coarser than")],
)
def test_absurd_voxel_sizes_are_explained(pair, tmp_path, capsys, sampling, phrase):
    """MX = 1 on a 100-voxel axis once gave Q 0.000 without a word."""
    map_path, model_path, _ = pair
    raw = bytearray(map_path.read_bytes())
    mx, my, mz = struct.unpack_from("<3i", raw, 28)
    if sampling == (1, 0, 0):
        struct.pack_into("<3i", raw, 28, 1, my, mz)
    else:  # every voxel 100 times too large
        cell = struct.unpack_from("<3f", raw, 40)
        struct.pack_into("<3f", raw, 40, *(100 * c for c in cell))
    bad = tmp_path / "voxel.mrc"
    bad.write_bytes(bytes(raw))
    refused(capsys, bad, model_path, phrase=phrase)


# --------------------------------------------------------------------------- models


def test_cr_only_line_endings_read_every_atom(pair, tmp_path):
    _, _, pdb = pair
    text = pdb.read_bytes()
    expected = read_model(pdb).n_atoms
    for ending in (b"\r", b"\r\n"):
        odd = tmp_path / "odd.pdb"
        odd.write_bytes(text.replace(b"\n", ending))
        assert read_model(odd).n_atoms == expected > 50


def test_non_utf8_bytes_in_a_pdb_record(pair, tmp_path, capsys):
    map_path, _, pdb = pair
    lines = pdb.read_bytes().split(b"\n")
    atom = next(i for i, line in enumerate(lines) if line.startswith(b"ATOM"))
    lines[atom] = lines[atom][:13] + b"\xe9\xff" + lines[atom][15:]  # the atom name
    lines.insert(0, b"REMARK   1 CAF\xc9 AU LAIT \xff\xfe")
    bad = tmp_path / "latin.pdb"
    bad.write_bytes(b"\n".join(lines))
    model = read_model(bad)
    assert model.n_atoms == read_model(pdb).n_atoms
    assert any("outside ASCII" in note for note in model.notes)
    code, out, err = cli(capsys, map_path, bad)
    assert code == 0 and "Traceback" not in err, err


def test_residue_number_beyond_int64(pair, tmp_path, capsys):
    map_path, model_path, _ = pair
    doc = gemmi.cif.read(str(model_path))
    column = doc.sole_block().find_values("_atom_site.auth_seq_id")
    column[0] = "99999999999999999999999"
    bad = tmp_path / "huge.cif"
    bad.write_text(doc.as_string())
    refused(capsys, map_path, bad, phrase="too large")


def test_utf8_byte_order_mark_before_mmcif(pair, tmp_path):
    _, model_path, _ = pair
    bom = tmp_path / "bom.cif"
    bom.write_bytes(b"\xef\xbb\xbf" + model_path.read_bytes())
    assert read_model(bom).n_atoms == read_model(model_path).n_atoms


@pytest.mark.parametrize(
    "content",
    [
        b"ATOM      1  N   ALA A   1      11.104  13.207\n",  # a short record: two lines from gemmi
        b"data_a\n_x 1\n_x 2\n",  # duplicate tag
        b"data_a\nloop_\n_atom_site.id\n_atom_site.Cartn_x\n1\n",  # wrong number of values
        b"data_a\n_x 'unterminated\n",
    ],
)
def test_parser_errors_are_one_sentence(pair, tmp_path, capsys, content):
    map_path, _, _ = pair
    bad = tmp_path / "bad.cif"
    bad.write_bytes(content)
    err = refused(capsys, map_path, bad, phrase="could not be read as a model")
    assert err.rstrip().endswith(").") and "string:" not in err


@pytest.fixture
def alarm():
    """Fail a test that blocks for 20 s instead of hanging the suite."""

    def timeout(*_):
        raise TimeoutError("blocked for 20 s")

    previous = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def test_fifo_and_devices_are_refused_without_blocking(pair, tmp_path, capsys, alarm):
    map_path, model_path, _ = pair
    fifo = tmp_path / "pipe.mrc"
    os.mkfifo(fifo)
    refused(capsys, fifo, model_path, phrase="named pipe")
    refused(capsys, map_path, fifo, phrase="not a regular file")
    refused(capsys, "/dev/zero", model_path, phrase="not a regular file")


# --------------------------------------------------------------------------- bounded memory and time


def test_gzip_map_inflating_one_huge_section_stays_small(tmp_path):
    """A 0.25 MB gzip map holding one 250 MB section (such a map once peaked at 2.2 GB)."""
    path = tmp_path / "section.mrc.gz"
    path.write_bytes(zero_map_gzip((8192, 7936, 1)))
    assert path.stat().st_size < 2**20
    start = time.perf_counter()

    def read() -> None:
        with pytest.raises(MapContentError, match="constant"):
            read_map(path, crop_to=np.array([[4000.0, 4000.0, 0.0]]), margin=5.0)

    assert traced_peak(read) < 64 * 2**20
    assert time.perf_counter() - start < 30


def test_gzip_map_expanding_a_thousandfold_is_refused_before_decompressing(tmp_path, capsys):
    path = tmp_path / "bomb.mrc.gz"
    path.write_bytes(zero_map_gzip((4096, 4096, 16)))
    assert path.stat().st_size < 2**20
    start = time.perf_counter()
    with pytest.raises(MapFormatError, match="more than 100-fold"):
        read_map(path, crop_to=np.array([[10.0, 10.0, 1.0]]))
    assert time.perf_counter() - start < 2


def test_gzip_model_of_comment_lines_is_refused_in_bounded_memory(tmp_path):
    """A 114 KB gzip mmCIF of '#' lines once took 8.8 GB (a regex and an unbounded gunzip)."""
    packed = repeated_gzip(b"", b"#\n" * 2**20, 60)
    assert len(packed) < 200 * 2**10
    path = tmp_path / "comments.cif.gz"
    path.write_bytes(packed)

    def read() -> None:
        with pytest.raises(ModelFormatError, match="expands to more than"):
            read_model(path)

    assert traced_peak(read) < 100 * 2**20


def test_many_leading_comment_lines_before_data_are_read(pair, tmp_path):
    _, model_path, _ = pair
    long = tmp_path / "comments.cif"
    long.write_bytes(b"# note\n" * 200_000 + model_path.read_bytes())
    start = time.perf_counter()
    assert read_model(long).n_atoms == read_model(model_path).n_atoms
    assert time.perf_counter() - start < 10


@pytest.mark.parametrize(("scale", "hint"), [(0.1, "in nm"), (0.01, "in nm"), (0.0, "stacked")])
def test_densely_packed_atoms_are_refused_early(pair, tmp_path, capsys, scale, hint):
    map_path, model_path, _ = pair
    model = read_model(model_path)
    squeezed = model.with_coordinates((model.xyz - model.xyz.mean(axis=0)) * scale)
    with pytest.raises(ModelFormatError, match="packed far too densely"):
        engine.score(read_map(map_path), squeezed)
    bad = tmp_path / "nm.pdb"
    bad.write_text(pdb_text(squeezed, squeezed.b_iso))
    start = time.perf_counter()
    refused(capsys, map_path, bad, phrase=hint)
    assert time.perf_counter() - start < 10


# --------------------------------------------------------------------------- outputs decided before work


def _many_atoms(path: Path, n: int) -> None:
    """An mmCIF of ``n`` carbon atoms 1.5 Å apart on a lattice (a valid, if odd, model)."""
    side = int(np.ceil(n ** (1 / 3)))
    k = np.arange(n)
    xyz = 1.5 * np.stack([k % side, (k // side) % side, k // side**2], axis=1)
    rows = "\n".join(
        f"HETATM {i + 1} C C1 LIG A {i + 1} {x:.3f} {y:.3f} {z:.3f} 1.00 20.00"
        for i, (x, y, z) in enumerate(xyz)
    )
    path.write_text(
        "data_big\nloop_\n_atom_site.group_PDB\n_atom_site.id\n_atom_site.type_symbol\n"
        "_atom_site.label_atom_id\n_atom_site.label_comp_id\n_atom_site.auth_asym_id\n"
        "_atom_site.auth_seq_id\n_atom_site.Cartn_x\n_atom_site.Cartn_y\n_atom_site.Cartn_z\n"
        f"_atom_site.occupancy\n_atom_site.B_iso_or_equiv\n{rows}\n"
    )


@pytest.mark.slow
def test_pdb_output_of_a_too_large_model_is_refused_before_scoring(
    pair, tmp_path, capsys, monkeypatch
):
    map_path, _, _ = pair
    model = tmp_path / "big.cif"
    _many_atoms(model, 100_000)

    def no_scoring(*_args, **_kwargs):
        raise AssertionError("scoring started before the outputs were checked")

    monkeypatch.setattr("qscore.pipeline.read_map", no_scoring)
    monkeypatch.setattr("qscore.pipeline.score", no_scoring)
    csv = tmp_path / "atoms.csv"
    refused(
        capsys,
        map_path,
        model,
        "--atoms-csv",
        csv,
        "--pdb",
        tmp_path / "q.pdb",
        phrase="PDB format",
    )
    assert not csv.exists() and not (tmp_path / "q.pdb").exists()


@pytest.mark.parametrize(
    ("option", "target", "phrase"),
    [
        ("--atoms-csv", "MAP", "is one of the input files"),
        ("--cif", "MODEL", "is one of the input files"),
        ("--pdb", "missing/q.pdb", "does not exist"),
        ("--json", ".", "is a folder"),
    ],
)
def test_output_paths_are_checked_before_reading(
    pair, tmp_path, capsys, monkeypatch, option, target, phrase
):
    map_path, model_path, _ = pair
    own_map, own_model = tmp_path / "map.mrc", tmp_path / "model.cif"
    own_map.write_bytes(map_path.read_bytes())
    own_model.write_bytes(model_path.read_bytes())
    path = {"MAP": own_map, "MODEL": own_model}.get(target, tmp_path / target)
    monkeypatch.setattr("qscore.pipeline.read_model", lambda *a, **k: pytest.fail("read first"))
    refused(capsys, own_map, own_model, option, path, phrase=phrase)
    assert own_map.read_bytes() == map_path.read_bytes()
    assert own_model.read_bytes() == model_path.read_bytes()


def test_two_outputs_to_one_file_are_refused(pair, tmp_path, capsys):
    map_path, model_path, _ = pair
    same = tmp_path / "out.txt"
    refused(
        capsys,
        map_path,
        model_path,
        "--atoms-csv",
        same,
        "--residues-csv",
        same,
        phrase="both name",
    )


# --------------------------------------------------------------------------- diagnosis order


def test_model_outside_a_map_with_empty_edges_is_said_to_be_outside(pair, tmp_path, capsys):
    """Atoms just outside the map, within the crop margin, over a zero border: once 'constant'."""
    map_path, model_path, _ = pair
    dmap = read_map(map_path)
    values = np.zeros_like(dmap.values)
    values[10:-10, 10:-10, 10:-10] = dmap.values[10:-10, 10:-10, 10:-10]
    write_map(tmp_path / "bordered.mrc", DensityMap(values, dmap.origin, dmap.voxel_size))
    model = read_model(model_path)
    beyond = dmap.extent[1] + 1.0 - model.xyz.min(axis=0)
    moved = model.with_coordinates(model.xyz + beyond)
    (tmp_path / "moved.pdb").write_text(pdb_text(moved, moved.b_iso))
    err = refused(
        capsys, tmp_path / "bordered.mrc", tmp_path / "moved.pdb", phrase="outside the map"
    )
    assert "constant" not in err and "the map covers x" in err and "the model covers x" in err
    with pytest.raises(NoOverlapError):
        read_map(tmp_path / "bordered.mrc", crop_to=moved.xyz, margin=8.0)


# --------------------------------------------------------------------------- found by the fuzz suite


@pytest.mark.parametrize("field", [b"********", b"        ", b"     nan"])
def test_unreadable_pdb_coordinates_are_refused_not_read_as_zero(pair, tmp_path, capsys, field):
    map_path, _, pdb = pair
    lines = pdb.read_bytes().split(b"\n")
    atom = next(i for i, line in enumerate(lines) if line.startswith(b"ATOM"))
    lines[atom] = lines[atom][:30] + field + lines[atom][38:]
    bad = tmp_path / "stars.pdb"
    bad.write_bytes(b"\n".join(lines))
    refused(capsys, map_path, bad, phrase=f"line {atom + 1}: the coordinates")


def test_pdb_output_refuses_coordinates_its_columns_cannot_hold(pair):
    from qscore.io.export import ExportError, check_pdb

    _, model_path, _ = pair
    model = read_model(model_path)
    check_pdb(model.with_coordinates(model.xyz - model.xyz.max(axis=0) + 9990.0))
    with pytest.raises(ExportError, match="8-character columns"):
        pdb_text(model.with_coordinates(model.xyz + 10000.0), model.b_iso)


def test_absurd_coordinates_are_refused(pair, tmp_path, capsys):
    """A coordinate of 1e300 Å once overflowed the neighbour search into a traceback."""
    map_path, _, pdb = pair
    lines = pdb.read_bytes().split(b"\n")
    atom = next(i for i, line in enumerate(lines) if line.startswith(b"ATOM"))
    lines[atom] = lines[atom][:30] + b"1.0e+300" + lines[atom][38:]
    bad = tmp_path / "far.pdb"
    bad.write_bytes(b"\n".join(lines))
    refused(capsys, map_path, bad, phrase="coordinate of 1e+300 Å")
