"""Tests of qscore.io.maps: MRC/CCP4 reading, writing, cropping and trilinear sampling."""

from __future__ import annotations

import gzip
import io
import itertools
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qscore.errors import MapContentError, MapFormatError, NoOverlapError, ParameterError
from qscore.io.maps import DensityMap, crop_map, map_box, read_map, sample, write_map
from tests.conftest import EMD30342_MAP, require

pytestmark = pytest.mark.filterwarnings("error")


PERMUTATIONS = list(itertools.permutations((1, 2, 3)))
DTYPES = {0: "i1", 1: "i2", 2: "f4", 6: "u2", 12: "f2"}


def build_mrc(
    values_zyx: np.ndarray,
    *,
    voxel: tuple[float, float, float] = (1.0, 1.0, 1.0),
    origin: tuple[float, float, float] = (0.0, 0.0, 0.0),
    nstart_xyz: tuple[int, int, int] = (0, 0, 0),
    axes: tuple[int, int, int] = (1, 2, 3),
    mode: int = 2,
    endian: str = "<",
    machst: bool = True,
    angles: tuple[float, float, float] = (90.0, 90.0, 90.0),
    sampling: tuple[int, int, int] | None = None,
    extended: bytes = b"",
) -> bytes:
    """MRC bytes holding a physical map stored in the file axis order ``axes`` (MAPC, MAPR, MAPS)."""
    values_zyx = np.asarray(values_zyx)
    nz, ny, nx = values_zyx.shape
    n_xyz = (nx, ny, nz)
    mapc, mapr, maps = axes
    stored = np.transpose(values_zyx, [(3, 2, 1).index(a) for a in (maps, mapr, mapc)])
    m_xyz = sampling or n_xyz
    ints = np.zeros(256, dtype=endian + "i4")
    floats = ints.view(endian + "f4")
    ints[0:3] = (n_xyz[mapc - 1], n_xyz[mapr - 1], n_xyz[maps - 1])
    ints[3] = mode
    ints[4:7] = (nstart_xyz[mapc - 1], nstart_xyz[mapr - 1], nstart_xyz[maps - 1])
    ints[7:10] = m_xyz
    floats[10:13] = np.array(m_xyz) * np.array(voxel)
    floats[13:16] = angles
    ints[16:19] = axes
    ints[23] = len(extended)
    floats[49:52] = origin
    raw = bytearray(ints.tobytes())
    raw[208:212] = b"MAP "
    stamp = b"\x44\x44\x00\x00" if endian == "<" else b"\x11\x11\x00\x00"
    raw[212:216] = stamp if machst else b"\x00\x00\x00\x00"
    data = np.ascontiguousarray(stored).astype(endian + DTYPES[mode]).tobytes()
    return bytes(raw) + extended + data


def header_only(**words: int | float) -> bytes:
    """A 1024-byte header (little-endian, float32 1×1×1) with selected words overwritten."""
    raw = bytearray(build_mrc(np.zeros((1, 1, 2), np.float32))[:1024])
    ints = np.frombuffer(raw, dtype="<i4").copy()
    floats = ints.view("<f4")
    for key, value in words.items():
        index = int(key[1:])
        if key[0] == "i":
            ints[index] = value
        else:
            floats[index] = value
    raw[:] = ints.tobytes()
    return bytes(raw)


def random_map(shape=(5, 6, 7), seed=0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def write_bytes(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------- DensityMap


def test_density_map_properties():
    dmap = DensityMap(np.zeros((4, 3, 2)), (1.0, 2.0, 3.0), (0.5, 1.0, 2.0))
    assert dmap.values.dtype == np.float32 and dmap.values.flags.c_contiguous
    assert dmap.shape_xyz == (2, 3, 4)
    np.testing.assert_array_equal(dmap.extent, [[1, 2, 3], [1.5, 4, 9]])
    np.testing.assert_array_equal(map_box(dmap), dmap.extent)
    np.testing.assert_array_equal(dmap.index_of([1.5, 4.0, 9.0]), [1, 2, 3])
    np.testing.assert_array_equal(dmap.index_of([[1, 2, 3], [2, 2, 3]]), [[0, 0, 0], [2, 0, 0]])


@pytest.mark.parametrize(
    ("values", "origin", "voxel"),
    [
        (np.zeros((2, 2)), (0, 0, 0), (1, 1, 1)),
        (np.zeros((0, 2, 2)), (0, 0, 0), (1, 1, 1)),
        (np.zeros((2, 2, 2)), (0, 0), (1, 1, 1)),
        (np.zeros((2, 2, 2)), (0, 0, np.nan), (1, 1, 1)),
        (np.zeros((2, 2, 2)), (0, 0, 0), (1, 0, 1)),
    ],
)
def test_density_map_rejects_bad_geometry(values, origin, voxel):
    with pytest.raises(ParameterError):
        DensityMap(values, origin, voxel)


# --------------------------------------------------------------------------- round trip, modes


@pytest.mark.parametrize("name", ["m.mrc", "m.map", "m.ccp4", "m.mrcs", "m.mrc.gz", "m.map.gz"])
def test_write_read_round_trip(tmp_path, name):
    values = random_map()
    dmap = DensityMap(values, (10.25, -3.5, 7.0), (1.1, 0.9, 1.3), source="x")
    path = tmp_path / name
    write_map(path, dmap)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")
    back = read_map(path)
    np.testing.assert_array_equal(back.values, values)
    np.testing.assert_allclose(back.origin, dmap.origin, rtol=1e-6)
    np.testing.assert_allclose(back.voxel_size, dmap.voxel_size, rtol=1e-6)
    assert back.source == name and back.notes == ()


def test_written_header_is_mrc2014(tmp_path):
    dmap = DensityMap(random_map(), (1.0, 2.0, 3.0), (1.0, 2.0, 3.0))
    write_map(tmp_path / "m.mrc", dmap)
    raw = (tmp_path / "m.mrc").read_bytes()
    ints = np.frombuffer(raw[:1024], "<i4")
    floats = np.frombuffer(raw[:1024], "<f4")
    assert list(ints[0:10]) == [7, 6, 5, 2, 1, 1, 1, 7, 6, 5]  # NSTART: origin on the lattice
    assert list(floats[10:16]) == [7.0, 12.0, 15.0, 90.0, 90.0, 90.0]
    assert list(ints[16:19]) == [1, 2, 3]
    assert list(floats[49:52]) == [1.0, 2.0, 3.0]
    assert ints[27] == 20140 and raw[208:212] == b"MAP " and raw[212] == 0x44
    assert len(raw) == 1024 + 4 * 5 * 6 * 7


def test_write_gzip_override(tmp_path):
    dmap = DensityMap(random_map(), (0, 0, 0), (1, 1, 1))
    write_map(tmp_path / "plain.mrc", dmap, gzip=True)
    write_map(tmp_path / "named.mrc.gz", dmap, gzip=False)
    assert (tmp_path / "plain.mrc").read_bytes()[:2] == b"\x1f\x8b"
    assert (tmp_path / "named.mrc.gz").read_bytes()[:2] != b"\x1f\x8b"
    for name in ("plain.mrc", "named.mrc.gz"):
        np.testing.assert_array_equal(read_map(tmp_path / name).values, dmap.values)


@pytest.mark.parametrize("mode", sorted(DTYPES))
@pytest.mark.parametrize("endian", ["<", ">"])
def test_every_mode_and_byte_order(mode, endian):
    data = np.arange(-30, 30).reshape(3, 4, 5)
    if mode == 6:
        data = data + 30000
    raw = build_mrc(data, mode=mode, endian=endian)
    dmap = read_map(raw)
    expected = data.astype(DTYPES[mode]).astype(np.float32)
    np.testing.assert_array_equal(dmap.values, expected)
    assert dmap.values.dtype == np.float32 and dmap.values.flags.c_contiguous


@pytest.mark.parametrize("endian", ["<", ">"])
def test_byte_order_detected_without_machine_stamp(endian):
    data = random_map()
    dmap = read_map(build_mrc(data, endian=endian, machst=False, origin=(1.0, 2.0, 3.0)))
    np.testing.assert_array_equal(dmap.values, data)
    np.testing.assert_array_equal(dmap.origin, [1, 2, 3])


def test_wrong_machine_stamp_is_overridden_with_a_note():
    data = random_map()
    raw = bytearray(build_mrc(data, endian=">"))
    raw[212:214] = b"\x44\x44"
    dmap = read_map(bytes(raw))
    np.testing.assert_array_equal(dmap.values, data)
    assert any("big-endian" in note for note in dmap.notes)


def test_extended_header_is_skipped():
    data = random_map()
    dmap = read_map(build_mrc(data, extended=b"\x07" * 96))
    np.testing.assert_array_equal(dmap.values, data)


# --------------------------------------------------------------------------- geometry


@pytest.mark.parametrize("axes", PERMUTATIONS)
def test_axis_permutations_give_the_same_physical_map(axes):
    data = random_map((4, 5, 6))
    kwargs = {"voxel": (1.0, 1.5, 2.0), "nstart_xyz": (3, -2, 5)}
    reference = read_map(build_mrc(data, **kwargs))
    dmap = read_map(build_mrc(data, axes=axes, **kwargs))
    np.testing.assert_array_equal(dmap.values, data)
    np.testing.assert_array_equal(dmap.origin, reference.origin)
    np.testing.assert_array_equal(dmap.origin, [3.0, -3.0, 10.0])
    np.testing.assert_array_equal(dmap.voxel_size, [1.0, 1.5, 2.0])
    pts = np.random.default_rng(1).uniform(-2, 20, size=(200, 3))
    np.testing.assert_array_equal(sample(dmap, pts), sample(reference, pts))


def test_origin_from_header_origin_wins_over_nstart():
    data = random_map()
    dmap = read_map(build_mrc(data, origin=(145.825, 0.0, 0.0), nstart_xyz=(4, 5, 6)))
    np.testing.assert_array_equal(dmap.origin, np.float32([145.825, 0, 0]).astype(np.float64))


def test_origin_from_nstart_when_header_origin_is_zero():
    dmap = read_map(build_mrc(random_map(), voxel=(0.5, 2.0, 1.25), nstart_xyz=(-10, 4, 8)))
    np.testing.assert_array_equal(dmap.origin, [-5.0, 8.0, 10.0])


def test_non_cubic_voxels_use_cell_over_sampling_per_axis():
    data = random_map((4, 5, 6))
    raw = build_mrc(data, voxel=(0.8, 1.2, 2.5), sampling=(12, 10, 8))
    dmap = read_map(raw)
    np.testing.assert_allclose(dmap.voxel_size, [0.8, 1.2, 2.5], rtol=1e-6)
    assert dmap.shape_xyz == (6, 5, 4)


def test_zero_cell_angles_are_taken_as_orthogonal():
    dmap = read_map(build_mrc(random_map(), angles=(0.0, 0.0, 0.0)))
    assert any("orthogonal" in note for note in dmap.notes)


# --------------------------------------------------------------------------- sources


def test_gzip_sources_agree(tmp_path):
    data = random_map()
    raw = build_mrc(data, origin=(1.0, 2.0, 3.0))
    packed = gzip.compress(raw)
    sources = [
        packed,
        bytearray(packed),
        io.BytesIO(packed),
        write_bytes(tmp_path, "a.mrc.gz", packed),
        write_bytes(tmp_path, "b.mrc", packed),
        str(write_bytes(tmp_path, "c.map", raw)),
        io.BytesIO(raw),
        memoryview(raw),
    ]
    for source in sources:
        dmap = read_map(source, name="upload.mrc")
        np.testing.assert_array_equal(dmap.values, data)
        np.testing.assert_array_equal(dmap.origin, [1, 2, 3])
        assert dmap.source == "upload.mrc"


def test_file_object_is_read_from_its_start():
    buffer = io.BytesIO(build_mrc(random_map()))
    buffer.read(100)
    assert read_map(buffer).shape_xyz == (7, 6, 5)


# --------------------------------------------------------------------------- sampling


def test_trilinear_matches_hand_computation():
    values = np.arange(24, dtype=np.float32).reshape(2, 3, 4) ** 2
    dmap = DensityMap(values, (1.0, -2.0, 0.5), (0.5, 1.0, 2.0))
    x, y, z = 1.0 + 0.5 * 1.25, -2.0 + 1.0 * 1.5, 0.5 + 2.0 * 0.75
    fx, fy, fz = 0.25, 0.5, 0.75
    v = values.astype(np.float64)
    expected = (
        (1 - fz) * ((1 - fy) * ((1 - fx) * v[0, 1, 1] + fx * v[0, 1, 2]))
        + (1 - fz) * (fy * ((1 - fx) * v[0, 2, 1] + fx * v[0, 2, 2]))
        + fz * ((1 - fy) * ((1 - fx) * v[1, 1, 1] + fx * v[1, 1, 2]))
        + fz * (fy * ((1 - fx) * v[1, 2, 1] + fx * v[1, 2, 2]))
    )
    got = sample(dmap, np.array([[x, y, z]]))
    assert got.dtype == np.float32
    assert got[0] == pytest.approx(expected, rel=1e-6)


def test_sample_grid_points_faces_and_outside():
    values = random_map((2, 3, 4))
    dmap = DensityMap(values, (1.0, -2.0, 0.5), (0.5, 1.0, 2.0))
    hi = dmap.extent[1]
    points = np.array(
        [
            dmap.origin,
            hi,
            [hi[0], -2.0 + 1.0, hi[2]],
            [hi[0] + 1e-9, hi[1], hi[2]],
            [1.0 - 1e-9, -2.0, 0.5],
            [1.2, -1.0, 0.5 - 0.01],
            [np.nan, 0.0, 1.0],
            [100.0, 100.0, 100.0],
        ]
    )
    got = sample(dmap, points)
    assert got[0] == values[0, 0, 0]
    assert got[1] == values[-1, -1, -1]
    assert got[2] == values[-1, 1, -1]
    np.testing.assert_array_equal(got[3:], 0.0)


def test_sample_single_voxel_thick_axis():
    values = np.array([[[1.0, 3.0]]], dtype=np.float32)
    dmap = DensityMap(values, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0))
    got = sample(dmap, np.array([[0.5, 0.0, 0.0], [0.5, 0.1, 0.0], [1.0, 0.0, 0.0]]))
    np.testing.assert_array_equal(got, [2.0, 0.0, 3.0])


def test_sample_accepts_a_single_point_and_refuses_bad_shapes():
    dmap = DensityMap(random_map(), (0, 0, 0), (1, 1, 1))
    assert sample(dmap, np.array([0.0, 0.0, 0.0])).shape == (1,)
    with pytest.raises(ParameterError):
        sample(dmap, np.zeros((4, 2)))


# --------------------------------------------------------------------------- cropping


@pytest.fixture(scope="module")
def dyadic_map(tmp_path_factory) -> tuple[Path, DensityMap]:
    """A map whose origin and voxel sizes are exact binary fractions, written to disk."""
    dmap = DensityMap(random_map((20, 24, 28), seed=3), (-3.25, 10.5, 2.0), (0.5, 1.25, 0.75))
    path = tmp_path_factory.mktemp("maps") / "dyadic.mrc"
    write_map(path, dmap)
    return path, dmap


lattice = st.integers(-1200, 2600).map(lambda k: k / 64)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    atoms=st.lists(st.tuples(lattice, lattice, lattice), min_size=1, max_size=4),
    margin=st.integers(0, 24).map(lambda k: k / 4),
    offsets=st.lists(
        st.tuples(*[st.integers(-64, 64).map(lambda k: k / 64)] * 3), min_size=1, max_size=20
    ),
)
def test_crop_equals_full_map_near_the_model(dyadic_map, atoms, margin, offsets):
    path, full = dyadic_map
    atoms = np.array(atoms)
    try:
        cropped = read_map(path, crop_to=atoms, margin=margin)
    except NoOverlapError:
        idx = full.index_of(atoms)
        assert not np.any(np.all((idx >= 0) & (idx <= np.array(full.shape_xyz) - 1), 1))
        return
    queries = (atoms[:, None, :] + margin * np.array(offsets)[None, :, :]).reshape(-1, 3)
    np.testing.assert_array_equal(sample(cropped, queries), sample(full, queries))
    start = np.rint(cropped.index_of(full.origin) * -1).astype(int)
    x0, y0, z0 = start
    nx, ny, nz = cropped.shape_xyz
    np.testing.assert_array_equal(
        cropped.values, full.values[z0 : z0 + nz, y0 : y0 + ny, x0 : x0 + nx]
    )
    np.testing.assert_array_equal(cropped.origin, full.origin + start * full.voxel_size)


@settings(max_examples=40, deadline=None)
@given(
    atom=st.tuples(*[st.floats(0.0, 1.0)] * 3),
    queries=st.lists(st.tuples(*[st.floats(-1.0, 1.0)] * 3), min_size=1, max_size=10),
)
def test_crop_matches_full_map_with_realistic_geometry(atom, queries):
    full = DensityMap(random_map((12, 14, 16), seed=5), (145.825, 112.825, 120.517), (1.113,) * 3)
    centre = full.origin + np.array(atom) * (np.array(full.shape_xyz) - 1) * full.voxel_size
    margin = 3.0
    raw = build_mrc(full.values, voxel=(1.113,) * 3, origin=tuple(full.origin))
    source = read_map(raw)
    cropped = read_map(raw, crop_to=centre[None, :], margin=margin)
    pts = centre + margin * np.array(queries)
    np.testing.assert_allclose(sample(cropped, pts), sample(source, pts), rtol=1e-6, atol=1e-6)


def test_crop_box_origin_and_note(dyadic_map):
    path, full = dyadic_map
    atom = full.origin + np.array([10, 5, 3]) * full.voxel_size
    cropped = read_map(path, crop_to=atom[None, :], margin=1.0)
    assert cropped.shape_xyz == (5, 3, 5)
    np.testing.assert_array_equal(
        cropped.origin, full.origin + np.array([8, 4, 1]) * full.voxel_size
    )
    np.testing.assert_array_equal(cropped.values, full.values[1:6, 4:7, 8:13])
    assert len(cropped.notes) == 1 and "cropped" in cropped.notes[0]


def test_crop_is_clipped_to_the_map(dyadic_map):
    path, full = dyadic_map
    far_corner = full.extent[1] + 3.0
    centre = full.extent.mean(axis=0)
    cropped = read_map(path, crop_to=np.array([full.origin - 2.0, centre, far_corner]), margin=8.0)
    np.testing.assert_array_equal(cropped.values, full.values)
    np.testing.assert_array_equal(cropped.origin, full.origin)


@pytest.mark.parametrize("axes", PERMUTATIONS)
def test_crop_with_permuted_axes_and_gzip(axes):
    data = random_map((10, 11, 12), seed=2)
    raw = build_mrc(data, axes=axes, voxel=(1.0, 2.0, 0.5), nstart_xyz=(2, 3, 4))
    atoms = np.array([[5.0, 12.0, 3.0], [8.0, 14.0, 4.0]])
    full = read_map(build_mrc(data, voxel=(1.0, 2.0, 0.5), nstart_xyz=(2, 3, 4)))
    plain = read_map(raw, crop_to=atoms, margin=1.0)
    packed = read_map(gzip.compress(raw), crop_to=atoms, margin=1.0)
    reference = crop_map(full, atoms.min(0) - 1.0, atoms.max(0) + 1.0)
    for dmap in (plain, packed):
        np.testing.assert_array_equal(dmap.values, reference.values)
        np.testing.assert_array_equal(dmap.origin, reference.origin)


def test_crop_map_helper(dyadic_map):
    _, full = dyadic_map
    lo = full.origin + np.array([2.2, 3.0, 4.9]) * full.voxel_size
    hi = full.origin + np.array([6.0, 7.5, 5.1]) * full.voxel_size
    sub = crop_map(full, lo, hi)
    assert sub.shape_xyz == (5, 6, 3)
    np.testing.assert_array_equal(sub.values, full.values[4:7, 3:9, 2:7])
    with pytest.raises(NoOverlapError):
        crop_map(full, full.extent[1] + 5.0, full.extent[1] + 6.0)


def test_model_outside_map_raises_no_overlap(dyadic_map):
    path, full = dyadic_map
    atoms = full.extent[1] + np.array([[20.0, 0.0, 0.0], [30.0, 5.0, 5.0]])
    with pytest.raises(NoOverlapError, match="The model lies entirely outside the map") as info:
        read_map(path, crop_to=atoms, margin=8.0)
    message = str(info.value)
    assert "map covers x -3.2 to 10.2, y 10.5 to 39.2" in message
    assert "model covers x 30.2 to 40.2" in message
    # Within the crop margin but outside the map is still outside: the overlap is decided first.
    with pytest.raises(NoOverlapError, match="lies entirely outside the map"):
        read_map(path, crop_to=full.extent[1] + np.array([[7.9, 0.0, 0.0]]), margin=8.0)


def test_crop_arguments_are_checked(dyadic_map):
    path, _ = dyadic_map
    with pytest.raises(ParameterError):
        read_map(path, crop_to=np.zeros((3, 2)))
    with pytest.raises(ParameterError):
        read_map(path, crop_to=np.zeros((1, 3)), margin=-1.0)
    with pytest.raises(NoOverlapError):
        read_map(path, crop_to=np.full((2, 3), np.nan))


# --------------------------------------------------------------------------- content


def test_nan_and_inf_voxels_are_refused():
    data = random_map()
    data[0, 0, :3] = np.nan
    data[1, 1, 1] = np.inf
    with pytest.raises(MapContentError, match="The map contains 3 NaN voxels and 1 infinite"):
        read_map(build_mrc(data))


def test_nan_outside_the_crop_is_ignored():
    data = random_map((10, 10, 10))
    data[9, 9, 9] = np.nan
    dmap = read_map(build_mrc(data), crop_to=np.array([[1.0, 1.0, 1.0]]), margin=1.0)
    assert np.isfinite(dmap.values).all()
    with pytest.raises(MapContentError, match="1 NaN voxels in the region around the model"):
        read_map(build_mrc(data), crop_to=np.array([[8.0, 8.0, 8.0]]), margin=1.0)


def test_constant_map_is_refused():
    with pytest.raises(MapContentError, match="constant"):
        read_map(build_mrc(np.full((3, 3, 3), 0.5, np.float32)), name="flat.mrc")


# --------------------------------------------------------------------------- bad input


def expect_format_error(source, match: str, **kwargs) -> str:
    with pytest.raises(MapFormatError, match=match) as info:
        read_map(source, **kwargs)
    message = str(info.value)
    assert "Traceback" not in message and message.endswith(".")
    return message


def test_missing_file_and_folder(tmp_path):
    expect_format_error(tmp_path / "nowhere.mrc", "does not exist")
    expect_format_error(tmp_path, "is a folder")


def test_empty_and_short_files(tmp_path):
    expect_format_error(write_bytes(tmp_path, "e.mrc", b""), "is empty")
    expect_format_error(b"", "is empty")
    expect_format_error(write_bytes(tmp_path, "s.mrc", b"\x00\x01" * 100), "only 200 bytes")
    expect_format_error(gzip.compress(b"\x00" * 10), "only 10 bytes")


def test_text_files_named_mrc(tmp_path):
    pdb = b"HEADER    PROTEIN\nATOM      1  N   ALA A   1      11.104   6.134  -6.504\n" * 30
    message = expect_format_error(write_bytes(tmp_path, "model.mrc", pdb), "atomic model")
    assert "HEADER" in message
    expect_format_error(b"data_7CEC\n#\n", "atomic model")
    expect_format_error(write_bytes(tmp_path, "notes.map", b"hello world\n"), "text file")


def test_truncated_file(tmp_path):
    raw = build_mrc(random_map())
    message = expect_format_error(write_bytes(tmp_path, "t.mrc", raw[:-4]), "is truncated")
    assert "7×6×5 voxels" in message and "836 bytes" in message
    expect_format_error(raw[:-1], "is truncated")
    expect_format_error(gzip.compress(raw[:-4]), "is truncated")
    expect_format_error(build_mrc(random_map(), extended=b"\0" * 64)[:1030], "is truncated")


@pytest.mark.parametrize(
    ("mode", "match"), [(3, "complex numbers"), (4, "complex numbers"), (7, "mode 7")]
)
def test_unsupported_modes(mode, match):
    expect_format_error(header_only(i3=mode) + b"\0" * 64, match)


@pytest.mark.parametrize(
    ("words", "match"),
    [
        ({"i0": 0}, "must be positive"),
        ({"i1": -5}, "must be positive"),
        ({"i0": 2**20, "i1": 2**20, "i2": 2**10}, "implausibly large"),
        ({"i16": 1, "i17": 1, "i18": 3}, "permutation of 1, 2, 3"),
        ({"i16": 0, "i17": 0, "i18": 0}, "permutation of 1, 2, 3"),
        ({"i7": 0}, "MX, MY, MZ"),
        ({"f10": 0.0}, "cell lengths"),
        ({"f11": -3.0}, "cell lengths"),
        ({"f12": float("nan")}, "cell lengths"),
        ({"f15": 200.0}, "impossible cell angles"),
        ({"f13": 150.0, "f14": 150.0, "f15": 150.0}, "impossible cell angles"),
        ({"f50": float("inf")}, "undefined origin"),
        ({"i23": -4}, "negative extended-header"),
    ],
)
def test_corrupt_headers(words, match):
    expect_format_error(header_only(**words) + b"\0" * 8, match)


def test_absurd_header_never_allocates(tmp_path):
    absurd = header_only(i0=2048, i1=2048, i2=2048) + b"\0" * 64
    path = write_bytes(tmp_path, "absurd.mrc", absurd)
    packed = gzip.compress(absurd)
    tracemalloc.start()
    try:
        for source in (path, absurd, packed, absurd[:1024]):
            with pytest.raises(MapFormatError, match="is truncated"):
                read_map(source, crop_to=np.zeros((1, 3)))
            with pytest.raises(MapFormatError, match="is truncated"):
                read_map(source)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20


def test_corrupt_and_incomplete_gzip(tmp_path):
    packed = gzip.compress(build_mrc(random_map((20, 20, 20))))
    broken = packed[:20] + bytes(b ^ 0x5A for b in packed[20:200]) + packed[200:]
    expect_format_error(write_bytes(tmp_path, "c.mrc.gz", broken), "corrupt")
    expect_format_error(packed[: len(packed) // 2], "incomplete")
    expect_format_error(b"\x1f\x8b" + b"\0" * 50, "corrupt")


# --------------------------------------------------------------------------- real data


@pytest.fixture
def real_map_path() -> Path:
    return require(EMD30342_MAP)


def test_real_map_header(real_map_path):
    dmap = read_map(real_map_path)
    assert dmap.shape_xyz == (89, 81, 63)
    assert dmap.values.shape == (63, 81, 89)
    np.testing.assert_allclose(dmap.voxel_size, [1.113] * 3, rtol=1e-6)
    np.testing.assert_allclose(dmap.origin, [145.825, 112.825, 120.517], atol=1e-4)
    assert dmap.source == "emd_30342_chainA_zone.mrc" and dmap.notes == ()


def test_real_map_crop_matches_full(real_map_path):
    full = read_map(real_map_path)
    centre = full.origin + 0.5 * (full.extent[1] - full.origin)
    cropped = read_map(real_map_path, crop_to=centre[None, :], margin=6.0)
    assert cropped.values.size < full.values.size
    pts = centre + np.random.default_rng(4).uniform(-6.0, 6.0, size=(500, 3))
    np.testing.assert_allclose(sample(cropped, pts), sample(full, pts), rtol=1e-6, atol=1e-7)


def test_crop_of_a_large_map_reads_only_the_box(tmp_path):
    n = 1024
    header = build_mrc(np.zeros((1, 1, 2), np.float32))[:1024]
    ints = np.frombuffer(header, "<i4").copy()
    ints[0:3] = n
    ints[7:10] = n
    ints.view("<f4")[10:13] = float(n)
    path = tmp_path / "large.mrc"
    with open(path, "wb") as handle:
        handle.write(ints.tobytes())
        try:
            handle.truncate(1024 + 4 * n**3)
        except OSError:
            pytest.skip("This file system cannot hold a sparse 4 GiB test file.")
        handle.seek(1024 + 4 * (500 * n * n + 501 * n + 502))
        handle.write(np.float32(7.5).tobytes())
    tracemalloc.start()
    try:
        dmap = read_map(path, crop_to=np.array([[502.0, 501.0, 500.0]]), margin=3.0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10 * 2**20
    assert dmap.shape_xyz == (7, 7, 7) and dmap.values[3, 3, 3] == 7.5
    np.testing.assert_array_equal(dmap.origin, [499.0, 498.0, 497.0])


def test_crop_map_box_larger_than_the_map_keeps_the_whole_map():
    dmap = DensityMap(
        np.arange(1000, dtype=np.float32).reshape(10, 10, 10), np.zeros(3), np.ones(3)
    )
    whole = crop_map(dmap, np.array([-5.0, -5.0, -5.0]), np.array([50.0, 50.0, 50.0]))
    np.testing.assert_array_equal(whole.values, dmap.values)
    np.testing.assert_array_equal(whole.origin, dmap.origin)
    with pytest.raises(NoOverlapError):
        crop_map(dmap, np.array([20.0, 20.0, 20.0]), np.array([30.0, 30.0, 30.0]))
