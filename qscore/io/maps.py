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
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from qscore import defaults
from qscore.errors import MapContentError, MapFormatError, NoOverlapError, ParameterError

__all__ = [
    "DensityMap",
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
_ANGLE_TOLERANCE = 0.01
_TEXT_BYTES = frozenset(range(32, 127)) | {9, 10, 12, 13}

MapSource = str | os.PathLike | bytes | bytearray | memoryview | IO[bytes]


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
    axes: np.ndarray | None = None

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
        """Fractional grid index (x, y, z order) of Cartesian point(s) ``xyz``.

        For a skewed cell the offset goes through ``to_index`` one row at a time, summed left to
        right as the compiled kernel does, so both give the same index to the last bit.
        """
        offset = np.asarray(xyz, dtype=np.float64) - self.origin
        if not self.is_orthogonal:
            m, (ox, oy, oz) = self.to_index, np.moveaxis(offset, -1, 0)
            offset = np.stack([m[r, 0] * ox + m[r, 1] * oy + m[r, 2] * oz for r in range(3)], -1)
        return offset / self.voxel_size


def map_box(dmap: DensityMap) -> np.ndarray:
    """(2, 3) array of the map's min and max voxel centres in Å (same as ``dmap.extent``)."""
    return dmap.extent


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
    def map_origin(self) -> np.ndarray:
        """Chimera's convention: ORIGIN if any component is non-zero, else NSTART·voxel."""
        origin = np.array(self.origin, dtype=np.float64)
        if np.any(origin != 0):
            return origin
        return _file_to_xyz(self.nstart_file, self.axes_file) * self.voxel_size


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
    """Refuse non-positive voxel sizes and non-orthogonal cells; return the angles to use."""
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
        return (90.0, 90.0, 90.0), (note,)
    if any(abs(a - 90.0) > _ANGLE_TOLERANCE for a in angles):
        a, b, g = angles
        raise MapFormatError(
            f"The map file {label} has a non-orthogonal cell (angles {a:g}°, {b:g}°, {g:g}°); "
            "only orthogonal cells (all angles 90°) are supported. Resample the map onto an "
            "orthogonal grid first."
        )
    return (90.0, 90.0, 90.0), ()


def _truncated_message(label: str, header: _Header, available: int) -> str:
    ns, nr, nc = header.n_file
    return (
        f"The map file {label} is truncated: its header describes {nc}×{nr}×{ns} voxels of "
        f"{header.dtype.itemsize} byte(s) ({header.data_bytes} bytes of data after "
        f"{header.data_offset} bytes of headers) but the file holds only {max(available, 0)} "
        "bytes of data. The download or export was probably interrupted; get the map again."
    )


# --------------------------------------------------------------------------- cropping geometry


def _index_box(
    origin: np.ndarray,
    voxel: np.ndarray,
    n_xyz: np.ndarray,
    points: np.ndarray,
    margin: float,
    what: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Voxel box ``[start, stop)`` (x, y, z) covering ``points`` ± ``margin`` Å, clipped to the map.

    Only points within the map box ± margin count; if there are none, the model and map do not
    overlap and :class:`NoOverlapError` is raised.
    """
    pts = _as_points(points)
    finite = pts[np.all(np.isfinite(pts), axis=1)]
    if finite.shape[0] == 0:
        raise NoOverlapError(f"The {what} has no coordinates to place in the map.")
    idx = (finite - origin) / voxel
    pad = margin / voxel
    near = np.all((idx >= -pad) & (idx <= n_xyz - 1 + pad), axis=1)
    if not np.any(near):
        raise NoOverlapError(_no_overlap_message(origin, voxel, n_xyz, finite, what))
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


def _no_overlap_message(
    origin: np.ndarray, voxel: np.ndarray, n_xyz: np.ndarray, pts: np.ndarray, what: str
) -> str:
    map_hi = origin + (n_xyz - 1) * voxel
    return (
        f"The {what} lies entirely outside the map: the map covers "
        f"{_box_text(origin, map_hi)} Å and the {what} covers "
        f"{_box_text(pts.min(axis=0), pts.max(axis=0))} Å. Check that this model was fitted "
        "into this map and that the map's origin is right."
    )


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


def _open_path(path: Path, label: str) -> IO[bytes]:
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise MapFormatError(f"The map file {label} does not exist ({path}).") from None
    except IsADirectoryError:
        raise MapFormatError(f"{label} is a folder, not a map file ({path}).") from None
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
        if size - header.data_offset < header.data_bytes:
            raise MapFormatError(_truncated_message(label, header, size - header.data_offset))
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
    available = len(buf) - header.data_offset
    if available < header.data_bytes:
        raise MapFormatError(_truncated_message(label, header, available))
    data = np.frombuffer(
        buf, dtype=header.dtype, count=header.n_voxels, offset=header.data_offset
    ).reshape(header.n_file)
    start = _crop_start_stop(header, crop, label)
    block = data[_file_slices(header, *start)] if start is not None else data
    return _to_zyx(block, header), header, None if start is None else start[0]


def _read_gzip(
    stream: IO[bytes], label: str, crop: tuple[np.ndarray, float] | None
) -> tuple[np.ndarray, _Header, np.ndarray | None]:
    """Stream a gzip-compressed map section by section, keeping only the cropped sections.

    Compressed maps cannot be memory-mapped: the file is decompressed as it is read, and only
    the sections (and rows/columns) inside the crop box are kept in memory. Decompression stops
    after the last section the box needs.
    """
    try:
        with _gzip.GzipFile(fileobj=stream, mode="rb") as gz:
            return _read_gzip_stream(gz, label, crop)
    except EOFError:
        raise MapFormatError(
            f"The compressed map file {label} is incomplete (the gzip stream ends early); the "
            "download was probably interrupted. Download it again."
        ) from None
    except (OSError, zlib.error) as exc:
        raise MapFormatError(
            f"The compressed map file {label} is corrupt and cannot be decompressed ({exc}). "
            "Download it again or decompress it yourself to check."
        ) from None


def _read_gzip_stream(
    gz: IO[bytes], label: str, crop: tuple[np.ndarray, float] | None
) -> tuple[np.ndarray, _Header, np.ndarray | None]:
    raw = _read_up_to(gz, HEADER_BYTES)
    if len(raw) < HEADER_BYTES:
        if _looks_like_text(raw):
            raise MapFormatError(_text_message(label, raw))
        raise MapFormatError(_too_short_message(label + " (decompressed)", len(raw)))
    header = _parse_header(raw, label)
    if _skip(gz, header.nsymbt) < header.nsymbt:
        raise MapFormatError(_truncated_message(label, header, 0))
    start = _crop_start_stop(header, crop, label)
    ns, nr, nc = header.n_file
    full = (np.zeros(3, np.int64), header.n_xyz.astype(np.int64))
    sec_slice, row_slice, col_slice = _file_slices(header, *(start or full))
    section_bytes = nr * nc * header.dtype.itemsize
    kept: list[np.ndarray] = []
    for index, chunk in enumerate(_sections(gz, ns, section_bytes, sec_slice.stop)):
        if len(chunk) < section_bytes:
            raise MapFormatError(
                _truncated_message(label, header, index * section_bytes + len(chunk))
            )
        if index >= sec_slice.start:
            plane = np.frombuffer(chunk, dtype=header.dtype).reshape(nr, nc)
            kept.append(plane[row_slice, col_slice].astype(np.float32))
    return _to_zyx(np.stack(kept), header), header, None if start is None else start[0]


def _sections(gz: IO[bytes], count: int, nbytes: int, stop: int) -> Iterator[bytes]:
    """Yield the first ``stop`` sections of ``nbytes`` each; a short one ends the stream."""
    for _ in range(min(count, stop)):
        chunk = _read_up_to(gz, nbytes)
        yield chunk
        if len(chunk) < nbytes:
            return


def _read_up_to(stream: IO[bytes], nbytes: int) -> bytes:
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


def _skip(stream: IO[bytes], nbytes: int) -> int:
    got = 0
    while got < nbytes:
        part = stream.read(min(_CHUNK, nbytes - got))
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
    return _index_box(header.map_origin, header.voxel_size, header.n_xyz, points, margin, "model")


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
    as a stream keeping only the sections inside the box. Sampling the cropped map anywhere in
    its box gives the same values as the full map.
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
                values, header, start = _read_gzip(handle, label, crop)
        else:
            values, header, start = _read_plain_file(file_path, label, crop)
    else:
        source = name or ""
        buf = _read_buffer_source(path)
        if bytes(buf[:2]) == _GZIP_MAGIC:
            values, header, start = _read_gzip(io.BytesIO(buf), label, crop)
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
    notes = header.notes
    if start is not None:
        origin = origin + start * voxel
    if start is not None and values.size < header.n_voxels:
        kept = "×".join(str(n) for n in values.shape[::-1])
        full = "×".join(str(int(n)) for n in header.n_xyz)
        notes += (
            f"The map was cropped to the model with a {margin:g} Å margin: {kept} of {full} "
            "voxels (x×y×z) were kept.",
        )
    return DensityMap(values, origin, voxel, source=source, notes=notes)


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

    The origin moves by whole voxels, so samples inside the new box equal the full map's.
    """
    lo = (_as_points(lo_xyz)[0] - dmap.origin) / dmap.voxel_size
    hi = (_as_points(hi_xyz)[0] - dmap.origin) / dmap.voxel_size
    n = np.array(dmap.shape_xyz, dtype=np.int64)
    if np.any(hi < 0) or np.any(lo > n - 1) or np.any(hi < lo):
        corners = np.stack([_as_points(lo_xyz)[0], _as_points(hi_xyz)[0]])
        raise NoOverlapError(_no_overlap_message(dmap.origin, dmap.voxel_size, n, corners, "box"))
    start = np.clip(np.floor(lo), 0, n - 1).astype(np.int64)
    stop = np.clip(np.ceil(hi), 0, n - 1).astype(np.int64) + 1
    (x0, y0, z0), (x1, y1, z1) = start, stop
    values = dmap.values[z0:z1, y0:y1, x0:x1]
    origin = dmap.origin + start * dmap.voxel_size
    return DensityMap(values, origin, dmap.voxel_size, source=dmap.source, notes=dmap.notes)


# --------------------------------------------------------------------------- writing


def _header_bytes(dmap: DensityMap) -> bytes:
    """A little-endian MRC2014 header for float32 data in x, y, z order."""
    nx, ny, nz = dmap.shape_xyz
    values = dmap.values
    ints = np.zeros(256, dtype="<i4")
    floats = ints.view("<f4")
    ints[0:4] = (nx, ny, nz, 2)
    ints[7:10] = (nx, ny, nz)
    floats[10:13] = np.array(dmap.shape_xyz) * dmap.voxel_size
    floats[13:16] = 90.0
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


def write_map(path: str | os.PathLike, dmap: DensityMap, *, gzip: bool | None = None) -> None:
    """Write ``dmap`` as a float32 MRC2014 file (origin in ORIGIN, NSTART 0, axes 1, 2, 3).

    The file is gzip-compressed when ``gzip`` is true, or when it is None and the name ends in
    ``.gz``.
    """
    target = Path(path)
    compress = target.name.lower().endswith(".gz") if gzip is None else gzip
    payload = _header_bytes(dmap) + dmap.values.astype("<f4", copy=False).tobytes()
    with open(target, "wb") as handle:
        if compress:
            with _gzip.GzipFile(filename="", mode="wb", fileobj=handle, mtime=0) as gz:
                gz.write(payload)
        else:
            handle.write(payload)
