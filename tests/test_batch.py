"""Batch scoring on Dask: manifests, equality with serial scoring, worker loss, failures,
resuming, the command line and refitting the statistical model from batch results."""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from qscore.analysis.expected import MEAN_COEFFICIENTS_04
from qscore.analysis.reference import default_reference, load_reference
from qscore.batch import runner as batch
from qscore.batch.runner import (
    Entry,
    ManifestError,
    Outcome,
    entries_from_frame,
    error_sentence,
    read_entries,
    read_manifest,
    read_residues,
    reference_from_results,
    run_batch,
    score_entry,
    write_outcome,
)
from qscore.cli.main import main
from qscore.errors import MapFormatError, ReferenceTableError
from qscore.io.export import residues_frame
from qscore.pipeline import load_and_score

N_ENTRIES = 20
#: (sequence, secondary structure, seed) of the small proteins the entries are made from.
PROTEINS = (
    ("MKTAYIAKQRQISFVKSHFSRQ", "LHHHHHHHHHLLEEEELLEEEE", 1),
    ("GSWTEVLKKLAEEAGYRPNDL", "LLHHHHHHHHHHLLLEEEELL", 2),
    ("KVEIRVNGQTYEVEVDPETGK", "LEEEEEELLEEEEEELLLLLL", 3),
    ("SPEELLRRAIELAKKGDLDAA", "LHHHHHHHHHHHHHLLHHHHL", 4),
)


def _write_entries(folder: Path) -> Path:
    """20 entries (models of 4 small proteins, simulated maps at 1.5–8 Å) and their manifest."""
    from qscore.io.maps import write_map
    from qscore.synthetic.builder.protein import build_protein, structure_to_mmcif
    from qscore.synthetic.simulate import simulate_map

    data = folder / "data"
    data.mkdir(parents=True)
    structures = []
    for k, (sequence, ss, seed) in enumerate(PROTEINS):
        st = build_protein(sequence, ss, seed=seed)
        structure_to_mmcif(st, str(data / f"protein{k}.cif"))
        structures.append(st)
    rows = []
    for i, resolution in enumerate(np.linspace(1.5, 8.0, N_ENTRIES)):
        k = i % len(PROTEINS)
        dmap = simulate_map(structures[k], float(resolution), noise=0.3, seed=i)
        write_map(data / f"entry{i:02d}.mrc", dmap)
        rows.append(
            {
                "id": f"EMD-{1000 + i}",
                "map": f"data/entry{i:02d}.mrc",
                "model": f"data/protein{k}.cif",
                "resolution": round(float(resolution), 3),
            }
        )
    manifest = folder / "manifest.csv"
    pd.DataFrame(rows).to_csv(manifest, index=False)
    return manifest


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> Path:
    """The 20-entry manifest, built once per module."""
    return _write_entries(tmp_path_factory.mktemp("entries"))


@pytest.fixture(scope="module")
def serial(manifest: Path) -> dict[str, Outcome]:
    """Every entry scored in this process, one after the other, with timing."""
    start = time.perf_counter()
    outcomes = {e.id: score_entry(e) for e in read_manifest(manifest)}
    outcomes["_seconds"] = time.perf_counter() - start
    return outcomes


@contextlib.contextmanager
def _local_client():
    """A client of a two-worker local Dask cluster with its own scratch folder."""
    from distributed import Client, LocalCluster

    with (
        tempfile.TemporaryDirectory(prefix="qscore-test-dask-") as scratch,
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            local_directory=scratch,
        ) as local,
        Client(local) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def cluster():
    """A two-worker local cluster shared by the tests that do not disturb it."""
    with _local_client() as client:
        yield client


def _copy_manifest(manifest: Path, folder: Path, rows: slice | None = None) -> Path:
    """The manifest with absolute paths, optionally a slice of it, written into ``folder``."""
    frame = pd.read_csv(manifest, dtype=str)
    frame["map"] = [str(manifest.parent / p) for p in frame["map"]]
    frame["model"] = [str(manifest.parent / p) for p in frame["model"]]
    if rows is not None:
        frame = frame.iloc[rows]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "manifest.csv"
    frame.to_csv(path, index=False)
    return path


# ----------------------------------------------------------------------------- manifests


def test_manifest_resolves_relative_paths_and_per_entry_sigma(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "m.csv"
    path.write_text(
        "id,map,model,resolution,sigma\nA-1,maps/a.mrc,/abs/a.cif,3.2,\nB_2,b.mrc,b.cif,,0.6\n"
    )
    first, second = read_manifest(path, sigma=0.4)
    assert first.map == str((tmp_path / "sub" / "maps" / "a.mrc").resolve())
    assert first.model == "/abs/a.cif"
    assert (first.resolution, first.sigma) == (3.2, 0.4)
    assert math.isnan(second.resolution) and second.sigma == 0.6


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("id,map,model\nA,a.mrc,a.cif\n", "lacks the column(s) resolution"),
        ("id,map,model,resolution\n", "lists no entries"),
        ("id,map,model,resolution\nA,a.mrc,a.cif,3\nA,b.mrc,b.cif,3\n", "'A' twice"),
        ("id,map,model,resolution\na/b,a.mrc,a.cif,3\n", "ids must be"),
        ("id,map,model,resolution\nA,a.mrc,a.cif,three\n", "must be a number"),
        ("id,map,model,resolution\nA,a.mrc,a.cif,-1\n", "positive number"),
        ("id,map,model,resolution\nA,,a.cif,3\n", "has no map file"),
    ],
)
def test_manifest_errors_are_sentences(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "m.csv"
    path.write_text(text)
    with pytest.raises(ManifestError) as info:
        read_manifest(path)
    assert fragment in str(info.value)


def test_missing_manifest_is_a_cli_error(tmp_path: Path, capsys) -> None:
    code = main(["batch", str(tmp_path / "none.csv"), "--out", str(tmp_path / "out")])
    assert code == 2
    assert "does not exist" in capsys.readouterr().err


def test_error_sentences_are_one_line() -> None:
    from distributed.scheduler import KilledWorker

    assert error_sentence(MapFormatError("The map is\nbroken.")) == "The map is broken."
    text = error_sentence(ValueError("bad\nvalue"))
    assert text == "Unexpected ValueError while scoring this entry: bad value"
    assert "KilledWorker" in error_sentence(KilledWorker("key", "worker", 3))


def test_results_name_the_engine_that_scored(
    manifest: Path, serial: dict, tmp_path: Path, monkeypatch
) -> None:
    entry = read_manifest(manifest)[3]
    monkeypatch.setenv("QSCORE_ENGINE", "numpy")
    row = write_outcome(tmp_path, score_entry(entry))
    assert row["engine"] == "numpy" and row["status"] == "ok"
    assert row["model_q"] == serial[entry.id].summary["model_q"]
    assert read_entries(tmp_path)["engine"].tolist() == ["numpy"]
    # A results folder written before the column existed still reads, with no engine named.
    old = tmp_path / "before"
    (old / "entries").mkdir(parents=True)
    table = pd.DataFrame([{k: v for k, v in row.items() if k != "engine"}])
    table.to_parquet(old / "entries" / f"{entry.id}.parquet")
    frame = read_entries(old)
    assert frame["model_q"].tolist() == [row["model_q"]] and frame["engine"].isna().all()


# ----------------------------------------------------------------------------- cluster runs


@pytest.mark.slow
def test_two_workers_give_the_serial_results(
    manifest: Path, serial: dict, tmp_path: Path, capsys
) -> None:
    calls: list[tuple[int, int, str]] = []
    stamps: list[float] = []

    def record(*args) -> None:
        calls.append(args)
        stamps.append(time.perf_counter())

    start = time.perf_counter()
    frame = run_batch(manifest, tmp_path / "out", workers=2, progress=record)
    seconds = time.perf_counter() - start
    with capsys.disabled():
        print(
            f"\n{N_ENTRIES} entries: serial {serial['_seconds']:.2f} s; 2-worker local cluster "
            f"{seconds:.2f} s in all, first result after {stamps[1] - start:.2f} s, the other "
            f"{N_ENTRIES - 1} in {stamps[-1] - stamps[1]:.2f} s"
        )
    assert list(frame["id"]) == [f"EMD-{1000 + i}" for i in range(N_ENTRIES)]
    assert (frame["status"] == "ok").all(), frame["error"].tolist()
    assert (frame["engine"] == "compiled").all()
    assert calls[0] == (0, N_ENTRIES, f"0 ok, 0 failed, {N_ENTRIES} remaining")
    assert calls[-1] == (N_ENTRIES, N_ENTRIES, f"{N_ENTRIES} ok, 0 failed, 0 remaining")
    for row in frame.itertuples():
        outcome = serial[row.id]
        assert row.model_q == outcome.summary["model_q"]
        assert row.q_protein == outcome.summary["types"]["protein"]
        assert row.atoms == outcome.summary["atoms_scored"]
        pd.testing.assert_frame_equal(
            read_residues(tmp_path / "out", row.id), outcome.residues, check_dtype=False
        )
    # The serial path itself is the plain pipeline.
    first = read_manifest(manifest)[0]
    scored = load_and_score(first.map, first.model)
    assert frame.loc[0, "model_q"] == scored.result.model_q
    expected = residues_frame(scored.model, scored.result.q)
    np.testing.assert_array_equal(
        read_residues(tmp_path / "out", first.id)["q"].to_numpy(), expected["q"].to_numpy()
    )
    # Q falls with resolution, and every entry carries its context.
    assert frame["model_q"].iloc[0] > frame["model_q"].iloc[-1] + 0.2
    assert frame["q_peak"].notna().all() and (frame["verdict"] != "").all()
    if default_reference() is not None:
        assert frame["q_relative_resolution"].notna().all()
    summary = pd.read_parquet(tmp_path / "out" / "summary.parquet")
    pd.testing.assert_frame_equal(summary, frame)
    assert len(pd.read_csv(tmp_path / "out" / "summary.csv")) == N_ENTRIES
    assert not [p for p in (tmp_path / "out").rglob(".*") if p.is_file()]


@pytest.mark.slow
def test_a_killed_worker_still_yields_every_entry(
    manifest: Path, serial: dict, tmp_path: Path
) -> None:
    killed: list[int] = []
    with _local_client() as client:

        def kill_busy_worker(done: int, total: int, stage: str) -> None:
            if done != 1 or killed:
                return
            busy = [w for w, keys in client.processing().items() if keys]
            if busy:
                pid = client.run(os.getpid, workers=busy[:1])[busy[0]]
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)

        frame = run_batch(manifest, tmp_path / "out", client=client, progress=kill_busy_worker)
        assert killed, "no worker was busy when the first entry finished"
        client.wait_for_workers(2, timeout=60)
        assert killed[0] not in client.run(os.getpid).values()
    assert (frame["status"] == "ok").all(), frame["error"].tolist()
    assert len(frame) == N_ENTRIES
    for row in frame.itertuples():
        assert row.model_q == serial[row.id].summary["model_q"]


@pytest.mark.slow
def test_broken_entries_are_recorded_and_retried_on_request(
    manifest: Path, cluster, tmp_path: Path, capsys
) -> None:
    path = _copy_manifest(manifest, tmp_path / "run", slice(0, 6))
    frame = pd.read_csv(path, dtype=str)
    good_map = Path(frame.loc[1, "map"])
    truncated = tmp_path / "run" / "truncated.mrc"
    truncated.write_bytes(good_map.read_bytes()[:3000])
    frame.loc[1, "map"] = str(truncated)
    frame.loc[2, "map"] = frame.loc[2, "model"]
    frame.loc[3, "model"] = str(tmp_path / "missing.cif")
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    code = main(["batch", str(path), "--out", str(out), "--scheduler", cluster.scheduler.address])
    printed = capsys.readouterr().out
    assert code == 1
    assert "6 entries: 3 ok, 3 failed" in printed
    result = pd.read_parquet(out / "summary.parquet").set_index("id")
    ids = list(frame["id"])
    assert list(result["status"]) == ["ok", "failed", "failed", "failed", "ok", "ok"]
    assert "is truncated" in result.loc[ids[1], "error"]
    assert "looks like an atomic model" in result.loc[ids[2], "error"]
    assert "missing.cif does not exist" in result.loc[ids[3], "error"]
    assert f"  {ids[1]}: The map file 'truncated.mrc' is truncated" in printed
    assert not (out / "residues" / f"{ids[1]}.parquet").exists()
    assert math.isnan(result.loc[ids[1], "model_q"])

    # Failed entries are kept as they are on a plain rerun ...
    stamp = (out / "entries" / f"{ids[1]}.parquet").stat().st_mtime_ns
    run_batch(path, out, client=cluster)
    assert (out / "entries" / f"{ids[1]}.parquet").stat().st_mtime_ns == stamp
    # ... and scored again with retry_failed once the file is repaired.
    truncated.write_bytes(good_map.read_bytes())
    again = run_batch(path, out, client=cluster, retry_failed=True).set_index("id")
    assert again.loc[ids[1], "status"] == "ok"
    assert list(again["status"]) == ["ok", "ok", "failed", "failed", "ok", "ok"]


@pytest.mark.slow
def test_an_interrupted_run_resumes_without_redoing_entries(
    manifest: Path, serial: dict, cluster, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    stop_after = 5

    def stop(done: int, total: int, stage: str) -> None:
        if done == stop_after:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_batch(manifest, out, client=cluster, progress=stop)
    finished = sorted((out / "entries").glob("*.parquet"))
    assert len(finished) == stop_after
    assert not (out / "summary.parquet").exists()
    # A damaged result file (not one this code writes) only means that entry is redone.
    damaged = finished.pop()
    damaged.write_bytes(b"not parquet")
    first_done = {p.name: p.stat().st_mtime_ns for p in finished}
    time.sleep(0.05)

    calls: list[tuple[int, int, str]] = []
    frame = run_batch(manifest, out, client=cluster, progress=lambda *a: calls.append(a))
    kept = stop_after - 1
    assert calls[0] == (kept, N_ENTRIES, f"{kept} ok, 0 failed, {N_ENTRIES - kept} remaining")
    assert len(calls) == 1 + N_ENTRIES - kept
    assert pd.read_parquet(damaged)["status"].tolist() == ["ok"]
    assert (frame["status"] == "ok").all()
    for name, stamp in first_done.items():
        assert (out / "entries" / name).stat().st_mtime_ns == stamp
    for row in frame.itertuples():
        assert row.model_q == serial[row.id].summary["model_q"]
    # A changed sigma means the earlier results no longer answer the manifest.
    rescored = run_batch(read_manifest(manifest, sigma=0.6)[:2], out, client=cluster, sigma=0.6)
    assert list(rescored["sigma"]) == [0.6, 0.6]
    assert (out / "entries" / f"{rescored['id'][0]}.parquet").stat().st_mtime_ns > max(
        first_done.values()
    )


# ----------------------------------------------------------------------------- refitting


def _eq1(d: np.ndarray) -> np.ndarray:
    return np.polyval(MEAN_COEFFICIENTS_04, d)


def _synthetic_results(folder: Path, n: int, noise: float, seed: int = 7) -> None:
    """A batch results folder whose model Q follow equation 1 plus Gaussian noise."""
    rng = np.random.default_rng(seed)
    resolution = rng.uniform(1.5, 8.0, n)
    q = _eq1(resolution) + rng.normal(0.0, noise, n)
    for i in range(n):
        entry = Entry(f"S{i:05d}", "m.mrc", "m.cif", float(resolution[i]), 0.4)
        summary = {"model_q": float(q[i]), "atoms_scored": 100, "types": {"protein": q[i]}}
        write_outcome(
            folder, Outcome(entry, "direct", "ok", "", 0.1, entry.resolution, summary, None)
        )
    # Entries a refit must ignore: a failure, another sigma, no resolution.
    odd = [
        Outcome(Entry("F1", "m", "m", 3.0, 0.4), "direct", "failed", "Broken.", 0, 3.0, {}, None),
        Outcome(
            Entry("S6", "m", "m", 3.0, 0.6), "direct", "ok", "", 0, 3.0, {"model_q": 0.1}, None
        ),
        Outcome(
            Entry("N1", "m", "m", math.nan, 0.4),
            "direct",
            "ok",
            "",
            0,
            math.nan,
            {"model_q": 0.1},
            None,
        ),
    ]
    for outcome in odd:
        write_outcome(folder, outcome)


@pytest.mark.slow
def test_refit_from_batch_results_recovers_the_generating_curve(tmp_path: Path, capsys) -> None:
    n, noise = 3000, 0.04
    _synthetic_results(tmp_path, n, noise)
    table = reference_from_results(tmp_path)
    assert table.entries == n
    assert set(table.data.columns) == {"id", "resolution", "qscore"}

    code = main(["stats", "--from", str(tmp_path), "--json", str(tmp_path / "fit.json")])
    assert code == 0
    assert "written to" in capsys.readouterr().out
    fit = json.loads((tmp_path / "fit.json").read_text())
    assert fit["entries"] == n and fit["model"]["degree"] == 3

    # Tolerance: the refitted cubic stays within 0.01 of equation 1 over 1.5-8 Å.
    grid = np.linspace(1.5, 8.0, 200)
    deviation = np.max(np.abs(np.polyval(fit["model"]["coefficients"], grid) - _eq1(grid)))
    assert deviation < 0.01, deviation
    # R² and its cross-validated value match the generating process within 0.02.
    d = np.random.default_rng(1).uniform(1.5, 8.0, 1_000_000)
    signal = np.var(_eq1(d))
    expected_r2 = signal / (signal + noise**2)
    cubic = next(p for p in fit["polynomial"] if p["degree"] == 3)
    assert abs(cubic["r2"] - expected_r2) < 0.02
    assert abs(fit["cross_validation"]["r2"] - expected_r2) < 0.02
    assert abs(fit["cross_validation"]["rmse"] - noise) < 0.005
    # The noise is symmetric, so the peak sits on the curve; the 95% band is at least as wide
    # as the noise's own 5-95% range.
    offsets = fit["offsets"]
    assert abs(offsets["peak"]) <= 0.02
    assert offsets["low95"] < -1.5 * noise and offsets["high95"] > 1.5 * noise
    assert abs(offsets["residual_percentiles"]["p5"] + 1.645 * noise) < 0.01

    # The table written into the folder is a reference table the other commands accept,
    # and fitting it gives the same JSON (bar its source).
    written = load_reference(tmp_path / "reference.csv")
    assert written.entries == n
    np.testing.assert_array_equal(written.data["qscore"], table.data["qscore"])
    main(
        [
            "stats",
            "--reference",
            str(tmp_path / "reference.csv"),
            "--json",
            str(tmp_path / "r.json"),
        ]
    )
    again = json.loads((tmp_path / "r.json").read_text())
    assert {k: v for k, v in again.items() if k != "source"} == {
        k: v for k, v in fit.items() if k != "source"
    }


def test_refit_needs_usable_entries(tmp_path: Path, capsys) -> None:
    with pytest.raises(ReferenceTableError, match="no batch results"):
        reference_from_results(tmp_path)
    _synthetic_results(tmp_path, 5, 0.04)
    assert reference_from_results(tmp_path).entries == 5
    assert main(["stats", "--from", str(tmp_path)]) == 2
    assert "needs at least 20" in capsys.readouterr().err
    assert len(read_entries(tmp_path)) == 8


def test_entries_from_frame_defaults_to_the_working_folder(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    frame = pd.DataFrame({"id": ["X"], "map": ["a.mrc"], "model": ["a.cif"], "resolution": [2]})
    (entry,) = entries_from_frame(frame)
    assert entry.map == str(tmp_path.resolve() / "a.mrc")
    assert batch.available_cpus() >= 1


def test_an_unreachable_scheduler_is_a_cli_error(tmp_path: Path, capsys) -> None:
    path = tmp_path / "m.csv"
    path.write_text("id,map,model,resolution\nA,a.mrc,a.cif,3\n")
    code = main(["batch", str(path), "--out", str(tmp_path / "o"), "--scheduler", "nope://x"])
    assert code == 2
    assert "Cannot reach the Dask scheduler at nope://x" in capsys.readouterr().err


# ----------------------------------------------------------------------------- file identity


def test_file_identity_sees_content_behind_an_unchanged_size_and_time(tmp_path: Path) -> None:
    path = tmp_path / "map.mrc"
    path.write_bytes(b"a" * 5000)
    before = path.stat()
    first = batch.file_identity(path)
    path.write_bytes(b"a" * 2500 + b"b" + b"a" * 2499)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size and path.stat().st_mtime_ns == before.st_mtime_ns
    assert batch.file_identity(path) != first
    assert batch.file_identity(tmp_path / "missing.mrc") == ""
    assert batch.file_identity(tmp_path) == ""


@pytest.mark.slow
def test_a_map_replaced_at_the_same_path_is_rescored(
    manifest: Path, cluster, tmp_path: Path
) -> None:
    from scipy import ndimage

    from qscore.io.maps import DensityMap, read_map, write_map

    path = _copy_manifest(manifest, tmp_path / "manifest", rows=slice(0, 2))
    frame = pd.read_csv(path)
    own = tmp_path / "own.mrc"
    own.write_bytes(Path(frame.loc[0, "map"]).read_bytes())
    frame.loc[0, "map"] = str(own)
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    first = run_batch(path, out, client=cluster).set_index("id")
    assert (first["status"] == "ok").all()
    stamps = {p.name: p.stat().st_mtime_ns for p in (out / "entries").glob("*.parquet")}
    # Same path, same size, same modification time, different density (blurred).
    before = own.stat()
    dmap = read_map(own)
    blurred = ndimage.gaussian_filter(dmap.values, 1.5).astype(np.float32)
    write_map(own, DensityMap(blurred, dmap.origin, dmap.voxel_size))
    os.utime(own, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert own.stat().st_size == before.st_size
    second = run_batch(path, out, client=cluster).set_index("id")
    changed, kept = frame.loc[0, "id"], frame.loc[1, "id"]
    assert second.loc[changed, "model_q"] < first.loc[changed, "model_q"] - 0.05
    assert second.loc[changed, "map_identity"] != first.loc[changed, "map_identity"]
    assert second.loc[kept, "model_q"] == first.loc[kept, "model_q"]
    assert (out / "entries" / f"{kept}.parquet").stat().st_mtime_ns == stamps[f"{kept}.parquet"]
    assert (out / "entries" / f"{changed}.parquet").stat().st_mtime_ns > stamps[
        f"{changed}.parquet"
    ]
