"""Speed and memory of ``qscore score`` against peer Q-score implementations, end to end.

Synthetic maps (gemmi's electron-density calculator, 3.5 Å, 1 Å voxels, a little noise) are built
around tiled copies of a 4,308-atom chain, then every tool is run as a user would run it, each in
its own process: wall time, CPU time (user + sys) and peak RSS of the process tree are recorded,
and the per-atom Q of each peer is compared with qscore's on the common atoms.

    .venv/bin/python bench/bench_score.py [--sizes 4k,17k,100k] [--peers jqscore,cctbx]
                                          [--repeat N] [--no-peers] [--profile]

Peers live in their own virtualenvs under ``bench/.peers/`` (``bench/setup_peers.sh``); inputs and
outputs go to ``bench/.work/``. See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import pstats
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import gemmi
import numpy as np
import psutil

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
WORK = BENCH / ".work"
PEERS = BENCH / ".peers"
QSCORE = REPO / ".venv" / "bin" / "qscore"
QSCORE_PYTHON = REPO / ".venv" / "bin" / "python"
SOURCE_MODEL = REPO.parent / "shared" / "data" / "emd-30342" / "7cec_chainA.cif"

#: Size label -> number of copies of the source chain.
SIZES = {"4k": 1, "17k": 4, "100k": 24, "1m": 252}
#: Size label -> (size it repeats, times): the model and map stacked along z, map data copied,
#: so that ten million atoms need no new density calculation.
STACKED = {"10m": ("1m", 10)}
RESOLUTION = 3.5
VOXEL = 1.0
#: Gap (Å) between the boxes of neighbouring copies, and around the whole model.
GAP = 4.0
MARGIN = 12.0
#: Noise standard deviation as a fraction of the map's standard deviation.
NOISE = 0.05
SEED = 30342
SIGMA = 0.4
#: cctbx's mmtbx.development.qscore fixes the reference Gaussian at this width.
CCTBX_SIGMA = 0.6
CHAIN_NAMES = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
POLL_SECONDS = 0.05


@dataclass
class Inputs:
    """One benchmark case: a model, its map and their sizes."""

    label: str
    model: Path
    map: Path
    atoms: int
    map_bytes: int
    shape: tuple[int, int, int]


@dataclass
class Run:
    """Resources of one finished process tree; ``others``: share of the machine's CPUs that other
    processes used meanwhile (0 on a quiet machine)."""

    wall: float
    cpu: float
    rss: int
    returncode: int
    others: float = 0.0
    log: str = ""


@dataclass
class Timing:
    """Cold (first) and warm runs of one tool on one case."""

    tool: str
    size: str
    atoms: int
    cold: Run
    warm: list[Run] = field(default_factory=list)

    def best(self) -> Run:
        """The fastest warm run (least disturbed by other load), or the cold one."""
        return min(self.warm or [self.cold], key=lambda r: r.wall)


@dataclass
class Agreement:
    """Per-atom agreement of a peer with qscore on their common atoms."""

    tool: str
    size: str
    sigma: float
    mode: str
    atoms: int
    mean_abs: float
    max_abs: float
    pearson: float


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------


def smooth_size(n: float) -> int:
    """Smallest integer ≥ n whose only prime factors are 2, 3 and 5 (FFT-friendly)."""
    k = max(1, math.ceil(n))
    while True:
        m = k
        for p in (2, 3, 5):
            while m % p == 0:
                m //= p
        if m == 1:
            return k
        k += 1


def tile_layout(copies: int, step: np.ndarray) -> tuple[int, int, int]:
    """Copies per axis (product = ``copies``) that keep the longest side of the tiling shortest."""
    best: tuple[float, tuple[int, int, int]] | None = None
    for a in range(1, copies + 1):
        for b in range(1, copies // a + 1):
            if copies % (a * b):
                continue
            dims = (a, b, copies // (a * b))
            side = float(np.max(np.array(dims) * step))
            if best is None or side < best[0]:
                best = (side, dims)
    assert best is not None
    return best[1]


def chain_name(i: int) -> str:
    """A, B, …, 9 for the first 62 copies, then two characters (AA, BA, …)."""
    n = len(CHAIN_NAMES)
    return CHAIN_NAMES[i % n] + (CHAIN_NAMES[i // n - 1] if i >= n else "")


def tiled_structure(copies: int) -> gemmi.Structure:
    """``copies`` non-overlapping translated copies of the source chain, chains A, B, …, in P1."""
    src = gemmi.read_structure(str(SOURCE_MODEL))
    src.remove_hydrogens()
    chain = src[0][0]
    xyz = np.array([a.pos.tolist() for r in chain for a in r])
    lo, hi = xyz.min(axis=0), xyz.max(axis=0)
    step = hi - lo + GAP
    layout = tile_layout(copies, step)
    st = gemmi.Structure()
    st.name = f"tiled{copies}"
    model = gemmi.Model(1)
    for i in range(copies):
        ia, ib, ic = np.unravel_index(i, layout)
        shift = np.array([ia, ib, ic]) * step - lo + MARGIN
        copy = chain.clone()
        copy.name = chain_name(i)
        for res in copy:
            res.subchain = ""
            for atom in res:
                p = atom.pos
                atom.pos = gemmi.Position(p.x + shift[0], p.y + shift[1], p.z + shift[2])
        model.add_chain(copy)
    st.add_model(model)
    extent = np.array(layout) * step - GAP + 2 * MARGIN
    cell = [smooth_size(e / VOXEL) * VOXEL for e in extent]
    st.cell = gemmi.UnitCell(*cell, 90, 90, 90)
    st.spacegroup_hm = "P 1"
    st.resolution = RESOLUTION
    st.setup_entities()
    return st


def synthetic_map(st: gemmi.Structure) -> gemmi.FloatGrid:
    """Electron density of ``st`` at 3.5 Å on 1 Å voxels over its cell, plus Gaussian noise.

    The model's B-factors are blurred further by molmap's width at the resolution
    (σ = 0.225·d, B = 8π²σ²), so that the map looks like a 3.5 Å reconstruction.
    """
    dc = gemmi.DensityCalculatorE()
    dc.d_min = RESOLUTION
    dc.rate = RESOLUTION / (2 * VOXEL)
    dc.blur = 8 * math.pi**2 * (0.225 * RESOLUTION) ** 2
    dc.set_grid_cell_and_spacegroup(st)
    dc.put_model_density_on_grid(st[0])
    grid = dc.grid
    values = np.array(grid, copy=False)
    rng = np.random.default_rng(SEED)
    plane = values[0].size
    mean = float(np.sum(values, dtype=np.float64)) / values.size
    var = sum(float(np.sum((s.astype(np.float64) - mean) ** 2)) for s in values) / values.size
    scale = NOISE * math.sqrt(var)
    for s in values:  # one plane at a time: the noise of a 10M-atom map would not fit at once
        s += rng.normal(0.0, scale, plane).astype(np.float32).reshape(s.shape)
    return grid


def stack_inputs(base: Inputs, times: int, model_path: Path, map_path: Path) -> None:
    """``times`` copies of ``base`` one above the other along z (the map's slowest file axis)."""
    header = np.fromfile(base.map, dtype=np.int32, count=256)
    if list(header[16:19]) != [1, 2, 3] or np.any(header[4:7]):
        raise ValueError(f"{base.map} is not stored x-fastest from voxel 0")
    extended = int(header[23])
    nz = int(header[2])
    cell_z = float(header.view(np.float32)[12])
    out = header.copy()
    out[2] = nz * times
    out[9] = int(header[9]) * times
    out.view(np.float32)[12] = cell_z * times
    with open(map_path, "wb") as dst:
        dst.write(out.tobytes())
        with open(base.map, "rb") as src:
            src.seek(1024)
            dst.write(src.read(extended))
            for _ in range(times):
                src.seek(1024 + extended)
                shutil.copyfileobj(src, dst, 64 << 20)
    st = gemmi.read_structure(str(base.model))
    model = st[0]
    chains = [model[i].clone() for i in range(len(model))]
    n = len(chains)
    for copy in range(1, times):
        shift = copy * cell_z
        for i, chain in enumerate(chains):
            moved = chain.clone()
            moved.name = chain_name(copy * n + i)
            for res in moved:
                for atom in res:
                    p = atom.pos
                    atom.pos = gemmi.Position(p.x, p.y, p.z + shift)
            model.add_chain(moved)
    st.cell = gemmi.UnitCell(st.cell.a, st.cell.b, cell_z * times, 90, 90, 90)
    st.setup_entities()
    st.make_mmcif_document().write_file(str(model_path))


def count_atoms(path: Path) -> int:
    """Atoms in a model file, counted as the number of _atom_site rows (cached next to it)."""
    cache = path.with_suffix(".atoms")
    if cache.exists() and cache.stat().st_mtime >= path.stat().st_mtime:
        return int(cache.read_text())
    doc = gemmi.cif.read(str(path))
    n = len(doc.sole_block().find_values("_atom_site.Cartn_x"))
    cache.write_text(str(n))
    return n


def build_inputs(label: str) -> Inputs:
    """The model and map of one size, built once and kept in ``bench/.work/``."""
    folder = WORK / label
    model_path, map_path = folder / f"model_{label}.cif", folder / f"map_{label}.mrc"
    if label in STACKED and not (model_path.exists() and map_path.exists()):
        folder.mkdir(parents=True, exist_ok=True)
        base, times = STACKED[label]
        stack_inputs(build_inputs(base), times, model_path, map_path)
    copies = SIZES.get(label, 0)
    if not (model_path.exists() and map_path.exists()):
        folder.mkdir(parents=True, exist_ok=True)
        st = tiled_structure(copies)
        st.make_mmcif_document().write_file(str(model_path))
        ccp4 = gemmi.Ccp4Map()
        ccp4.grid = synthetic_map(st)
        ccp4.update_ccp4_header(2)
        ccp4.write_ccp4_map(str(map_path))
    header = gemmi.read_ccp4_header(str(map_path))
    shape = tuple(int(header.header_i32(w)) for w in (1, 2, 3))
    return Inputs(
        label=label,
        model=model_path,
        map=map_path,
        atoms=count_atoms(model_path),
        map_bytes=4 * int(np.prod(shape)),
        shape=shape,
    )


# --------------------------------------------------------------------------------------------
# Measuring a process tree
# --------------------------------------------------------------------------------------------


def _poll_tree_rss(pid: int, stop: threading.Event, peak: list[int]) -> None:
    """Record the largest summed RSS of ``pid`` and its descendants until ``stop`` is set."""
    try:
        root = psutil.Process(pid)
    except psutil.Error:
        return
    while not stop.is_set():
        total = 0
        try:
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            break
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                total += proc.memory_info().rss
        peak[0] = max(peak[0], total)
        stop.wait(POLL_SECONDS)


def _busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (all CPUs)."""
    t = psutil.cpu_times()
    return sum(t) - t.idle - getattr(t, "iowait", 0.0)


def wait_for_quiet(max_wait: float, threshold: float = 0.15) -> float:
    """Wait (up to ``max_wait`` s) until other processes use < ``threshold`` of the CPUs for 1 s.

    Returns the share of the CPUs in use during the last second looked at.
    """
    deadline = time.monotonic() + max_wait
    ncpu = psutil.cpu_count() or 1
    while True:
        before = _busy_seconds()
        time.sleep(1.0)
        share = (_busy_seconds() - before) / ncpu
        if share < threshold or time.monotonic() >= deadline:
            return share


def measure(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> Run:
    """Run ``cmd`` to completion: wall, user + sys CPU and peak RSS of the whole tree."""
    cwd.mkdir(parents=True, exist_ok=True)
    log_path = cwd / "run.log"
    with open(log_path, "wb") as log:
        busy_before = _busy_seconds()
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        stop, peak = threading.Event(), [0]
        poller = threading.Thread(target=_poll_tree_rss, args=(proc.pid, stop, peak), daemon=True)
        poller.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        busy = _busy_seconds() - busy_before
        stop.set()
        poller.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    rss = max(peak[0], usage.ru_maxrss * 1024)
    cpu = usage.ru_utime + usage.ru_stime
    return Run(
        wall=wall,
        cpu=cpu,
        rss=rss,
        returncode=proc.returncode,
        others=max(0.0, busy - cpu) / (wall * (psutil.cpu_count() or 1)),
        log=log_path.read_text(errors="replace")[-2000:],
    )


# --------------------------------------------------------------------------------------------
# Tools
# --------------------------------------------------------------------------------------------


@dataclass
class Tool:
    """How to run one implementation and read its per-atom Q-scores."""

    name: str
    mode: str
    sigma: float
    command: Callable[[Inputs, Path], list[str]]
    env: Callable[[Path], dict[str, str]]
    per_atom: Callable[[Inputs, Path], dict[tuple[str, int, str], float]]
    reset_cold: Callable[[], None] = lambda: None


def _qscore_command(case: Inputs, out: Path) -> list[str]:
    """``qscore score MAP MODEL --json out.json``."""
    return [str(QSCORE), "score", str(case.map), str(case.model), "--json", str(out / "out.json")]


def _qscore_env(_: Path) -> dict[str, str]:
    """qscore's kernel is compiled at install time: the environment is used as it is."""
    return dict(os.environ)


def qscore_per_atom(case: Inputs, out: Path, sigma: float = SIGMA) -> dict:
    """Per-atom Q from an extra (untimed) ``qscore score --atoms-csv`` run."""
    import pandas as pd

    csv = out / f"atoms_sigma{sigma:g}.csv"
    if not csv.exists():
        cmd = [str(QSCORE), "score", str(case.map), str(case.model), "--sigma", str(sigma)]
        subprocess.run(
            [*cmd, "--atoms-csv", str(csv)], check=True, env=_qscore_env(out), capture_output=True
        )
    frame = pd.read_csv(csv, keep_default_na=False, dtype={"chain": str, "atom": str})
    return {
        (c, int(r), a): float(q)
        for c, r, a, q in zip(
            frame["chain"], frame["resseq"], frame["atom"], frame["q"], strict=True
        )
    }


def _jqscore_command(case: Inputs, out: Path) -> list[str]:
    """``jqscore MODEL MAP --no-mapq-compat --output residues.tsv`` (direct sampling)."""
    exe = PEERS / "jqscore" / "bin" / "jqscore"
    return [
        str(exe),
        str(case.model),
        str(case.map),
        "--sigma",
        str(SIGMA),
        "--no-mapq-compat",
        "--output",
        str(out / "residues.tsv"),
    ]


def _peer_env(_: Path) -> dict[str, str]:
    """The environment for a peer: CPU only."""
    return {**os.environ, "JAX_PLATFORMS": "cpu"}


def jqscore_per_atom(case: Inputs, out: Path) -> dict:
    """Per-atom Q from an extra (untimed) ``jqscore --verbose`` run, which prints every atom."""
    listing = out / "atoms_verbose.txt"
    if not listing.exists():
        cmd = [*_jqscore_command(case, out), "--verbose"]
        with open(listing, "wb") as fh:
            subprocess.run(
                cmd, check=True, env=_peer_env(out), stdout=fh, stderr=subprocess.DEVNULL, cwd=out
            )
    values = {}
    for line in listing.read_text().splitlines():
        head, sep, tail = line.strip().partition(": Q = ")
        if not sep or head.count(".") < 2:
            continue
        resseq, chain, atom = head.split(".", 2)
        values[(chain, int(resseq), atom)] = float(tail)
    return values


def _cctbx_command(case: Inputs, out: Path) -> list[str]:
    """``mmtbx.development.qscore MODEL MAP write_to_bfactor_pdb=True`` (defaults otherwise)."""
    exe = PEERS / "cctbx" / "bin" / "mmtbx.development.qscore"
    return [str(exe), str(case.model), str(case.map), "write_to_bfactor_pdb=True"]


def cctbx_per_atom(case: Inputs, out: Path) -> dict:
    """Per-atom Q from the B-factor column of the PDB file the timed run wrote."""
    st = gemmi.read_structure(str(out / "qscore_bfactor_field.pdb"))
    return {
        (ch.name, res.seqid.num, atom.name): atom.b_iso
        for ch in st[0]
        for res in ch
        for atom in res
    }


TOOLS = {
    "qscore": Tool(
        "qscore",
        "direct",
        SIGMA,
        _qscore_command,
        _qscore_env,
        qscore_per_atom,
    ),
    "jqscore": Tool(
        "jqscore",
        "--no-mapq-compat (direct)",
        SIGMA,
        _jqscore_command,
        _peer_env,
        jqscore_per_atom,
    ),
    "cctbx": Tool(
        "cctbx",
        "32 probes/shell, nproc=1",
        CCTBX_SIGMA,
        _cctbx_command,
        _peer_env,
        cctbx_per_atom,
    ),
}


def ready_peers(peers: list[str]) -> list[str]:
    """Install the requested peers (set-up script) and keep those whose command exists."""
    if not peers:
        return []
    subprocess.run(["bash", str(BENCH / "setup_peers.sh"), *peers], check=False)
    ready = []
    for peer in peers:
        exe = TOOLS[peer].command(Inputs("", Path(), Path(), 0, 0, (0, 0, 0)), Path())[0]
        if Path(exe).exists():
            ready.append(peer)
        else:
            print(f"Skipping {peer}: it could not be installed from PyPI ({exe} is missing).")
    return ready


# --------------------------------------------------------------------------------------------
# Running and reporting
# --------------------------------------------------------------------------------------------


def time_tool(tool: Tool, case: Inputs, repeat: int, quiet_wait: float) -> Timing | None:
    """One cold run (empty caches) then ``repeat`` warm runs, each in a fresh output folder.

    Before each run the machine is given up to ``quiet_wait`` s to become idle.
    """
    runs = []
    tool.reset_cold()
    for i in range(repeat + 1):
        out = WORK / case.label / tool.name / f"run{i}"
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        if quiet_wait > 0:
            wait_for_quiet(quiet_wait)
        run = measure(tool.command(case, out), cwd=out, env=tool.env(out))
        kind = "cold" if i == 0 else f"warm {i}"
        print(
            f"  {tool.name:8s} {case.label:>5s} {kind:7s} wall {run.wall:8.2f} s  "
            f"cpu {run.cpu:8.2f} s  rss {run.rss / 1e9:6.2f} GB  others {run.others:4.0%}  "
            f"rc {run.returncode}",
            flush=True,
        )
        if run.returncode != 0:
            print(f"  {tool.name} failed on {case.label}:\n{run.log}")
            return None
        runs.append(run)
    return Timing(tool=tool.name, size=case.label, atoms=case.atoms, cold=runs[0], warm=runs[1:])


def agreement(tool: Tool, case: Inputs) -> Agreement | None:
    """mean |ΔQ|, max |ΔQ| and Pearson r of a peer against qscore at the peer's sigma."""
    out = WORK / case.label / tool.name / "run0"
    try:
        peer = tool.per_atom(case, out)
        ours = qscore_per_atom(case, WORK / case.label / "qscore", sigma=tool.sigma)
    except (OSError, subprocess.CalledProcessError, ValueError) as exc:
        print(f"  no per-atom comparison for {tool.name} on {case.label}: {exc}")
        return None
    keys = [k for k in ours if k in peer and np.isfinite(ours[k]) and np.isfinite(peer[k])]
    if len(keys) < 2:
        print(f"  no common atoms between qscore and {tool.name} on {case.label}")
        return None
    a = np.array([ours[k] for k in keys])
    b = np.array([peer[k] for k in keys])
    diff = np.abs(a - b)
    return Agreement(
        tool=tool.name,
        size=case.label,
        sigma=tool.sigma,
        mode=tool.mode,
        atoms=len(keys),
        mean_abs=float(diff.mean()),
        max_abs=float(diff.max()),
        pearson=float(np.corrcoef(a, b)[0, 1]),
    )


def _gb(n: float) -> str:
    """Bytes as GB with two decimals."""
    return f"{n / 1e9:.2f}"


def _ratio(peer: float, ours: float) -> str:
    """Peer / qscore as "N.N×"."""
    return f"{peer / ours:.1f}×" if ours > 0 else "n/a"


def report(
    cases: list[Inputs], timings: list[Timing], agreements: list[Agreement]
) -> tuple[str, ...]:
    """The three Markdown tables: resources with ratios, agreement, qscore beyond the map."""
    by = {(t.tool, t.size): t for t in timings}
    lines = [
        "| size | atoms | tool | cold wall s | warm wall s | warm CPU s | peak RSS GB "
        "| others' load | wall ratio | CPU ratio | RSS ratio |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for case in cases:
        ours = by.get(("qscore", case.label))
        for name in TOOLS:
            t = by.get((name, case.label))
            if t is None:
                continue
            run = t.best()
            if ours is None or name == "qscore":
                ratios = ["1.0×" if name == "qscore" else "n/a"] * 3
            else:
                base = ours.best()
                ratios = [
                    _ratio(run.wall, base.wall),
                    _ratio(run.cpu, base.cpu),
                    _ratio(run.rss, base.rss),
                ]
            lines.append(
                f"| {case.label} | {case.atoms:,} | {name} | {t.cold.wall:.2f} | {run.wall:.2f} "
                f"| {run.cpu:.2f} | {_gb(run.rss)} | {run.others:.0%} | {' | '.join(ratios)} |"
            )
    resources = "\n".join(lines)
    lines = [
        "| size | peer | peer mode | sigma | common atoms | mean abs dQ | max abs dQ | Pearson r |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for ag in agreements:
        lines.append(
            f"| {ag.size} | {ag.tool} | {ag.mode} | {ag.sigma:g} | {ag.atoms:,} "
            f"| {ag.mean_abs:.2e} | {ag.max_abs:.2e} | {ag.pearson:.5f} |"
        )
    agree = "\n".join(lines)
    lines = [
        "| size | map grid (x, y, z) | map size MB | qscore peak RSS GB | beyond the map GB |",
        "|---|---|---:|---:|---:|",
    ]
    for case in cases:
        t = by.get(("qscore", case.label))
        if t is None:
            continue
        rss = t.best().rss
        lines.append(
            f"| {case.label} | {' × '.join(map(str, case.shape))} | {case.map_bytes / 1e6:.1f} "
            f"| {_gb(rss)} | {_gb(rss - case.map_bytes)} |"
        )
    beyond = "\n".join(lines)
    return resources, agree, beyond


def profile_qscore(case: Inputs, top: int = 25) -> None:
    """cProfile of one warm ``qscore score`` run on ``case``; prints the top cumulative entries."""
    out = WORK / case.label / "qscore" / "profile"
    out.mkdir(parents=True, exist_ok=True)
    stats_path = out / "score.prof"
    cmd = [str(QSCORE_PYTHON), "-m", "cProfile", "-o", str(stats_path), "-m", "qscore.cli.main"]
    cmd += ["score", str(case.map), str(case.model), "--json", str(out / "out.json")]
    subprocess.run(cmd, check=True, env=_qscore_env(out), capture_output=True)
    print(f"\ncProfile of qscore score on {case.label} ({case.atoms:,} atoms), by cumulative time:")
    stats = pstats.Stats(str(stats_path))
    stats.sort_stats("cumulative").print_stats(top)


def main(argv: list[str] | None = None) -> int:
    """Build the cases, time every tool on each, print and save the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default="4k,17k,100k", help="comma list of 4k, 17k, 100k, 1m, 10m"
    )
    parser.add_argument("--peers", default="jqscore,cctbx", help="comma list of jqscore, cctbx")
    parser.add_argument("--repeat", type=int, default=1, help="warm runs after the cold run")
    parser.add_argument("--no-peers", action="store_true", help="time qscore only")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=60.0,
        metavar="S",
        help="before each run, wait up to S s for the machine to be idle (0: do not wait)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="also cProfile qscore on the largest size"
    )
    parser.add_argument(
        "--stages",
        type=int,
        default=3,
        metavar="N",
        help="print where qscore's time goes per stage on each size, median of N runs (0: skip)",
    )
    args = parser.parse_args(argv)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    peers = [] if args.no_peers else [p.strip() for p in args.peers.split(",") if p.strip()]
    for name in sizes:
        if name not in SIZES and name not in STACKED:
            parser.error(f"unknown size {name!r}; choose from {', '.join([*SIZES, *STACKED])}")
    for name in peers:
        if name not in TOOLS or name == "qscore":
            parser.error(f"unknown peer {name!r}; choose from jqscore, cctbx")
    WORK.mkdir(parents=True, exist_ok=True)
    peers = ready_peers(peers)
    cases = []
    for label in sizes:
        start = time.perf_counter()
        case = build_inputs(label)
        print(
            f"{label}: {case.atoms:,} atoms, map {' × '.join(map(str, case.shape))} "
            f"({case.map_bytes / 1e6:.1f} MB), ready in {time.perf_counter() - start:.1f} s",
            flush=True,
        )
        cases.append(case)
    timings, agreements = [], []
    for case in cases:
        for name in ["qscore", *peers]:
            timing = time_tool(TOOLS[name], case, args.repeat, args.quiet_wait)
            if timing is None:
                continue
            timings.append(timing)
            if name != "qscore":
                ag = agreement(TOOLS[name], case)
                if ag is not None:
                    agreements.append(ag)
    tables = report(cases, timings, agreements)
    print(f"\nMachine: {os.cpu_count()} cores, Python {sys.version.split()[0]}.")
    print(
        "Warm: the fastest warm run; others' load: share of the CPUs other processes used during "
        "it. Ratios are peer / qscore (warm).\n"
    )
    print("\n\n".join(tables))
    results = {
        "timings": [asdict(t) for t in timings],
        "agreements": [asdict(a) for a in agreements],
        "cases": [{**asdict(c), "model": str(c.model), "map": str(c.map)} for c in cases],
    }
    (WORK / "results.json").write_text(json.dumps(results, indent=1))
    (WORK / "results.md").write_text("\n\n".join(tables) + "\n")
    if args.stages > 0:
        import bench_stages

        for case in cases:
            runs, others = bench_stages.measure(
                str(case.map), str(case.model), args.stages, python=str(QSCORE_PYTHON)
            )
            stage_table = bench_stages.table(runs, f"{case.label}, {args.stages} runs")
            print(f"\n{stage_table}\nOthers' load during these runs: {others:.0%} of the CPUs.")
    if args.profile and cases:
        profile_qscore(cases[-1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
