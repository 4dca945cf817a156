"""Where the time of ``qscore score MAP MODEL --json F`` goes, stage by stage.

Each repeat runs in a fresh Python process (so imports are paid as a user pays them) that does
what the command does, with a clock around every stage:

imports
    the modules ``qscore score`` loads (CLI, pipeline, reader, engine, aggregation, outputs);
model parse
    :func:`qscore.io.models.read_model` (mmCIF text to per-atom arrays);
map read/crop
    :func:`qscore.io.maps.read_map` cropped around the model (memory-mapped);
neighbour lists, scoring
    the two parts of :func:`qscore.engine.score`, as the engine reports them in
    ``ScoreResult.timings`` (or, for a tree without that field, from its progress callback:
    everything before the first "scoring" report counts as neighbour lists);
aggregation
    the JSON summary (model, chain and type means, the archive context when the model records
    its resolution);
outputs
    writing the JSON file.

    .venv/bin/python bench/bench_stages.py MAP MODEL [--repeat 5] [--threads N]

The table shows the median of the repeats and, per stage, the smallest and largest value; the
machine's load from other processes during the runs is printed with it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

STAGES = (
    "imports",
    "model parse",
    "map read/crop",
    "neighbour lists",
    "scoring",
    "aggregation",
    "outputs",
)


class _Clock:
    """Wall and CPU (all threads of the process) seconds since the last mark."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def mark(self) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        spent = (wall - self.wall, cpu - self.cpu)
        self.wall, self.cpu = wall, cpu
        return spent


def run_once(map_path: str, model_path: str, out: str) -> dict[str, float]:
    """All stages of one scoring run in this process: wall and CPU seconds per stage ("<stage>"
    and "<stage> cpu"), plus peak RSS."""
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    clock = _Clock()
    from qscore import defaults
    from qscore.analysis.reference import default_reference
    from qscore.analysis.summary import score_summary
    from qscore.cli import common
    from qscore.engine import score
    from qscore.io.maps import read_map
    from qscore.io.models import read_model
    from qscore.pipeline import Scored

    times["imports"], times["imports cpu"] = clock.mark()
    model = read_model(model_path)
    times["model parse"], times["model parse cpu"] = clock.mark()
    dmap = read_map(map_path, crop_to=model.xyz, margin=defaults.CROP_MARGIN)
    times["map read/crop"], times["map read/crop cpu"] = clock.mark()
    start = time.perf_counter()
    marks: list[float] = []

    def progress(done: int, total: int, stage: str) -> None:
        if "scor" in stage:
            marks.append(time.perf_counter())

    result = score(dmap, model, sigma=defaults.SIGMA, mode=defaults.MODE, progress=progress)
    wall, cpu = clock.mark()
    stages = getattr(result, "timings", None)
    if stages:
        times["neighbour lists"] = stages["neighbour lists"]
    else:
        times["neighbour lists"] = (marks[0] if marks else start + wall) - start
    times["scoring"] = wall - times["neighbour lists"]
    # The engine's CPU time, split in proportion to the wall times of its two parts.
    share = times["neighbour lists"] / wall if wall > 0 else 0.0
    times["neighbour lists cpu"] = cpu * share
    times["scoring cpu"] = cpu * (1.0 - share)

    scored = Scored(dmap=dmap, model=model, result=result)
    resolution = model.resolution
    reference = default_reference() if resolution is not None else None
    doc = score_summary(scored, resolution, reference, defaults.WINDOW)
    times["aggregation"], times["aggregation cpu"] = clock.mark()
    common.write_json(doc, out)
    times["outputs"], times["outputs cpu"] = clock.mark()
    times["total"] = time.perf_counter() - t0
    times["total cpu"] = sum(times[f"{s} cpu"] for s in STAGES)
    times["peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024.0
    times["atoms"] = float(result.atoms_scored)
    return times


def _busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (from /proc/stat)."""
    with open("/proc/stat") as fh:
        fields = [float(v) for v in fh.readline().split()[1:]]
    ticks = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)
    return (sum(fields) - idle) / ticks


def measure(
    map_path: str, model_path: str, repeat: int, python: str = sys.executable
) -> tuple[list[dict[str, float]], float]:
    """``repeat`` fresh-process runs; their stage times and the others' load meanwhile."""
    runs = []
    others = []
    out = Path(os.environ.get("TMPDIR", "/tmp")) / f"qscore_stages_{os.getpid()}.json"
    for _ in range(repeat):
        busy = _busy_seconds()
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        text = subprocess.run(
            [python, __file__, "--once", map_path, model_path, str(out)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
        others.append(max(0.0, _busy_seconds() - busy - cpu) / (wall * (os.cpu_count() or 1)))
        run = json.loads(text.strip().splitlines()[-1])
        run["process wall"] = wall
        run["process cpu"] = cpu
        runs.append(run)
    out.unlink(missing_ok=True)
    return runs, statistics.median(others)


def table(runs: list[dict[str, float]], label: str) -> str:
    """Markdown table of the stages: median wall (min–max) and median CPU over the runs."""
    lines = [
        f"| stage ({label}) | wall s, median | wall s, min–max | CPU s, median |",
        "|---|---:|---:|---:|",
    ]
    for stage in (*STAGES, "total"):
        values = [r[stage] for r in runs]
        cpu = statistics.median(r[f"{stage} cpu"] for r in runs)
        low, high = min(values), max(values)
        lines.append(
            f"| {stage} | {statistics.median(values):.3f} | {low:.3f}–{high:.3f} | {cpu:.3f} |"
        )
    wall = statistics.median(r["process wall"] for r in runs)
    cpu = statistics.median(r["process cpu"] for r in runs)
    lines.append(f"| whole process (with start-up) | {wall:.3f} | | {cpu:.3f} |")
    rss = statistics.median(r["peak_rss_bytes"] for r in runs)
    lines.append(f"| peak RSS GB | {rss / 1e9:.2f} | | |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the stage table of ``qscore score`` on MAP MODEL."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--once":
        print(json.dumps(run_once(*argv[1:4])))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("map")
    parser.add_argument("model")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    runs, others = measure(args.map, args.model, args.repeat)
    atoms = int(runs[0]["atoms"])
    print(table(runs, f"{atoms:,} atoms, {args.repeat} runs"))
    print(f"\nOthers' load during the runs (median): {others:.0%} of the CPUs.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
