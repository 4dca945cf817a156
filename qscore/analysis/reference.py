"""The EMDB reference table: model-average Q-score (sigma 0.4) and reported resolution per entry.

The default table is ``va/qscores.csv`` shipped in the EMDB validation-analysis package ``va``.
It is located through the package metadata, without importing ``va`` (whose import is heavy).
Users can supply their own CSV with columns ``id, resolution, qscore`` (or the paper's
``emdb_id, resolution, qscore``). Rows with a missing or non-finite resolution or Q are dropped;
repeated ids are kept, since one map can have several fitted models.
"""

from __future__ import annotations

import functools
import importlib.metadata
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from qscore.errors import ReferenceTableError

#: Distribution and file of the default table.
DEFAULT_PACKAGE = "va"
DEFAULT_FILE = "va/qscores.csv"
REQUIRED_COLUMNS = ("id", "resolution", "qscore")
#: Accepted alternative names of the id column.
ID_ALIASES = ("emdb_id", "emd_id", "entry")


@dataclass(frozen=True, eq=False)
class ReferenceTable:
    """Reference entries (columns id, resolution, qscore), where they came from and which version."""

    data: pd.DataFrame
    source: str
    version: str | None = None

    @property
    def entries(self) -> int:
        """Number of usable entries."""
        return len(self.data)

    def describe(self) -> str:
        """One line naming the source, version and entry count."""
        version = f", version {self.version}" if self.version else ""
        return f"{self.source}{version}, {self.entries:,} entries"


def _normalise(frame: pd.DataFrame, label: str) -> pd.DataFrame:
    """Frame with id (str), resolution, qscore (float), finite rows only; raises on bad content."""
    frame = frame.rename(columns=lambda c: str(c).strip().lower())
    if "id" not in frame.columns:
        alias = next((a for a in ID_ALIASES if a in frame.columns), None)
        if alias is not None:
            frame = frame.rename(columns={alias: "id"})
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ReferenceTableError(
            f"The reference table {label} lacks the column(s) {', '.join(missing)}; it needs "
            "columns id (or emdb_id), resolution and qscore."
        )
    data = pd.DataFrame(
        {
            "id": frame["id"].astype(str).str.strip(),
            "resolution": pd.to_numeric(frame["resolution"], errors="coerce").astype(float),
            "qscore": pd.to_numeric(frame["qscore"], errors="coerce").astype(float),
        }
    )
    keep = np.isfinite(data["resolution"].to_numpy()) & np.isfinite(data["qscore"].to_numpy())
    data = data[keep & (data["resolution"].to_numpy() > 0)].reset_index(drop=True)
    if data.empty:
        raise ReferenceTableError(
            f"The reference table {label} has no rows with a numeric resolution and Q-score."
        )
    return data


def _read_csv(source: str | os.PathLike | IO, label: str) -> pd.DataFrame:
    """Read a CSV with ids as text; translate reading failures into ReferenceTableError."""
    try:
        return pd.read_csv(source, dtype=str, skipinitialspace=True)
    except FileNotFoundError:
        raise ReferenceTableError(f"The reference table {label} does not exist.") from None
    except IsADirectoryError:
        raise ReferenceTableError(
            f"The reference table {label} is a folder, not a CSV file."
        ) from None
    except pd.errors.EmptyDataError:
        raise ReferenceTableError(f"The reference table {label} is empty.") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise ReferenceTableError(
            f"The reference table {label} cannot be read as a CSV file ({exc.__class__.__name__})."
        ) from None


def load_reference(
    path_or_buffer: str | os.PathLike | IO | bytes, name: str | None = None
) -> ReferenceTable:
    """Load a user reference table from a CSV path, file object or bytes."""
    if isinstance(path_or_buffer, bytes):
        path_or_buffer = io.BytesIO(path_or_buffer)
    if name is None:
        name = (
            str(path_or_buffer)
            if isinstance(path_or_buffer, str | os.PathLike)
            else getattr(path_or_buffer, "name", "uploaded table")
        )
    label = f"'{name}'"
    data = _normalise(_read_csv(path_or_buffer, label), label)
    return ReferenceTable(data=data, source=str(name), version=None)


def default_table_path() -> tuple[Path, str] | None:
    """(path, version) of ``va/qscores.csv`` in the installed ``va`` distribution, or None."""
    try:
        dist = importlib.metadata.distribution(DEFAULT_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        return None
    for entry in dist.files or ():
        if str(entry).replace("\\", "/") == DEFAULT_FILE:
            path = Path(str(dist.locate_file(entry)))
            if path.is_file():
                return path, dist.version
    return None


@functools.lru_cache(maxsize=1)
def default_reference() -> ReferenceTable | None:
    """The ``va`` package's table (cached), or None when ``va`` or its table is not installed."""
    located = default_table_path()
    if located is None:
        return None
    path, version = located
    label = f"'{DEFAULT_FILE}' of {DEFAULT_PACKAGE} {version}"
    data = _normalise(_read_csv(path, label), label)
    return ReferenceTable(data=data, source=f"{DEFAULT_PACKAGE}:{DEFAULT_FILE}", version=version)
