"""Where a report's numbers come from: the input files with their SHA-256 checksums, the software
and its versions, and the moment the report was written."""

from __future__ import annotations

import datetime as _dt
import hashlib
import importlib.metadata
import os
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import IO

_CHUNK = 1 << 20
#: Libraries whose versions the report names beside qscore's.
LIBRARIES = ("numpy", "scipy", "pandas", "gemmi", "plotly")


@dataclass(frozen=True)
class InputFile:
    """One input file: its role (``map``, ``model``, ...), file name, size in bytes and SHA-256."""

    role: str
    name: str
    size: int
    sha256: str

    def as_dict(self) -> dict[str, object]:
        """The fields as a JSON-ready dict."""
        return {"role": self.role, "name": self.name, "size": self.size, "sha256": self.sha256}


def _hash_stream(stream: IO[bytes]) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    while chunk := stream.read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def input_file(
    role: str,
    source: str | os.PathLike | bytes | bytearray | memoryview,
    *,
    name: str | None = None,
) -> InputFile:
    """Size and SHA-256 of a file on disk or of a file's bytes (an upload).

    Parameters
    ----------
    role : str
        What the file is in the run (``map``, ``model``, ``half map 1``, ...).
    source : str, os.PathLike or bytes
        The file's path, or its bytes.
    name : str, optional
        The name shown; the path's file name by default.

    Returns
    -------
    InputFile
        The role, name, size and checksum of the bytes as they are stored (a gzipped file's
        checksum is that of the compressed file, as ``sha256sum`` prints it).

    Raises
    ------
    OSError
        When the file cannot be read.
    """
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        return InputFile(role, name or role, len(data), hashlib.sha256(data).hexdigest())
    path = Path(source)
    with open(path, "rb") as handle:
        size, digest = _hash_stream(handle)
    return InputFile(role, name or path.name, size, digest)


def software() -> dict[str, str]:
    """qscore's version, Python's and those of the numerical libraries (name → version)."""
    from qscore import __version__

    versions = {"qscore": __version__, "python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def timestamp(now: _dt.datetime | None = None) -> str:
    """The moment in UTC as ``YYYY-MM-DD HH:MM UTC``."""
    moment = (now or _dt.datetime.now(_dt.UTC)).astimezone(_dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")
