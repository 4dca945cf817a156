"""Strict MRC/CCP4 density-map I/O and the reference trilinear sampler.

A map is read into a :class:`DensityMap`: a float32 grid indexed ``[z, y, x]`` (the file's
MAPC/MAPR/MAPS axis order already resolved), the Cartesian origin of voxel ``[0, 0, 0]`` and the
voxel size, both in Å and in x, y, z order. The origin follows Chimera's (and so MapQ's) MRC
convention: the header ORIGIN when it is non-zero, else NSTART times the voxel size.

Headers are parsed and validated here rather than by a third-party reader, so that every
problem becomes a :class:`~qscore.errors.MapFormatError` whose message a biologist can act on,
and so that no array is allocated before the header's sizes have been checked against the data
actually present.
"""

from __future__ import annotations

import contextlib
import gzip as _gzip
import io
import math
import os
import stat
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

import numpy as np

from qscore import defaults
from qscore.errors import MapContentError, MapFormatError, NoOverlapError, ParameterError

__all__ = [
    "DensityMap",
    "cell_angles",
    "cell_axes",
    "crop_map",
    "map_box",
    "read_map",
    "sample",
    "write_map",
]

HEADER_BYTES = 1024
#: Largest grid accepted (voxels). Anything larger is a corrupt header, not a cryo-EM map.
MAX_VOXELS = 2**34
#: MRC data modes read here: mode -> (NumPy kind, description).
MODES: dict[int, tuple[str, str]] = {
    0: ("i1", "8-bit signed integer"),
    1: ("i2", "16-bit signed integer"),
    2: ("f4", "32-bit float"),
    6: ("u2", "16-bit unsigned integer"),
    12: ("f2", "16-bit float"),
}
_COMPLEX_MODES = {3, 4}
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 24
#: Decompressed bytes handled at a time when streaming a gzip map.
_STREAM_CHUNK = 1 << 22
#: gzip cannot expand data more than about 1032-fold.
GZIP_MAX_RATIO = 1100
#: A compressed map may expand without question up to this many bytes around the model, and
#: beyond it at most MAX_INFLATION-fold its compressed size (denser means an almost constant file).
INFLATION_FLOOR = 256 * 2**20
MAX_INFLATION = 100
_ANGLE_TOLERANCE = 0.01
_RIGHT_ANGLES = (90.0, 90.0, 90.0)
#: Voxel sizes (Å) outside these bounds, or more anisotropic than this ratio, mean a corrupt cell.
MAX_VOXEL_SIZE = 20.0
MIN_VOXEL_SIZE = 0.02
MAX_VOXEL_ASPECT = 10.0
#: Rounding allowance (in voxels) when deciding whether a point lies on the map's faces.
_EDGE = 1e-3
_TEXT_BYTES = frozenset(range(32, 127)) | {9, 10, 12, 13}

MapSource = str | os.PathLike | bytes | bytearray | memoryview | IO[bytes]
#: A readable binary stream: an open file or a gzip stream over one.
_Stream = IO[bytes] | _gzip.GzipFile


@dataclass(frozen=True, eq=False)
class DensityMap:
    """A density grid with its placement in Cartesian space.

    ``values`` is C-contiguous float32 indexed ``[z, y, x]``; ``origin`` is the position (Å) of
    voxel ``[0, 0, 0]`` and ``voxel_size`` the spacing (Å), both as x, y, z. ``axes`` is a 3×3
    matrix whose column ``a`` is the Cartesian unit vector along grid axis ``a`` (x, y, z); it is
    the identity for an orthogonal cell (the default) and skewed for cells with angles other than
    90°. Voxel ``(i, j, k)`` (x, y, z order) sits at ``origin + axes @ (voxel_size * (i, j, k))``.
    """

    values: np.ndarray
    origin: np.ndarray
    voxel_size: np.ndarray
    source: str = ""
    notes: tuple[str, ...] = field(default=())
    axes: np.ndarray = field(default_factory=lambda: np.eye(3))

    def __post_init__(self) -> None:
        values = np.ascontiguousarray(self.values, dtype=np.float32)
        origin = np.array(self.origin, dtype=np.float64).reshape(-1)
        voxel = np.array(self.voxel_size, dtype=np.float64).reshape(-1)
        if values.ndim != 3 or min(values.shape) < 1:
            raise ParameterError(
                f"A density map needs a non-empty 3D grid; got an array of shape {values.shape}."
            )
        if origin.shape != (3,) or not np.all(np.isfinite(origin)):
            raise ParameterError("A density map origin must be three finite numbers (x, y, z).")
        if voxel.shape != (3,) or not np.all(np.isfinite(voxel) & (voxel > 0)):
            raise ParameterError("A density map voxel size must be three positive numbers (Å).")
        axes = np.eye(3) if self.axes is None else np.array(self.axes, dtype=np.float64)
        if (
            axes.shape != (3, 3)
            or not np.all(np.isfinite(axes))
            or not np.allclose(np.linalg.norm(axes, axis=0), 1.0, atol=1e-6)
            or np.linalg.det(axes) <= 1e-6
        ):
            raise ParameterError(
                "A density map's axes must be three right-handed unit vectors (a 3×3 matrix)."
            )
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "origin", origin)
        object.__setattr__(self, "voxel_size", voxel)
        object.__setattr__(self, "notes", tuple(self.notes))
        object.__setattr__(self, "axes", axes)

    @property
    def is_orthogonal(self) -> bool:
        """True when the grid axes are the Cartesian x, y, z axes (cell angles of 90°)."""
        return bool(np.array_equal(self.axes, np.eye(3)))

    @property
    def to_index(self) -> np.ndarray:
        """3×3 matrix taking a Cartesian offset from the origin to grid-axis distances (Å).

        Divided by ``voxel_size`` this gives fractional voxel indices; it is exactly the identity
        for an orthogonal cell, so orthogonal maps are sampled with unchanged arithmetic.
        """
        return np.eye(3) if self.is_orthogonal else np.linalg.inv(self.axes)

    @property
    def shape_xyz(self) -> tuple[int, int, int]:
        """Grid size along x, y, z."""
        nz, ny, nx = self.values.shape
        return (nx, ny, nz)

    @property
    def extent(self) -> np.ndarray:
        """(2, 3) array: Cartesian centres (Å) of the first and the last voxel."""
        last = self.origin + self.axes @ ((np.array(self.shape_xyz) - 1) * self.voxel_size)
        return np.stack([self.origin, last])

    def index_of(self, xyz: np.ndarray) -> np.ndarray:
        """Fractional grid index (x, y, z order) of Cartesian point(s) ``xyz``."""
        return _fractional_index(self.origin, self.voxel_size, self.axes, xyz)


def map_box(dmap: DensityMap) -> np.ndarray:
    """(2, 3) array of the min and max Cartesian coordinates (Å) of the map's voxel centres.

    For an orthogonal cell these are the first and last voxel (``dmap.extent``); for a skewed
    cell, the box around the eight corners of its parallelepiped.
    """
    return _grid_bounds(dmap.origin, dmap.voxel_size, dmap.axes, np.array(dmap.shape_xyz))


# --------------------------------------------------------------------------- header


@dataclass(frozen=True)
class _Header:
    """The validated fields of an MRC header that placement and reading need."""

    endian: str
    mode: int
    n_file: tuple[int, int, int]  # (NS, NR, NC): array-axis order of the stored data
    axes_file: tuple[int, int, int]  # (MAPS, MAPR, MAPC): Cartesian axis (1=x) of each
    nstart_file: tuple[int, int, int]
    sampling: tuple[int, int, int]  # MX, MY, MZ
    cell: tuple[float, float, float]
    angles: tuple[float, float, float]
    origin: tuple[float, float, float]
    nsymbt: int
    notes: tuple[str, ...]

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.endian + MODES[self.mode][0])

    @property
    def n_voxels(self) -> int:
        return math.prod(self.n_file)

    @property
    def data_bytes(self) -> int:
        return self.n_voxels * self.dtype.itemsize

    @property
    def data_offset(self) -> int:
        return HEADER_BYTES + self.nsymbt

    @property
    def n_xyz(self) -> np.ndarray:
        return _file_to_xyz(self.n_file, self.axes_file)

    @property
    def voxel_size(self) -> np.ndarray:
        return np.array(self.cell, dtype=np.float64) / np.array(self.sampling, dtype=np.float64)

    @property
    def axes(self) -> np.ndarray:
        """Unit vectors of the cell axes a, b, c as columns (the identity for 90° cells)."""
        return cell_axes(self.angles)

    @property
    def map_origin(self) -> np.ndarray:
        """Chimera's convention: ORIGIN if any component is non-zero, else NSTART voxels along
        the (possibly skewed) cell axes."""
        origin = np.array(self.origin, dtype=np.float64)
        if np.any(origin != 0):
            return origin
        offset = _file_to_xyz(self.nstart_file, self.axes_file) * self.voxel_size
        return offset if self.angles == _RIGHT_ANGLES else self.axes @ offset


def _file_to_xyz(
    per_file_axis: tuple[int, int, int], axes_file: tuple[int, int, int]
) -> np.ndarray:
    """Reorder a per-file-axis triple into Cartesian x, y, z order."""
    out = np.zeros(3, dtype=np.float64)
    for value, axis in zip(per_file_axis, axes_file, strict=True):
        out[axis - 1] = value
    return out


def _looks_like_text(raw: bytes) -> bool:
    return len(raw) > 0 and all(b in _TEXT_BYTES for b in raw[:HEADER_BYTES])


def _machst_endian(raw: bytes) -> str | None:
    first = raw[212]
    if first in (0x44, 0x41):
        return "<"
    if first == 0x11:
        return ">"
    return None


def _plausible(raw: bytes, endian: str) -> bool:
    words = np.frombuffer(raw, dtype=endian + "i4", count=4)
    return 0 <= int(words[3]) <= 16 and all(0 < int(n) <= 2**24 for n in words[:3])


def _choose_endian(raw: bytes) -> tuple[str, tuple[str, ...]]:
    """Byte order from MACHST when it gives a sane header, else from header sanity."""
    stamp = _machst_endian(raw)
    if stamp is not None and _plausible(raw, stamp):
        return stamp, ()
    little, big = _plausible(raw, "<"), _plausible(raw, ">")
    if little != big:
        endian = "<" if little else ">"
        if stamp is None:
            return endian, ()
        word = "little" if endian == "<" else "big"
        return endian, (
            f"The header's machine stamp is wrong; the data were read as {word}-endian.",
        )
    return stamp or "<", ()


def _too_short_message(label: str, size: int) -> str:
    if size == 0:
        return f"The map file {label} is empty (0 bytes). Download or export it again."
    return (
        f"The map file {label} is only {size} bytes long, shorter than the 1024-byte MRC header; "
        "it is not a complete MRC/CCP4 map. Download or export it again."
    )


def _text_message(label: str, raw: bytes) -> str:
    head = raw[:40].decode("ascii", "replace").split("\n")[0].strip()
    kind = "an atomic model or other text file"
    if head.startswith(("data_", "ATOM", "HETATM", "HEADER", "CRYST1", "REMARK")):
        kind = "an atomic model (PDB/mmCIF text)"
    return (
        f"The file {label} looks like {kind}, not a binary MRC/CCP4 density map "
        f"(it starts with {head!r}). Choose the .mrc/.map file instead."
    )


def _parse_header(raw: bytes, label: str) -> _Header:
    """Decode and validate the 1024-byte header; ``raw`` must be at least that long."""
    if _looks_like_text(raw):
        raise MapFormatError(_text_message(label, raw))
    endian, notes = _choose_endian(raw)
    ints = np.frombuffer(raw, dtype=endian + "i4", count=256)
    floats = np.frombuffer(raw, dtype=endian + "f4", count=256)
    nc, nr, ns, mode = (int(v) for v in ints[0:4])
    _check_mode(mode, label)
    _check_dims((nc, nr, ns), label)
    mapc, mapr, maps = (int(v) for v in ints[16:19])
    if sorted((mapc, mapr, maps)) != [1, 2, 3]:
        raise MapFormatError(
            f"The map file {label} has an invalid axis order (MAPC, MAPR, MAPS = {mapc}, {mapr}, "
            f"{maps}); it must be a permutation of 1, 2, 3. The header is corrupt."
        )
    sampling = tuple(int(v) for v in ints[7:10])
    cell = tuple(float(v) for v in floats[10:13])
    angles, angle_notes = _check_cell(sampling, cell, tuple(float(v) for v in floats[13:16]), label)
    _check_voxel(
        np.array(cell) / np.array(sampling),
        "cell {:g} × {:g} × {:g} Å over MX, MY, MZ = {}, {}, {}".format(*cell, *sampling),
        label,
    )
    origin = tuple(float(v) for v in floats[49:52])
    if not all(math.isfinite(v) for v in origin):
        raise MapFormatError(
            f"The map file {label} has an undefined origin {origin} in its header; the header "
            "is corrupt."
        )
    nsymbt = int(ints[23])
    if nsymbt < 0:
        raise MapFormatError(
            f"The map file {label} declares a negative extended-header length ({nsymbt} bytes); "
            "the header is corrupt."
        )
    return _Header(
        endian=endian,
        mode=mode,
        n_file=(ns, nr, nc),
        axes_file=(maps, mapr, mapc),
        nstart_file=(int(ints[6]), int(ints[5]), int(ints[4])),
        sampling=sampling,  # type: ignore[arg-type]
        cell=cell,  # type: ignore[arg-type]
        angles=angles,
        origin=origin,  # type: ignore[arg-type]
        nsymbt=nsymbt,
        notes=notes + angle_notes,
    )


def _check_mode(mode: int, label: str) -> None:
    if mode in MODES:
        return
    supported = ", ".join(f"{m} ({desc})" for m, (_, desc) in MODES.items())
    if mode in _COMPLEX_MODES:
        raise MapFormatError(
            f"The map file {label} holds complex numbers (MRC mode {mode}), such as a Fourier "
            f"transform, not a real-space density map. Supported modes: {supported}."
        )
    raise MapFormatError(
        f"The map file {label} uses MRC data mode {mode}, which is not supported or means the "
        f"header is corrupt. Supported modes: {supported}."
    )


def _check_dims(dims: tuple[int, int, int], label: str) -> None:
    if min(dims) <= 0:
        raise MapFormatError(
            f"The map file {label} declares a grid of {dims[0]}×{dims[1]}×{dims[2]} voxels; every "
            "dimension must be positive. The header is corrupt."
        )
    if math.prod(dims) > MAX_VOXELS:
        raise MapFormatError(
            f"The map file {label} declares an implausibly large grid of "
            f"{dims[0]}×{dims[1]}×{dims[2]} voxels (more than 2^34); the header is corrupt."
        )


def _check_cell(
    sampling: tuple[int, ...], cell: tuple[float, ...], angles: tuple[float, ...], label: str
) -> tuple[tuple[float, float, float], tuple[str, ...]]:
    """Refuse non-positive voxel sizes and impossible cells; return the angles to use."""
    if min(sampling) <= 0:
        raise MapFormatError(
            f"The map file {label} declares a sampling grid (MX, MY, MZ) of {sampling}; all three "
            "must be positive to define a voxel size. The header is corrupt."
        )
    if not all(math.isfinite(c) and c > 0 for c in cell):
        raise MapFormatError(
            f"The map file {label} declares cell lengths {cell} Å; all three must be positive to "
            "define a voxel size. The header is corrupt."
        )
    if not all(math.isfinite(a) for a in angles):
        raise MapFormatError(f"The map file {label} has undefined cell angles {angles}.")
    if all(a == 0 for a in angles):
        note = "The header's cell angles are 0; an orthogonal cell (90°, 90°, 90°) was assumed."
        return _RIGHT_ANGLES, (note,)
    if all(abs(a - 90.0) <= _ANGLE_TOLERANCE for a in angles):
        return _RIGHT_ANGLES, ()
    alpha, beta, gamma = angles
    if not _possible_cell(angles):
        raise MapFormatError(
            f"The map file {label} has impossible cell angles ({alpha:g}°, {beta:g}°, "
            f"{gamma:g}°): each must lie between 0° and 180° and the three must describe a "
            "cell of positive volume. The header is corrupt."
        )
    return (alpha, beta, gamma), ()


def _possible_cell(angles: tuple[float, ...]) -> bool:
    """Whether three cell angles (degrees) describe a parallelepiped of positive volume."""
    if not all(0.0 < a < 180.0 for a in angles):
        return False
    ca, cb, cg = (math.cos(math.radians(a)) for a in angles)
    return 1.0 - ca * ca - cb * cb - cg * cg + 2.0 * ca * cb * cg > 1e-9


def cell_axes(angles: tuple[float, float, float] | np.ndarray) -> np.ndarray:
    """Unit vectors of the cell axes a, b, c (columns) for cell angles α, β, γ in degrees.

    The crystallographic convention of CCP4 and Chimera: a along x, b in the xy plane at γ from
    a, c at β from a and α from b. Angles of exactly 90° give exactly the identity.

    Parameters
    ----------
    angles : sequence of float
        α (between b and c), β (between a and c) and γ (between a and b), in degrees.

    Returns
    -------
    numpy.ndarray
        3×3 matrix whose column ``k`` is the Cartesian unit vector of cell axis ``k``.

    Raises
    ------
    ParameterError
        If the angles do not describe a cell of positive volume.
    """
    alpha, beta, gamma = (float(a) for a in angles)
    if (alpha, beta, gamma) == _RIGHT_ANGLES:
        return np.eye(3)
    if not _possible_cell((alpha, beta, gamma)):
        raise ParameterError(
            f"Cell angles ({alpha:g}°, {beta:g}°, {gamma:g}°) do not describe a cell of "
            "positive volume."
        )
    ca, cb, cg = (math.cos(math.radians(a)) for a in (alpha, beta, gamma))
    sg = math.sin(math.radians(gamma))
    cy = (ca - cb * cg) / sg
    cz = math.sqrt(max(1.0 - cb * cb - cy * cy, 0.0))
    return np.array([[1.0, cg, cb], [0.0, sg, cy], [0.0, 0.0, cz]])


def cell_angles(axes: np.ndarray) -> tuple[float, float, float]:
    """Cell angles α, β, γ (degrees) between the columns of an axes matrix; 90° exactly for
    the identity."""
    axes = np.asarray(axes, dtype=np.float64)
    if np.array_equal(axes, np.eye(3)):
        return _RIGHT_ANGLES

    def angle(u: np.ndarray, v: np.ndarray) -> float:
        cosine = float(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v)))
        return math.degrees(math.acos(min(1.0, max(-1.0, cosine))))

    a, b, c = axes.T
    return (angle(b, c), angle(a, c), angle(a, b))


def _check_voxel(voxel: np.ndarray, header_words: str, label: str) -> None:
    """Refuse voxel sizes no density map has: they come from a corrupt cell or sampling."""
    coarse, fine = float(voxel.max()), float(voxel.min())
    sizes = " × ".join(f"{v:.4g}" for v in voxel)
    if coarse > MAX_VOXEL_ASPECT * fine:
        raise MapFormatError(
            f"The map file {label} has voxels of {sizes} Å ({header_words}), {coarse / fine:.3g} "
            "times longer along one axis than along another; density maps have (nearly) cubic "
            "voxels, so the header's cell or sampling (MX, MY, MZ) is probably corrupt."
        )
    if coarse > MAX_VOXEL_SIZE:
        raise MapFormatError(
            f"The map file {label} has voxels of {sizes} Å ({header_words}); voxels coarser "
            f"than {MAX_VOXEL_SIZE:g} Å cannot resolve atoms, so Q-scores (which sample within "
            "2 Å of each atom) would be meaningless. The header's cell or sampling (MX, MY, MZ) "
            "is probably corrupt."
        )
    if fine < MIN_VOXEL_SIZE:
        raise MapFormatError(
            f"The map file {label} has voxels of {sizes} Å ({header_words}); no density map is "
            f"sampled finer than {MIN_VOXEL_SIZE:g} Å. The header's cell or sampling (MX, MY, "
            "MZ) is probably corrupt."
        )


def _length_message(label: str, header: _Header, available: int) -> str:
    """The sentence for data shorter (truncated) or longer than the header describes."""
    ns, nr, nc = header.n_file
    described = (
        f"{nc}×{nr}×{ns} voxels of {header.dtype.itemsize} byte(s) ({header.data_bytes} bytes "
        f"of data, mode {header.mode}, after {header.data_offset} bytes of headers)"
    )
    if available < header.data_bytes:
        return (
            f"The map file {label} is truncated: its header describes {described} but the file "
            f"holds only {max(available, 0)} bytes of data. The download or export was probably "
            "interrupted; get the map again."
        )
    return (
        f"The map file {label} holds {available - header.data_bytes} bytes more than its header "
        f"describes ({described}), so the header's grid size or data mode is wrong and the "
        "voxels cannot be placed. Export the map again."
    )


class _MissingExtendedHeader(Exception):
    """The data fill the file exactly only if the declared extended header is absent."""


def _check_length(label: str, header: _Header, available: int) -> _Header:
    """The header to read with, given ``available`` bytes after the declared headers.

    The data must fill the rest of the file exactly. As in Chimera, a file whose header declares
    an extended header that is absent (some early EMDB entries) is read from byte 1024.
    """
    if available == header.data_bytes:
        return header
    if header.nsymbt and available + header.nsymbt == header.data_bytes:
        note = (
            f"The header declares a {header.nsymbt}-byte extended header that the file does not "
            "hold; the data were read from byte 1024."
        )
        return replace(header, nsymbt=0, notes=(*header.notes, note))
    raise MapFormatError(_length_message(label, header, available))


# --------------------------------------------------------------------------- cropping geometry


def _fractional_index(
    origin: np.ndarray, voxel: np.ndarray, axes: np.ndarray, points: np.ndarray
) -> np.ndarray:
    """Fractional grid indices (x, y, z order) of Cartesian points; exact for 90° cells.

    For a skewed cell the offset goes through the index matrix one row at a time, summed left to
    right as the compiled kernel does, so both give the same index to the last bit.
    """
    offset = np.asarray(points, dtype=np.float64) - origin
    if not np.array_equal(axes, np.eye(3)):
        m, (ox, oy, oz) = np.linalg.inv(axes), np.moveaxis(offset, -1, 0)
        offset = np.stack([m[r, 0] * ox + m[r, 1] * oy + m[r, 2] * oz for r in range(3)], -1)
    return offset / voxel


def _index_pad(voxel: np.ndarray, axes: np.ndarray, margin: float) -> np.ndarray:
    """Fractional-index reach of a ``margin`` Å sphere along each (possibly skewed) grid axis."""
    if np.array_equal(axes, np.eye(3)):
        return margin / voxel
    return margin * np.linalg.norm(np.linalg.inv(axes), axis=1) / voxel


def _index_box(
    origin: np.ndarray,
    voxel: np.ndarray,
    axes: np.ndarray,
    n_xyz: np.ndarray,
    points: np.ndarray,
    margin: float,
    what: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Voxel box ``[start, stop)`` (x, y, z) covering ``points`` ± ``margin`` Å, clipped to the map.

    For a skewed cell the box is taken in voxel indices, so it covers the parallelepiped of the
    points. When no point lies inside the map, the model and map do not overlap and
    :class:`NoOverlapError` is raised (before the map's content is looked at).
    """
    pts = _as_points(points)
    finite = pts[np.all(np.isfinite(pts), axis=1)]
    if finite.shape[0] == 0:
        raise NoOverlapError(f"The {what} has no coordinates to place in the map.")
    idx = _fractional_index(origin, voxel, axes, finite)
    if not np.any(np.all((idx >= -_EDGE) & (idx <= n_xyz - 1 + _EDGE), axis=1)):
        raise NoOverlapError(_no_overlap_message(origin, voxel, axes, n_xyz, finite, what))
    pad = _index_pad(voxel, axes, margin)
    near = np.all((idx >= -pad) & (idx <= n_xyz - 1 + pad), axis=1)
    lo = np.floor(idx[near].min(axis=0) - pad)
    hi = np.ceil(idx[near].max(axis=0) + pad)
    start = np.clip(lo, 0, n_xyz - 1).astype(np.int64)
    stop = np.clip(hi, 0, n_xyz - 1).astype(np.int64) + 1
    return start, stop


def _as_points(points: np.ndarray) -> np.ndarray:
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim == 1 and pts.shape[0] == 3:
        pts = pts.reshape(1, 3)
    if pts.ndim != 2 or pts.shape[1] != 3:
        raise ParameterError(f"Points must be an (n, 3) array of x, y, z in Å; got {pts.shape}.")
    return pts


def _box_text(lo: np.ndarray, hi: np.ndarray) -> str:
    return ", ".join(f"{ax} {a:.1f} to {b:.1f}" for ax, a, b in zip("xyz", lo, hi, strict=True))


def _grid_bounds(
    origin: np.ndarray, voxel: np.ndarray, axes: np.ndarray, n_xyz: np.ndarray
) -> np.ndarray:
    """(2, 3) Cartesian bounding box of the voxel centres (the 8 corners of a skewed cell)."""
    span = (np.asarray(n_xyz, dtype=np.float64) - 1) * voxel
    if np.array_equal(axes, np.eye(3)):
        return np.stack([origin, origin + span])
    corners = np.array(list(np.ndindex(2, 2, 2)), dtype=np.float64) * span
    cartesian = origin + corners @ axes.T
    return np.stack([cartesian.min(axis=0), cartesian.max(axis=0)])


def _no_overlap_message(
    origin: np.ndarray,
    voxel: np.ndarray,
    axes: np.ndarray,
    n_xyz: np.ndarray,
    pts: np.ndarray,
    what: str,
) -> str:
    lo, hi = _grid_bounds(origin, voxel, axes, n_xyz)
    skew = "" if np.array_equal(axes, np.eye(3)) else " (the box around its skewed cell)"
    return (
        f"The {what} lies entirely outside the map: the map covers {_box_text(lo, hi)} Å{skew} "
        f"and the {what} covers {_box_text(pts.min(axis=0), pts.max(axis=0))} Å. Check that "
        "this model was fitted into this map and that the map's origin is right."
    )


def inside_map(dmap: DensityMap, xyz: np.ndarray) -> np.ndarray:
    """Mask of the points that lie inside the map's grid (a parallelepiped for skewed cells).

    Parameters
    ----------
    dmap : DensityMap
        The map.
    xyz : numpy.ndarray
        (n, 3) Cartesian points in Å.

    Returns
    -------
    numpy.ndarray
        Boolean mask, true where a point lies within the first and last voxel centres on every
        grid axis (the region where trilinear sampling is defined).
    """
    idx = dmap.index_of(_as_points(xyz))
    return np.all((idx >= 0) & (idx <= np.array(dmap.shape_xyz) - 1), axis=1)


def outside_message(dmap: DensityMap, xyz: np.ndarray, what: str = "model") -> str:
    """The sentence for points that all lie outside ``dmap``: both boxes, and what to check."""
    pts = _as_points(xyz)
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    n_xyz = np.array(dmap.shape_xyz)
    return _no_overlap_message(dmap.origin, dmap.voxel_size, dmap.axes, n_xyz, pts, what)


def _file_slices(header: _Header, start: np.ndarray, stop: np.ndarray) -> tuple[slice, ...]:
    """Slices of the stored (NS, NR, NC) array for a Cartesian voxel box."""
    return tuple(slice(int(start[a - 1]), int(stop[a - 1])) for a in header.axes_file)


def _to_zyx(block: np.ndarray, header: _Header) -> np.ndarray:
    """Transpose stored-order data to ``[z, y, x]`` as C-contiguous float32."""
    order = tuple(header.axes_file.index(axis) for axis in (3, 2, 1))
    return np.ascontiguousarray(np.transpose(block, order), dtype=np.float32)


# --------------------------------------------------------------------------- sources


def _label_for(source: Any, name: str | None) -> str:
    if name:
        return f"'{name}'"
    if isinstance(source, str | os.PathLike):
        return f"'{Path(source).name}'"
    return "(uploaded data)"


def _regular_size(path: Path, label: str) -> int:
    """Size of a regular file; a clear error for anything else (a FIFO would block a read)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise MapFormatError(f"The map file {label} does not exist ({path}).") from None
    except PermissionError:
        raise MapFormatError(f"The map file {label} cannot be read: permission denied.") from None
    except OSError as exc:
        raise MapFormatError(f"The map file {label} cannot be read: {exc.strerror}.") from None
    if stat.S_ISDIR(info.st_mode):
        raise MapFormatError(f"{label} is a folder, not a map file ({path}).")
    if not stat.S_ISREG(info.st_mode):
        kind = "a named pipe (FIFO)" if stat.S_ISFIFO(info.st_mode) else "a device or socket"
        raise MapFormatError(
            f"{label} is {kind}, not a regular file; save the map to a file and give its path."
        )
    return info.st_size


def _open_path(path: Path, label: str) -> IO[bytes]:
    _regular_size(path, label)
    try:
        return open(path, "rb")
    except PermissionError:
        raise MapFormatError(f"The map file {label} cannot be read: permission denied.") from None
    except OSError as exc:
        raise MapFormatError(f"The map file {label} cannot be read: {exc.strerror}.") from None


def _read_buffer_source(source: Any) -> bytes | memoryview:
    if isinstance(source, bytes | bytearray | memoryview):
        return memoryview(source).cast("B")
    if hasattr(source, "seek"):
        with contextlib.suppress(OSError, ValueError):
            source.seek(0)
    data = source.read()
    if not isinstance(data, bytes | bytearray):
        raise ParameterError("A map given as a file object must be opened in binary mode.")
    return memoryview(data)


# --------------------------------------------------------------------------- readers


def _read_plain_file(
    path: Path, label: str, crop: tuple[np.ndarray, float] | None
) -> tuple[np.ndarray, _Header, np.ndarray | None]:
    """Read an uncompressed file through a memory map, touching only the cropped box."""
    with _open_path(path, label) as handle:
        size = os.fstat(handle.fileno()).st_size
        raw = handle.read(HEADER_BYTES)
        if len(raw) < HEADER_BYTES:
            if _looks_like_text(raw):
                raise MapFormatError(_text_message(label, raw))
            raise MapFormatError(_too_short_message(label, size))
        header = _parse_header(raw, label)
        header = _check_length(label, header, size - header.data_offset)
        start = _crop_start_stop(header, crop, label)
        mm = np.memmap(
            handle, dtype=header.dtype, mode="r", offset=header.data_offset, shape=header.n_file
        )
        try:
            block = mm[_file_slices(header, *start)] if start is not None else mm
            values = _to_zyx(block, header)
        finally:
            del mm
    return values, header, None if start is None else start[0]


def _read_buffer(
    buf: bytes | memoryview, label: str, crop: tuple[np.ndarray, float] | None
) -> tuple[np.ndarray, _Header, np.ndarray | None]:
    """Read an uncompressed map held in memory (uploaded bytes)."""
    if len(buf) < HEADER_BYTES:
        raw = bytes(buf)
        if _looks_like_text(raw):
            raise MapFormatError(_text_message(label, raw))
        raise MapFormatError(_too_short_message(label, len(buf)))
    header = _parse_header(bytes(buf[:HEADER_BYTES]), label)
    header = _check_length(label, header, len(buf) - header.data_offset)
    data = np.frombuffer(
        buf, dtype=header.dtype, count=header.n_voxels, offset=header.data_offset
    ).reshape(header.n_file)
    start = _crop_start_stop(header, crop, label)
    block = data[_file_slices(header, *start)] if start is not None else data
    return _to_zyx(block, header), header, None if start is None else start[0]


def _read_gzip(
    stream: IO[bytes], label: str, crop: tuple[np.ndarray, float] | None, packed_bytes: int
) -> tuple[np.ndarray, _Header, np.ndarray | None]:
    """Stream a gzip-compressed map, keeping only the cropped part, and verify the whole stream.

    Compressed maps cannot be memory-mapped: the file is decompressed in bounded chunks and only
    the rows inside the crop box are kept. The rest of the stream is still decompressed (and
    discarded), so that a damaged stream (bad CRC or length, missing trailer) or data longer
    than the header describes is refused rather than scored.
    """
    try:
        try:
            return _read_gzip_once(stream, label, crop, packed_bytes, skip_extended=True)
        except _MissingExtendedHeader:
            stream.seek(0)
            return _read_gzip_once(stream, label, crop, packed_bytes, skip_extended=False)
    except EOFError:
        raise MapFormatError(
            f"The compressed map file {label} is incomplete (the gzip stream ends early); the "
            "download was probably interrupted. Download it again."
        ) from None
    except (OSError, zlib.error) as exc:
        detail = " ".join(str(exc).split()).rstrip(".")
        raise MapFormatError(
            f"The compressed map file {label} is corrupt and cannot be decompressed ({detail}). "
            "Download it again or decompress it yourself to check."
        ) from None


def _read_gzip_once(
    stream: IO[bytes],
    label: str,
    crop: tuple[np.ndarray, float] | None,
    packed_bytes: int,
    *,
    skip_extended: bool,
) -> tuple[np.ndarray, _Header, np.ndarray | None]:
    with _gzip.GzipFile(fileobj=stream, mode="rb") as gz:
        raw = _read_up_to(gz, HEADER_BYTES)
        if len(raw) < HEADER_BYTES:
            if _looks_like_text(raw):
                raise MapFormatError(_text_message(label, raw))
            raise MapFormatError(_too_short_message(label + " (decompressed)", len(raw)))
        header = _parse_header(raw, label)
        if not skip_extended:
            header = _check_length(label, header, header.data_bytes - header.nsymbt)
        _check_inflation(label, header, header.data_bytes, packed_bytes, "declares")
        extended = _skip(gz, header.nsymbt)
        start = _crop_start_stop(header, crop, label)
        full = (np.zeros(3, np.int64), header.n_xyz.astype(np.int64))
        slices = _file_slices(header, *(start or full))
        kept_voxels = math.prod(s.stop - s.start for s in slices)
        _check_inflation(label, header, 4 * kept_voxels, packed_bytes, "needs")
        block, got = _stream_box(gz, header, slices)
        got += _skip(gz, None)
        available = got + extended - header.nsymbt
        if available != header.data_bytes:
            if skip_extended and header.nsymbt and available + header.nsymbt == header.data_bytes:
                raise _MissingExtendedHeader
            _check_length(label, header, available)
    return _to_zyx(block, header), header, None if start is None else start[0]


def _check_inflation(
    label: str, header: _Header, nbytes: int, packed_bytes: int, verb: str
) -> None:
    """Refuse a compressed map whose header implies an impossible or hostile expansion.

    gzip cannot expand data more than about 1032-fold, so a header describing more is a damaged
    or truncated file; and data (all of it, or the crop box as float32) that would expand more
    than :data:`MAX_INFLATION`-fold beyond :data:`INFLATION_FLOOR` bytes can only be an almost
    constant (not a density) map, whose decompression alone would take too long.
    """
    if verb == "declares" and nbytes > GZIP_MAX_RATIO * max(packed_bytes, 1) + HEADER_BYTES:
        raise MapFormatError(
            f"The compressed map file {label} ({packed_bytes} bytes) cannot hold the "
            f"{header.data_bytes} bytes of data its header describes (gzip expands at most about "
            "1000-fold); the file is truncated or its header is corrupt."
        )
    if nbytes <= max(INFLATION_FLOOR, MAX_INFLATION * packed_bytes):
        return
    where = "" if verb == "declares" else " around the model"
    raise MapFormatError(
        f"The compressed map file {label} ({packed_bytes / 2**20:.2f} MB) would expand to "
        f"{nbytes / 2**30:.2f} GB{where}, more than {MAX_INFLATION}-fold; only an almost constant "
        "map compresses that well, so the file is damaged or not a density map (if it is a real "
        "map, decompress it and give the .mrc file)."
    )


def _stream_box(gz: _Stream, header: _Header, slices: tuple[slice, ...]) -> tuple[np.ndarray, int]:
    """The stored-order block ``slices`` of the data, read in chunks of at most a few rows.

    Returns the block and the number of data bytes consumed. Memory stays within the kept block
    plus one chunk, whatever the section size the header declares.
    """
    ns, nr, nc = header.n_file
    sec_slice, row_slice, col_slice = slices
    row_bytes = nc * header.dtype.itemsize
    rows_per_chunk = max(1, min(nr, _STREAM_CHUNK // row_bytes))
    buffer = bytearray(rows_per_chunk * row_bytes)
    view = memoryview(buffer)
    shape = (sec_slice.stop - sec_slice.start, row_slice.stop - row_slice.start)
    block = np.empty((*shape, col_slice.stop - col_slice.start), dtype=np.float32)
    got = 0
    for section in range(sec_slice.stop):
        if section < sec_slice.start:
            skipped = _skip(gz, nr * row_bytes)
            got += skipped
            if skipped < nr * row_bytes:
                return block, got
            continue
        row = 0
        while row < nr:
            count = min(rows_per_chunk, nr - row)
            filled = _read_into(gz, view[: count * row_bytes])
            got += filled
            if filled < count * row_bytes:
                return block, got
            lo, hi = max(row, row_slice.start), min(row + count, row_slice.stop)
            if lo < hi:
                rows = np.frombuffer(buffer, dtype=header.dtype, count=count * nc).reshape(
                    count, nc
                )
                block[section - sec_slice.start, lo - row_slice.start : hi - row_slice.start] = (
                    rows[lo - row : hi - row, col_slice]
                )
            row += count
    return block, got


def _read_into(stream: _Stream, view: memoryview) -> int:
    """Fill ``view`` from ``stream`` as far as the stream goes; return the bytes read."""
    got = 0
    while got < len(view):
        count = stream.readinto(view[got:])  # type: ignore[union-attr]
        if not count:
            break
        got += count
    return got


def _read_up_to(stream: _Stream, nbytes: int) -> bytes:
    """Read ``nbytes`` in bounded chunks, so memory only grows with data actually present."""
    parts: list[bytes] = []
    got = 0
    while got < nbytes:
        part = stream.read(min(_CHUNK, nbytes - got))
        if not part:
            break
        parts.append(part)
        got += len(part)
    return b"".join(parts)


def _skip(stream: _Stream, nbytes: int | None) -> int:
    """Read and discard ``nbytes`` (all that is left when None) in bounded chunks."""
    got = 0
    while nbytes is None or got < nbytes:
        part = stream.read(_STREAM_CHUNK if nbytes is None else min(_STREAM_CHUNK, nbytes - got))
        if not part:
            break
        got += len(part)
    return got


def _crop_start_stop(
    header: _Header, crop: tuple[np.ndarray, float] | None, label: str
) -> tuple[np.ndarray, np.ndarray] | None:
    if crop is None:
        return None
    points, margin = crop
    return _index_box(
        header.map_origin, header.voxel_size, header.axes, header.n_xyz, points, margin, "model"
    )


def _is_gzip_path(path: Path, label: str) -> bool:
    with _open_path(path, label) as handle:
        return handle.read(2) == _GZIP_MAGIC


def _check_content(values: np.ndarray, label: str, cropped: bool) -> None:
    """Refuse NaN/inf voxels and constant maps: neither can give a meaningful Q-score."""
    where = " in the region around the model" if cropped else ""
    finite = np.isfinite(values)
    if not finite.all():
        n_nan = int(np.isnan(values).sum())
        n_inf = int(values.size - finite.sum()) - n_nan
        parts = [f"{n_nan} NaN voxels"] if n_nan else []
        parts += [f"{n_inf} infinite voxels"] if n_inf else []
        raise MapContentError(
            f"The map contains {' and '.join(parts)}{where} (of {values.size}); a Q-score cannot "
            "be computed from undefined density. Replace them (e.g. with 0) and try again."
        )
    low, high = float(values.min()), float(values.max())
    if low == high:
        raise MapContentError(
            f"The map {label} is constant{where}: every voxel equals {low:g}, so there is no "
            "density to correlate with the model."
        )


def read_map(
    path: MapSource,
    *,
    crop_to: np.ndarray | None = None,
    margin: float = defaults.CROP_MARGIN,
    name: str | None = None,
) -> DensityMap:
    """Read an MRC/CCP4 map (optionally gzip-compressed) from a path, bytes or a file object.

    With ``crop_to`` (an (n, 3) array of Cartesian points, e.g. the model's atoms) only the voxel
    box covering the points ± ``margin`` Å is read and kept; uncompressed files are
    memory-mapped so a large map never sits in memory whole, while gzip files are decompressed
    as a stream keeping only the rows inside the box (the whole stream is still checked). Sampling
    the cropped map anywhere in its box gives the same values as the full map. Cells with angles
    other than 90° are read with their skewed axes (``DensityMap.axes``).

    Parameters
    ----------
    path : str, os.PathLike, bytes or binary file object
        The map, plain or gzip-compressed.
    crop_to : numpy.ndarray, optional
        (n, 3) Cartesian points (Å) to crop around.
    margin : float
        Crop margin in Å.
    name : str, optional
        The name used in messages (for bytes and file objects).

    Returns
    -------
    DensityMap
        The (cropped) map with notes on anything assumed while reading.

    Raises
    ------
    MapFormatError
        The file is not a complete, consistent MRC/CCP4 map.
    MapContentError
        The (cropped) map holds NaN/infinite voxels or is constant.
    NoOverlapError
        No point of ``crop_to`` lies inside the map.
    """
    if not (math.isfinite(margin) and margin >= 0):
        raise ParameterError(f"The crop margin must be a non-negative distance in Å; got {margin}.")
    label = _label_for(path, name)
    crop = None if crop_to is None else (_as_points(crop_to), float(margin))
    if isinstance(path, str | os.PathLike):
        file_path = Path(path)
        source = name or file_path.name
        if _is_gzip_path(file_path, label):
            with _open_path(file_path, label) as handle:
                packed = os.fstat(handle.fileno()).st_size
                values, header, start = _read_gzip(handle, label, crop, packed)
        else:
            values, header, start = _read_plain_file(file_path, label, crop)
    else:
        source = name or ""
        buf = _read_buffer_source(path)
        if bytes(buf[:2]) == _GZIP_MAGIC:
            values, header, start = _read_gzip(io.BytesIO(buf), label, crop, len(buf))
        else:
            values, header, start = _read_buffer(buf, label, crop)
    return _assemble(values, header, start, source, label, margin)


def _assemble(
    values: np.ndarray,
    header: _Header,
    start: np.ndarray | None,
    source: str,
    label: str,
    margin: float,
) -> DensityMap:
    _check_content(values, label, cropped=start is not None)
    voxel = header.voxel_size
    origin = header.map_origin
    axes = header.axes
    notes = header.notes
    if start is not None:
        origin = origin + _along(axes, start * voxel)
    if start is not None and values.size < header.n_voxels:
        kept = "×".join(str(n) for n in values.shape[::-1])
        full = "×".join(str(int(n)) for n in header.n_xyz)
        notes += (
            f"The map was cropped to the model with a {margin:g} Å margin: {kept} of {full} "
            "voxels (x×y×z) were kept.",
        )
    return DensityMap(values, origin, voxel, source=source, notes=notes, axes=axes)


def _along(axes: np.ndarray, distances: np.ndarray) -> np.ndarray:
    """Cartesian offset of ``distances`` (Å) along the grid axes; exact for 90° cells."""
    return distances if np.array_equal(axes, np.eye(3)) else axes @ distances


# --------------------------------------------------------------------------- sampling, cropping


def sample(dmap: DensityMap, xyz: np.ndarray) -> np.ndarray:
    """Trilinear map values at Cartesian points; 0 outside the grid box (upper face inside).

    This is the NumPy reference (Chimera's ``interpolated_values`` with method 'linear').
    """
    pts = _as_points(xyz)
    n = np.array(dmap.shape_xyz, dtype=np.int64)
    idx = dmap.index_of(pts)
    inside = np.all((idx >= 0) & (idx <= n - 1), axis=1)
    out = np.zeros(pts.shape[0], dtype=np.float32)
    g = idx[inside]
    i0 = np.minimum(np.floor(g).astype(np.int64), np.maximum(n - 2, 0))
    i1 = np.minimum(i0 + 1, n - 1)
    f = g - i0
    v = dmap.values
    x0, y0, z0 = i0.T
    x1, y1, z1 = i1.T
    fx, fy, fz = f.T
    c00 = v[z0, y0, x0] * (1 - fx) + v[z0, y0, x1] * fx
    c01 = v[z0, y1, x0] * (1 - fx) + v[z0, y1, x1] * fx
    c10 = v[z1, y0, x0] * (1 - fx) + v[z1, y0, x1] * fx
    c11 = v[z1, y1, x0] * (1 - fx) + v[z1, y1, x1] * fx
    c0 = c00 * (1 - fy) + c01 * fy
    c1 = c10 * (1 - fy) + c11 * fy
    out[inside] = c0 * (1 - fz) + c1 * fz
    return out


def crop_map(dmap: DensityMap, lo_xyz: np.ndarray, hi_xyz: np.ndarray) -> DensityMap:
    """Sub-map of the voxels covering the Cartesian box ``[lo_xyz, hi_xyz]`` (Å), clipped.

    The origin moves by whole voxels (along the skewed axes for a skewed cell), so samples inside
    the new box equal the full map's.
    """
    lo_pt, hi_pt = _as_points(lo_xyz)[0], _as_points(hi_xyz)[0]
    n = np.array(dmap.shape_xyz, dtype=np.int64)
    if np.any(hi_pt < lo_pt):
        raise NoOverlapError(_crop_outside(dmap, lo_pt, hi_pt))
    corners = lo_pt + np.array(list(np.ndindex(2, 2, 2)), dtype=np.float64) * (hi_pt - lo_pt)
    idx = dmap.index_of(corners)
    lo, hi = idx.min(axis=0), idx.max(axis=0)
    if np.any(hi < 0) or np.any(lo > n - 1):
        raise NoOverlapError(_crop_outside(dmap, lo_pt, hi_pt))
    start = np.clip(np.floor(lo), 0, n - 1).astype(np.int64)
    stop = np.clip(np.ceil(hi), 0, n - 1).astype(np.int64) + 1
    (x0, y0, z0), (x1, y1, z1) = start, stop
    values = dmap.values[z0:z1, y0:y1, x0:x1]
    origin = dmap.origin + _along(dmap.axes, start * dmap.voxel_size)
    return DensityMap(
        values, origin, dmap.voxel_size, source=dmap.source, notes=dmap.notes, axes=dmap.axes
    )


def _crop_outside(dmap: DensityMap, lo: np.ndarray, hi: np.ndarray) -> str:
    return outside_message(dmap, np.stack([lo, hi]), "box")


# --------------------------------------------------------------------------- writing


def _header_bytes(dmap: DensityMap) -> bytes:
    """A little-endian MRC2014 header for float32 data in x, y, z order.

    The cell is the grid itself (MX, MY, MZ = NX, NY, NZ) with the map's cell angles; the origin
    goes to ORIGIN and, when it lies on the grid's lattice, also to NSTART (as CCP4 programs and
    gemmi place maps by NSTART alone).
    """
    nx, ny, nz = dmap.shape_xyz
    values = dmap.values
    ints = np.zeros(256, dtype="<i4")
    floats = ints.view("<f4")
    ints[0:4] = (nx, ny, nz, 2)
    ints[4:7] = _lattice_start(dmap)
    ints[7:10] = (nx, ny, nz)
    floats[10:13] = np.array(dmap.shape_xyz) * dmap.voxel_size
    floats[13:16] = cell_angles(dmap.axes)
    ints[16:19] = (1, 2, 3)
    floats[19:22] = (values.min(), values.max(), values.mean(dtype=np.float64))
    ints[22] = 1
    ints[27] = 20140
    floats[49:52] = dmap.origin
    raw = bytearray(ints.tobytes())
    raw[208:212] = b"MAP "
    raw[212:216] = b"\x44\x44\x00\x00"
    raw[216:220] = np.array([values.std(dtype=np.float64)], dtype="<f4").tobytes()
    raw[220:224] = np.array([1], dtype="<i4").tobytes()
    raw[224:304] = b"qscore".ljust(80)
    return bytes(raw)


def _lattice_start(dmap: DensityMap) -> np.ndarray:
    """NSTART (x, y, z) placing the map's origin, or zeros when the origin is off the lattice."""
    start = _fractional_index(np.zeros(3), dmap.voxel_size, dmap.axes, dmap.origin)
    whole = np.round(start)
    if np.all(np.abs(start - whole) < 1e-4) and np.all(np.abs(whole) < 2**31):
        return whole.astype(np.int64)
    return np.zeros(3, dtype=np.int64)


def _check_writable_axes(dmap: DensityMap) -> None:
    """Refuse axes that no MRC header can express (only a along x and b in the xy plane)."""
    if dmap.is_orthogonal:
        return
    expected = cell_axes(cell_angles(dmap.axes))
    if not np.allclose(dmap.axes, expected, atol=1e-6):
        raise ParameterError(
            "This map's axes are rotated away from the crystallographic frame (a along x, b in "
            "the xy plane), which an MRC header cannot describe; resample it before writing."
        )


def write_map(path: str | os.PathLike, dmap: DensityMap, *, gzip: bool | None = None) -> None:
    """Write ``dmap`` as a float32 MRC2014 file (origin in ORIGIN, axes 1, 2, 3, its cell angles).

    Parameters
    ----------
    path : str or os.PathLike
        The file to write.
    dmap : DensityMap
        The map; a skewed map's axes must follow the crystallographic frame (as read).
    gzip : bool, optional
        Compress; by default when the name ends in ``.gz``.

    Raises
    ------
    ParameterError
        The map's axes cannot be written in an MRC header.
    """
    _check_writable_axes(dmap)
    target = Path(path)
    compress = target.name.lower().endswith(".gz") if gzip is None else gzip
    payload = _header_bytes(dmap) + dmap.values.astype("<f4", copy=False).tobytes()
    with open(target, "wb") as handle:
        if compress:
            with _gzip.GzipFile(filename="", mode="wb", fileobj=handle, mtime=0) as gz:
                gz.write(payload)
        else:
            handle.write(payload)
