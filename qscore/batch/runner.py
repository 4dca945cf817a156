"""Score many map/model pairs on a Dask cluster, and turn the results into a reference table.

A manifest (CSV with columns ``id, map, model, resolution`` and an optional ``sigma``) lists the
entries. Each entry is scored on a Dask worker by :func:`score_entry`, which never raises: a
:class:`~qscore.errors.QscoreError` becomes its sentence and any other exception a one-line
sentence naming its type. The client process writes the results as they complete, atomically
(temporary file, then rename), so a killed worker or an interrupted run never leaves half-files:

* ``DIR/residues/<id>.parquet``: the per-residue table (written first);
* ``DIR/entries/<id>.parquet``: the one-row summary (written last; it marks the entry finished);
* ``DIR/summary.parquet`` and ``DIR/summary.csv``: every manifest entry, at the end of a run.

A second run over the same folder reuses finished entries whose map, model, sigma, mode and
resolution are unchanged. Map and model are compared by file identity, not by path: the size,
the modification time and a BLAKE2b hash of the content (whole files up to
:data:`FULL_HASH_BYTES`; beyond that, :data:`HASH_BLOCKS` blocks spread evenly through the file,
first and last included), recorded by the worker just before it reads the files. A map replaced
at the same path is therefore rescored. Failed entries are kept as failed unless ``retry_failed`` is set
(failures such as a truncated file are usually permanent). :func:`reference_from_results` turns
the ``ok`` entries at sigma 0.4 into a :class:`~qscore.analysis.reference.ReferenceTable` so the
statistical model can be refitted on new data (``qscore stats --from DIR``).
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import stat
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from qscore import defaults
from qscore.analysis.reference import ReferenceTable
from qscore.errors import ParameterError, QscoreError, ReferenceTableError
from qscore.progress import Progress

#: Molecule kinds that get a ``q_<kind>`` column in the summary.
KINDS = ("protein", "nucleic", "ligand", "glycan", "water", "ion")
MANIFEST_COLUMNS = ("id", "map", "model", "resolution")
#: Entry ids become file names, so they are limited to letters, digits, '.', '_' and '-'.
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
#: Sigma of the archive's reference Q-scores; only such entries enter a refitted reference.
REFERENCE_SIGMA = 0.4
SIGMA_TOLERANCE = 1e-6
#: Task retries on top of Dask's rescheduling of tasks whose worker died.
RETRIES = 2
#: Files up to this size are hashed whole; larger ones by HASH_BLOCKS blocks of HASH_BLOCK bytes.
FULL_HASH_BYTES = 64 * 2**20
HASH_BLOCKS = 16
HASH_BLOCK = 1 << 16
ENTRIES_DIR = "entries"
RESIDUES_DIR = "residues"

SUMMARY_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("map", pa.string()),
        ("model", pa.string()),
        ("resolution", pa.float64()),
        ("sigma", pa.float64()),
        ("mode", pa.string()),
        ("engine", pa.string()),
        ("status", pa.string()),
        ("error", pa.string()),
        ("model_q", pa.float64()),
        ("model_q_polymer", pa.float64()),
        *[(f"q_{kind}", pa.float64()) for kind in KINDS],
        ("atoms", pa.int64()),
        ("atoms_outside", pa.int64()),
        ("residues", pa.int64()),
        ("chains", pa.int64()),
        ("seconds", pa.float64()),
        ("q_peak", pa.float64()),
        ("q_low95", pa.float64()),
        ("q_high95", pa.float64()),
        ("verdict", pa.string()),
        ("q_relative_all", pa.float64()),
        ("q_relative_resolution", pa.float64()),
        ("notes", pa.string()),
        ("map_identity", pa.string()),
        ("model_identity", pa.string()),
    ]
)
SUMMARY_COLUMNS = tuple(SUMMARY_SCHEMA.names)

#: One scoring at a time per worker process: the compiled kernel is itself parallel.
_ENGINE_LOCK = threading.Lock()


class ManifestError(QscoreError):
    """The batch manifest cannot be read or has invalid content."""


class ClusterError(QscoreError):
    """The Dask scheduler cannot be reached."""


@dataclass(frozen=True)
class Entry:
    """One manifest row: absolute file paths, the resolution (NaN if not given) and its sigma."""

    id: str
    map: str
    model: str
    resolution: float
    sigma: float


@dataclass(frozen=True, eq=False)
class Outcome:
    """What a worker returns for one entry: the summary numbers or the error sentence."""

    entry: Entry
    mode: str
    status: str
    error: str
    seconds: float
    resolution: float
    summary: dict[str, Any]
    residues: pd.DataFrame | None
    notes: tuple[str, ...] = ()
    map_identity: str = ""
    model_identity: str = ""
    engine: str = ""


# --------------------------------------------------------------------------- file identity


def file_identity(path: str | os.PathLike) -> str:
    """``size:mtime_ns:hash`` of a regular file, or "" when it cannot be read.

    The hash is BLAKE2b of the whole content for files up to :data:`FULL_HASH_BYTES`, and of
    :data:`HASH_BLOCKS` blocks spread evenly through larger files (so that checking thousands
    of large maps on resume reads about a megabyte of each, not all of it).

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    str
        Its identity; two different identities mean the file was replaced or changed.
    """
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            return ""
        digest = hashlib.blake2b(digest_size=16)
        with open(path, "rb") as handle:
            if info.st_size <= FULL_HASH_BYTES:
                while block := handle.read(1 << 20):
                    digest.update(block)
            else:
                last = info.st_size - HASH_BLOCK
                for k in range(HASH_BLOCKS):
                    handle.seek(last * k // (HASH_BLOCKS - 1))
                    digest.update(handle.read(HASH_BLOCK))
    except OSError:
        return ""
    return f"{info.st_size}:{info.st_mtime_ns}:{digest.hexdigest()}"


# --------------------------------------------------------------------------- manifest


def _number(value: Any, column: str, entry_id: str, label: str) -> float:
    """A positive float from a manifest cell, NaN when blank; ManifestError otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return math.nan
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ManifestError(
            f"The manifest {label} gives {column} '{value}' for entry '{entry_id}'; "
            f"{column} must be a number of Å."
        ) from None
    if math.isnan(number):
        return number
    if not math.isfinite(number) or number <= 0:
        raise ManifestError(
            f"The manifest {label} gives {column} {value} for entry '{entry_id}'; "
            f"{column} must be a positive number of Å."
        )
    return number


def entries_from_frame(
    frame: pd.DataFrame,
    *,
    base: str | os.PathLike = ".",
    sigma: float = defaults.SIGMA,
    label: str = "table",
) -> list[Entry]:
    """Validated entries of a manifest frame; relative paths are resolved against ``base``."""
    frame = frame.rename(columns=lambda c: str(c).strip().lower())
    missing = [c for c in MANIFEST_COLUMNS if c not in frame.columns]
    if missing:
        raise ManifestError(
            f"The manifest {label} lacks the column(s) {', '.join(missing)}; it needs columns "
            "id, map, model and resolution (resolution may be blank), and optionally sigma."
        )
    if frame.empty:
        raise ManifestError(f"The manifest {label} lists no entries.")
    base_dir = Path(base).expanduser().resolve()
    entries: list[Entry] = []
    seen: set[str] = set()
    for number, row in enumerate(frame.to_dict("records"), start=2):
        entry_id = "" if pd.isna(row["id"]) else str(row["id"]).strip()
        if not ID_PATTERN.match(entry_id):
            raise ManifestError(
                f"Line {number} of the manifest {label} has the id '{entry_id}'; ids must be "
                "non-empty and use only letters, digits, '.', '_' and '-' (they name files)."
            )
        if entry_id in seen:
            raise ManifestError(f"The manifest {label} lists the id '{entry_id}' twice.")
        seen.add(entry_id)
        paths = []
        for column in ("map", "model"):
            value = row[column]
            if pd.isna(value) or not str(value).strip():
                raise ManifestError(
                    f"Entry '{entry_id}' of the manifest {label} has no {column} file."
                )
            path = Path(str(value).strip()).expanduser()
            paths.append(str(path if path.is_absolute() else base_dir / path))
        entry_sigma = (
            _number(row.get("sigma"), "sigma", entry_id, label) if "sigma" in row else math.nan
        )
        entries.append(
            Entry(
                id=entry_id,
                map=paths[0],
                model=paths[1],
                resolution=_number(row["resolution"], "resolution", entry_id, label),
                sigma=sigma if math.isnan(entry_sigma) else entry_sigma,
            )
        )
    return entries


def read_manifest(path: str | os.PathLike, *, sigma: float = defaults.SIGMA) -> list[Entry]:
    """Entries of a manifest CSV; relative paths are resolved against the manifest's folder."""
    path = Path(path)
    label = f"'{path}'"
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except FileNotFoundError:
        raise ManifestError(f"The manifest {label} does not exist.") from None
    except IsADirectoryError:
        raise ManifestError(f"The manifest {label} is a folder, not a CSV file.") from None
    except pd.errors.EmptyDataError:
        raise ManifestError(f"The manifest {label} is empty.") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ManifestError(
            f"The manifest {label} cannot be read as a CSV file ({exc.__class__.__name__})."
        ) from None
    return entries_from_frame(frame, base=path.resolve().parent, sigma=sigma, label=label)


# --------------------------------------------------------------------------- scoring (workers)


def error_sentence(exc: BaseException) -> str:
    """The sentence recorded for a failed entry: a QscoreError's own, else a one-line summary."""
    if isinstance(exc, QscoreError):
        return " ".join(str(exc).split())
    if type(exc).__name__ == "KilledWorker":
        return (
            "The worker scoring this entry died repeatedly (KilledWorker); the entry may need "
            "more memory than a worker has."
        )
    detail = " ".join(str(exc).split())
    if len(detail) > 200:
        detail = detail[:197] + "..."
    return f"Unexpected {type(exc).__name__} while scoring this entry" + (
        f": {detail}" if detail else "."
    )


def score_entry(entry: Entry, mode: str = defaults.MODE, threads: int | None = None) -> Outcome:
    """Score one entry and summarise it; never raises (failures become the error sentence)."""
    from qscore.analysis.aggregate import model_summary
    from qscore.io.export import residues_frame
    from qscore.pipeline import load_and_score

    identities = {
        "map_identity": file_identity(entry.map),
        "model_identity": file_identity(entry.model),
    }
    with _ENGINE_LOCK:
        start = time.perf_counter()
        try:
            scored = load_and_score(
                entry.map, entry.model, sigma=entry.sigma, mode=mode, threads=threads
            )
        except Exception as exc:
            return failed_outcome(entry, mode, exc, time.perf_counter() - start, **identities)
    try:
        model, result = scored.model, scored.result
        summary = model_summary(model, result.q)
        summary["atoms_outside"] = result.atoms_outside
        summary["residues"] = len(model.residues)
        residues = residues_frame(model, result.q)
        residues.insert(0, "id", entry.id)
        resolution = entry.resolution
        if math.isnan(resolution) and model.resolution:
            resolution = float(model.resolution)
        return Outcome(
            entry=entry,
            mode=mode,
            status="ok",
            error="",
            seconds=time.perf_counter() - start,
            resolution=resolution,
            summary=summary,
            residues=residues,
            notes=tuple(result.notes),
            engine=result.engine,
            **identities,
        )
    except Exception as exc:
        return failed_outcome(entry, mode, exc, time.perf_counter() - start, **identities)


def failed_outcome(
    entry: Entry,
    mode: str,
    exc: BaseException,
    seconds: float = 0.0,
    *,
    map_identity: str | None = None,
    model_identity: str | None = None,
) -> Outcome:
    """The outcome recorded for an entry that could not be scored.

    The file identities default to the files as they are now (a worker that died recorded none).
    """
    return Outcome(
        entry=entry,
        mode=mode,
        status="failed",
        error=error_sentence(exc),
        seconds=seconds,
        resolution=entry.resolution,
        summary={},
        residues=None,
        map_identity=file_identity(entry.map) if map_identity is None else map_identity,
        model_identity=file_identity(entry.model) if model_identity is None else model_identity,
    )


# --------------------------------------------------------------------------- rows and files


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)


def summary_row(outcome: Outcome, reference: ReferenceTable | None = None) -> dict[str, Any]:
    """The summary row of an outcome, with the score context when a resolution is known."""
    entry, summary = outcome.entry, outcome.summary
    types = summary.get("types", {})
    row: dict[str, Any] = {
        "id": entry.id,
        "map": entry.map,
        "model": entry.model,
        "resolution": outcome.resolution,
        "sigma": entry.sigma,
        "mode": outcome.mode,
        "engine": outcome.engine,
        "status": outcome.status,
        "error": outcome.error,
        "model_q": _float(summary.get("model_q")),
        "model_q_polymer": _float(summary.get("model_q_polymer")),
        **{f"q_{kind}": _float(types.get(kind)) for kind in KINDS},
        "atoms": int(summary.get("atoms_scored", 0)),
        "atoms_outside": int(summary.get("atoms_outside", 0)),
        "residues": int(summary.get("residues", 0)),
        "chains": len(summary.get("chains", {})),
        "seconds": round(float(outcome.seconds), 4),
        "q_peak": math.nan,
        "q_low95": math.nan,
        "q_high95": math.nan,
        "verdict": "",
        "q_relative_all": math.nan,
        "q_relative_resolution": math.nan,
        "notes": " ".join(outcome.notes),
        "map_identity": outcome.map_identity,
        "model_identity": outcome.model_identity,
    }
    if outcome.status == "ok" and math.isfinite(outcome.resolution):
        from qscore.analysis.context import score_context

        try:
            context = score_context(row["model_q"], outcome.resolution, entry.sigma, reference)
        except QscoreError as exc:
            row["notes"] = " ".join([*outcome.notes, error_sentence(exc)])
            return row
        for key in ("q_peak", "q_low95", "q_high95", "q_relative_all", "q_relative_resolution"):
            row[key] = _float(context[key])
        row["verdict"] = context["verdict"] or ""
        row["notes"] = " ".join([*outcome.notes, *context["notes"]])
    return row


def _write_atomic(table: pa.Table, path: Path) -> None:
    """Write a Parquet file through a hidden temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        pq.write_table(table, temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _write_text_atomic(text: str, path: Path) -> None:
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def summary_table(rows: list[dict[str, Any]]) -> pa.Table:
    """Summary rows as an Arrow table with the fixed summary schema."""
    return pa.Table.from_pylist(rows, schema=SUMMARY_SCHEMA)


def write_outcome(
    out_dir: str | os.PathLike, outcome: Outcome, reference: ReferenceTable | None = None
) -> dict[str, Any]:
    """Write an entry's residue table (if scored) and then its summary row; return the row."""
    out = Path(out_dir)
    residues_path = out / RESIDUES_DIR / f"{outcome.entry.id}.parquet"
    if outcome.residues is not None:
        _write_atomic(pa.Table.from_pandas(outcome.residues, preserve_index=False), residues_path)
    else:
        residues_path.unlink(missing_ok=True)
    row = summary_row(outcome, reference)
    _write_atomic(summary_table([row]), out / ENTRIES_DIR / f"{outcome.entry.id}.parquet")
    return row


def read_entries(out_dir: str | os.PathLike) -> pd.DataFrame:
    """Every finished entry's summary row under ``out_dir`` (empty frame if there is none)."""
    folder = Path(out_dir) / ENTRIES_DIR
    files = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
    if not files:
        return SUMMARY_SCHEMA.empty_table().to_pandas()
    try:
        dataset = pads.dataset([str(f) for f in files], schema=SUMMARY_SCHEMA, format="parquet")
        return dataset.to_table().to_pandas()
    except (pa.ArrowException, OSError):
        return _read_entries_one_by_one(files)


def _read_entries_one_by_one(files: list[Path]) -> pd.DataFrame:
    """Summary rows of the readable files only: a damaged file counts as an unfinished entry."""
    tables = []
    for path in files:
        try:
            table = pq.read_table(path)
        except (pa.ArrowException, OSError):
            continue
        columns = {
            name: table[name] if name in table.column_names else pa.nulls(len(table))
            for name in SUMMARY_COLUMNS
        }
        tables.append(pa.table(columns).cast(SUMMARY_SCHEMA))
    if not tables:
        return SUMMARY_SCHEMA.empty_table().to_pandas()
    return pa.concat_tables(tables).to_pandas()


def read_residues(out_dir: str | os.PathLike, entry_id: str) -> pd.DataFrame:
    """The per-residue table of one scored entry."""
    return pd.read_parquet(Path(out_dir) / RESIDUES_DIR / f"{entry_id}.parquet")


def _reusable(previous: dict[str, Any] | None, entry: Entry, mode: str, retry_failed: bool) -> bool:
    """Whether a finished row still answers this entry: same parameters and the same files
    (by identity, see :func:`file_identity`); failed ones unless retried."""
    if previous is None or (previous["status"] != "ok" and retry_failed):
        return False
    same_resolution = math.isnan(entry.resolution) or (
        abs(float(previous["resolution"]) - entry.resolution) <= SIGMA_TOLERANCE
    )
    same_request = (
        previous["map"] == entry.map
        and previous["model"] == entry.model
        and previous["mode"] == mode
        and abs(previous["sigma"] - entry.sigma) <= SIGMA_TOLERANCE
        and same_resolution
    )
    return (
        same_request
        and previous.get("map_identity") == file_identity(entry.map)
        and previous.get("model_identity") == file_identity(entry.model)
    )


# --------------------------------------------------------------------------- the run


@dataclass
class Tally:
    """Counts of a batch run (entries finished by an earlier run included)."""

    total: int
    ok: int = 0
    failed: int = 0

    @property
    def done(self) -> int:
        """Entries with a result (ok or failed)."""
        return self.ok + self.failed

    @property
    def remaining(self) -> int:
        """Entries still to be scored."""
        return self.total - self.done

    def count(self, status: str) -> None:
        """Count one finished entry."""
        if status == "ok":
            self.ok += 1
        else:
            self.failed += 1

    def stage(self) -> str:
        """The counts as the progress callback's stage text."""
        return f"{self.ok} ok, {self.failed} failed, {self.remaining} remaining"


def available_cpus() -> int:
    """CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def connect(address: str) -> Any:
    """A ``distributed.Client`` of the running scheduler at ``address``."""
    from distributed import Client

    try:
        return Client(address)
    except (OSError, ValueError) as exc:
        detail = " ".join(str(exc).split()).rstrip(": ")
        raise ClusterError(
            f"Cannot reach the Dask scheduler at {address} ({detail}); check the address and "
            "that the scheduler is running."
        ) from None


@contextmanager
def _dask_client(client: Any, workers: int | None) -> Iterator[tuple[Any, int | None]]:
    """The given client (waiting for ``workers`` if set), or a LocalCluster sized to the machine.

    The local cluster has one thread per worker process and gives each worker's compiled kernel an
    equal share of the CPUs, so workers do not oversubscribe the machine. Yields the client and
    the kernel thread count to request (None: leave the workers as they are).
    """
    if client is not None:
        if workers:
            client.wait_for_workers(workers)
        yield client, None
        return
    from distributed import Client, LocalCluster

    cpus = available_cpus()
    n_workers = workers or cpus
    threads = max(1, cpus // n_workers)
    with (
        tempfile.TemporaryDirectory(prefix="qscore-dask-", ignore_cleanup_errors=True) as scratch,
        LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            local_directory=scratch,
            env={"QSCORE_THREADS": str(threads)},
        ) as cluster,
        Client(cluster) as own,
    ):
        yield own, threads


def _check_parameters(sigma: float, mode: str, workers: int | None) -> None:
    if not math.isfinite(sigma) or sigma <= 0:
        raise ParameterError(f"Sigma must be a positive number of Å; got {sigma}.")
    if mode not in defaults.MODES:
        raise ParameterError(f"The mode must be one of {', '.join(defaults.MODES)}; got '{mode}'.")
    if workers is not None and workers < 1:
        raise ParameterError(f"The number of workers must be at least 1; got {workers}.")


def _entries(manifest: str | os.PathLike | pd.DataFrame | list[Entry], sigma: float) -> list[Entry]:
    if isinstance(manifest, pd.DataFrame):
        return entries_from_frame(manifest, sigma=sigma)
    if isinstance(manifest, list | tuple):
        return list(manifest)
    return read_manifest(manifest, sigma=sigma)


def run_batch(
    manifest: str | os.PathLike | pd.DataFrame | list[Entry],
    out_dir: str | os.PathLike,
    *,
    client: Any = None,
    workers: int | None = None,
    sigma: float = defaults.SIGMA,
    mode: str = defaults.MODE,
    progress: Progress | None = None,
    retry_failed: bool = False,
) -> pd.DataFrame:
    """Score every manifest entry on Dask, writing results as they finish; return the summary.

    ``manifest`` is a CSV path, a frame with the manifest columns (paths relative to the working
    folder) or a list of :class:`Entry`. Without ``client`` a LocalCluster of ``workers`` processes
    (default: one per CPU) is started and closed again. Finished entries in ``out_dir`` are
    reused (see the module docstring). ``progress(done, total, stage)`` is called once at the
    start and after every entry; an exception it raises (e.g. KeyboardInterrupt) stops the run,
    cancels what is still queued and keeps every result written so far.
    """
    _check_parameters(sigma, mode, workers)
    entries = _entries(manifest, sigma)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    previous = {row["id"]: row for row in read_entries(out).to_dict("records")}
    rows: dict[str, dict[str, Any]] = {}
    todo: list[Entry] = []
    tally = Tally(total=len(entries))
    for entry in entries:
        row = previous.get(entry.id)
        if row is not None and _reusable(row, entry, mode, retry_failed):
            rows[entry.id] = row
            tally.count(row["status"])
        else:
            todo.append(entry)
    if progress:
        progress(tally.done, tally.total, tally.stage())
    if todo:
        _score_all(todo, out, client, workers, mode, tally, rows, progress)
    frame = summary_table([rows[entry.id] for entry in entries]).to_pandas()
    _write_atomic(pa.Table.from_pandas(frame, preserve_index=False), out / "summary.parquet")
    _write_text_atomic(frame.to_csv(index=False), out / "summary.csv")
    return frame


def _score_all(
    todo: list[Entry],
    out: Path,
    client: Any,
    workers: int | None,
    mode: str,
    tally: Tally,
    rows: dict[str, dict[str, Any]],
    progress: Progress | None,
) -> None:
    """Submit every entry, then write each result in the client as it completes."""
    import asyncio

    from distributed import as_completed

    from qscore.analysis.reference import default_reference

    reference = default_reference()
    with _dask_client(client, workers) as (dask_client, threads):
        futures = {}
        for entry in todo:
            future = dask_client.submit(
                score_entry,
                entry,
                mode,
                threads,
                key=f"score-entry-{entry.id}-{uuid.uuid4().hex[:8]}",
                retries=RETRIES,
                pure=False,
            )
            futures[future.key] = (future, entry)
        try:
            for future in as_completed([f for f, _ in futures.values()]):
                entry = futures[future.key][1]
                try:
                    outcome = future.result()
                except (Exception, asyncio.CancelledError) as exc:
                    outcome = failed_outcome(entry, mode, exc)
                future.release()
                rows[entry.id] = write_outcome(out, outcome, reference)
                tally.count(outcome.status)
                if progress:
                    progress(tally.done, tally.total, tally.stage())
        finally:
            unfinished = [f for f, _ in futures.values() if not f.done()]
            if unfinished:
                dask_client.cancel(unfinished)


# --------------------------------------------------------------------------- refitting


def reference_from_results(out_dir: str | os.PathLike) -> ReferenceTable:
    """Reference table (id, resolution, qscore = model_q) of the ok sigma-0.4 entries in ``out_dir``.

    Entries without a resolution are left out. Raises ReferenceTableError when none is usable.
    """
    frame = read_entries(out_dir)
    if frame.empty:
        raise ReferenceTableError(
            f"The folder '{out_dir}' holds no batch results (no {ENTRIES_DIR}/*.parquet files); "
            "run qscore batch with --out pointing there first."
        )
    usable = (
        (frame["status"] == "ok")
        & ((frame["sigma"] - REFERENCE_SIGMA).abs() <= 1e-3)
        & np.isfinite(frame["resolution"].to_numpy(dtype=float))
        & (frame["resolution"] > 0)
        & np.isfinite(frame["model_q"].to_numpy(dtype=float))
    )
    data = pd.DataFrame(
        {
            "id": frame.loc[usable, "id"].astype(str),
            "resolution": frame.loc[usable, "resolution"].astype(float),
            "qscore": frame.loc[usable, "model_q"].astype(float),
        }
    ).reset_index(drop=True)
    if data.empty:
        raise ReferenceTableError(
            f"None of the {len(frame)} batch results in '{out_dir}' is a successful sigma-0.4 "
            "score with a resolution, so there is no reference table to fit."
        )
    return ReferenceTable(data=data, source=f"batch results in {out_dir}", version=None)


def write_reference(table: ReferenceTable, path: str | os.PathLike) -> Path:
    """Write a reference table as CSV (id, resolution, qscore) that ``load_reference`` reads."""
    path = Path(path)
    _write_text_atomic(table.data[["id", "resolution", "qscore"]].to_csv(index=False), path)
    return path
