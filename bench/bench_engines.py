"""Speed of the NumPy reference engine against the compiled kernel, and their agreement.

Two measurements per case:

* **scoring**: ``qscore.engine.score`` in this process on the map and model already read, for the
  compiled kernel with its default threads, the kernel on one thread, and the NumPy engine;
  the fastest of the repeats (wall and CPU time), and max |ΔQ| between the engines;
* **end to end**: ``qscore score MAP MODEL --json out.json`` in its own process with
  ``QSCORE_ENGINE=compiled`` and ``QSCORE_ENGINE=numpy``: wall, CPU and peak RSS.

Cases: the EMD-30342 test case (the real map and 7cec chain A, ``../shared/data/emd-30342``) and
the synthetic models of ``bench_score.py`` (4k, 17k, 100k atoms).

    .venv/bin/python bench/bench_engines.py [--cases emd-30342,100k] [--repeat 3]
                                            [--sigma 0.4] [--quiet-wait 30]

Results go to ``bench/.work/engines.json`` and ``bench/.work/engines.md``; see ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_score import (
    QSCORE,
    SIZES,
    WORK,
    build_inputs,
    measure,
    wait_for_quiet,
)

EMD30342 = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "emd-30342"
REAL = "emd-30342"


@dataclass
class Case:
    """A map and a model on disk."""

    label: str
    map: Path
    model: Path


@dataclass
class Scoring:
    """Fastest scoring times (s) of each engine on one case and mode, and their agreement."""

    case: str
    atoms: int
    mode: str
    threads: int
    compiled_wall: float
    compiled_cpu: float
    compiled1_wall: float
    compiled1_cpu: float
    numpy_wall: float
    numpy_cpu: float
    max_abs_dq: float


@dataclass
class EndToEnd:
    """One ``qscore score`` process per engine."""

    case: str
    engine: str
    wall: float
    cpu: float
    rss: int
    others: float


def cases(labels: list[str]) -> list[Case]:
    """The requested cases, building the synthetic ones if needed."""
    out = []
    for label in labels:
        if label == REAL:
            if not EMD30342.exists():
                print(f"Skipping {REAL}: {EMD30342} is not available.")
                continue
            out.append(
                Case(REAL, EMD30342 / "emd_30342_chainA_zone.mrc", EMD30342 / "7cec_chainA.cif")
            )
        else:
            inputs = build_inputs(label)
            out.append(Case(label, inputs.map, inputs.model))
    return out


def _timed(fn, repeat: int, quiet_wait: float) -> tuple[float, float, object]:
    """Fastest wall and CPU time of ``repeat`` calls of ``fn`` (waiting for a quiet machine)."""
    walls, cpus, value = [], [], None
    for _ in range(repeat):
        if quiet_wait > 0:
            wait_for_quiet(quiet_wait)
        wall, cpu = time.perf_counter(), time.process_time()
        value = fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus), value


def score_in_process(
    case: Case, mode: str, sigma: float, repeat: int, quiet_wait: float
) -> Scoring:
    """Time ``engine.score`` for both engines on the map and model read once."""
    from qscore import engine
    from qscore.engine.compiled import default_threads
    from qscore.pipeline import load

    dmap, model = load(case.map, case.model)

    def run(name: str, threads: int | None = None):
        return engine.score(dmap, model, sigma=sigma, mode=mode, engine=name, threads=threads)

    run("numpy")  # warm up imports and caches
    cw, cc, compiled = _timed(lambda: run("compiled"), repeat, quiet_wait)
    c1w, c1c, _ = _timed(lambda: run("compiled", 1), repeat, quiet_wait)
    nw, nc, numpy_result = _timed(lambda: run("numpy"), repeat, quiet_wait)
    diff = np.abs(compiled.q - numpy_result.q)
    return Scoring(
        case=case.label,
        atoms=int(compiled.atoms_scored),
        mode=mode,
        threads=default_threads(),
        compiled_wall=cw,
        compiled_cpu=cc,
        compiled1_wall=c1w,
        compiled1_cpu=c1c,
        numpy_wall=nw,
        numpy_cpu=nc,
        max_abs_dq=float(np.nanmax(diff)),
    )


def end_to_end(case: Case, sigma: float, quiet_wait: float) -> list[EndToEnd]:
    """One ``qscore score`` process per engine."""
    rows = []
    for name in ("compiled", "numpy"):
        out = WORK / "engines" / case.label / name
        if quiet_wait > 0:
            wait_for_quiet(quiet_wait)
        cmd = [str(QSCORE), "score", str(case.map), str(case.model), "--sigma", str(sigma)]
        run = measure(
            [*cmd, "--json", str(out / "out.json")], out, {**os.environ, "QSCORE_ENGINE": name}
        )
        if run.returncode != 0:
            print(f"  qscore score with the {name} engine failed on {case.label}:\n{run.log}")
            continue
        doc = json.loads((out / "out.json").read_text())
        assert doc["engine"] == name, doc["engine"]
        rows.append(EndToEnd(case.label, name, run.wall, run.cpu, run.rss, run.others))
        print(
            f"  {case.label:>9s} end to end {name:8s} wall {run.wall:7.2f} s  cpu {run.cpu:7.2f} s  "
            f"rss {run.rss / 1e9:5.2f} GB  others {run.others:4.0%}",
            flush=True,
        )
    return rows


def report(scorings: list[Scoring], runs: list[EndToEnd]) -> str:
    """Two Markdown tables: the scoring step, and whole ``qscore score`` runs."""
    lines = [
        "| case | atoms | mode | compiled s (threads) | compiled s (1 thread) | NumPy s "
        "| NumPy / compiled | NumPy / compiled 1 thread | CPU ratio (1 thread) | max abs dQ |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in scorings:
        lines.append(
            f"| {s.case} | {s.atoms:,} | {s.mode} | {s.compiled_wall:.3f} ({s.threads}) "
            f"| {s.compiled1_wall:.3f} | {s.numpy_wall:.2f} | {s.numpy_wall / s.compiled_wall:.1f}× "
            f"| {s.numpy_wall / s.compiled1_wall:.1f}× | {s.numpy_cpu / s.compiled1_cpu:.1f}× "
            f"| {s.max_abs_dq:.1e} |"
        )
    scoring = "\n".join(lines)
    lines = [
        "| case | engine | wall s | CPU s | peak RSS GB | others' load | wall ratio | RSS ratio |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    base = {r.case: r for r in runs if r.engine == "compiled"}
    for r in runs:
        b = base.get(r.case)
        ratios = f"{r.wall / b.wall:.1f}× | {r.rss / b.rss:.1f}×" if b is not None else "n/a | n/a"
        lines.append(
            f"| {r.case} | {r.engine} | {r.wall:.2f} | {r.cpu:.2f} | {r.rss / 1e9:.2f} "
            f"| {r.others:.0%} | {ratios} |"
        )
    return scoring + "\n\n" + "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Time both engines on every case and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--cases", default=f"{REAL},100k", help=f"comma list of {REAL}, 4k, 17k, 100k"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="timed calls per engine (fastest kept)"
    )
    parser.add_argument("--sigma", type=float, default=0.4)
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=30.0,
        metavar="S",
        help="before each timing, wait up to S s for the machine to be idle (0: do not wait)",
    )
    parser.add_argument("--no-end-to-end", action="store_true", help="time the scoring step only")
    args = parser.parse_args(argv)
    labels = [c.strip() for c in args.cases.split(",") if c.strip()]
    for label in labels:
        if label != REAL and label not in SIZES:
            parser.error(f"unknown case {label!r}; choose from {REAL}, {', '.join(SIZES)}")
    scorings, runs = [], []
    for case in cases(labels):
        modes = ["direct", "mapq-multiprocess"] if case.label == REAL else ["direct"]
        for mode in modes:
            s = score_in_process(case, mode, args.sigma, args.repeat, args.quiet_wait)
            print(
                f"  {case.label:>9s} {mode:17s} compiled {s.compiled_wall:.3f} s "
                f"({s.threads} threads), {s.compiled1_wall:.3f} s (1 thread); NumPy "
                f"{s.numpy_wall:.2f} s; max |dQ| {s.max_abs_dq:.1e}",
                flush=True,
            )
            scorings.append(s)
        if not args.no_end_to_end:
            runs.extend(end_to_end(case, args.sigma, args.quiet_wait))
    text = report(scorings, runs)
    print(
        f"\nMachine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, sigma {args.sigma:g}.\n"
    )
    print(text)
    WORK.mkdir(parents=True, exist_ok=True)
    results = {"scoring": [asdict(s) for s in scorings], "end_to_end": [asdict(r) for r in runs]}
    (WORK / "engines.json").write_text(json.dumps(results, indent=1))
    (WORK / "engines.md").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
