"""Size and time of ``qscore report`` on EMD-30342 and on a ~100,000-atom model.

The large case is generated in a temporary folder (never kept): EMD-30342's map tiled 4 × 3 × 2
and 24 copies of its chain A, each moved into its own tile (chains A, B, C, …), 103,392 atoms in
a 356 × 243 × 126 map. Each command runs in its own process, as a user would run it; wall time
and CPU time (user + sys of the process) are printed for ``qscore report`` (with and without
``--bfactors``) beside ``qscore score --json`` on the same inputs, so the ratio is the cost of the
report on top of scoring.

    .venv/bin/python bench/bench_report.py [--cases emd30342,100k] [--bfactors] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import gemmi
import numpy as np

REPO = Path(__file__).resolve().parent.parent
QSCORE = REPO / ".venv" / "bin" / "qscore"
DATA = REPO.parent / "shared" / "data" / "emd-30342"
MAP = DATA / "emd_30342_chainA_zone.mrc"
MODEL = DATA / "7cec_chainA.cif"
RESOLUTION = 3.9
#: Tiles along x, y, z of the large case (24 copies of the chain).
TILES = (4, 3, 2)


def tiled_case(folder: Path) -> tuple[Path, Path, int]:
    """Write the tiled map and the 24-chain model into ``folder``; (map, model, atoms)."""
    from qscore.io.maps import DensityMap, read_map, write_map

    dmap = read_map(MAP)
    nz, ny, nx = dmap.values.shape
    tx, ty, tz = TILES
    values = np.tile(dmap.values, (tz, ty, tx))
    write_map(folder / "tiled.mrc", DensityMap(values, dmap.origin, dmap.voxel_size))
    source = gemmi.read_structure(str(MODEL))
    source.setup_entities()
    chain = source[0][0]
    structure = gemmi.Structure()
    structure.cell = gemmi.UnitCell()
    structure.add_model(gemmi.Model("1"))
    names = iter(string.ascii_uppercase + string.ascii_lowercase)
    step = np.array([nx, ny, nz]) * dmap.voxel_size
    for k in range(tz):
        for j in range(ty):
            for i in range(tx):
                copy = gemmi.Chain(next(names))
                shift = gemmi.Position(*(np.array([i, j, k]) * step))
                for residue in chain:
                    moved = residue.clone()
                    for atom in moved:
                        atom.pos = atom.pos + shift
                    copy.add_residue(moved)
                structure[0].add_chain(copy)
    structure.setup_entities()
    document = structure.make_mmcif_document()
    document.sole_block().set_pair("_em_3d_reconstruction.resolution", str(RESOLUTION))
    document.write_file(str(folder / "tiled.cif"))
    return folder / "tiled.mrc", folder / "tiled.cif", structure[0].count_atom_sites()


def timed(command: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + sys) of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def run_case(name: str, map_path: Path, model_path: Path, atoms: int, out: Path, bfactors: bool):
    """Time score and report on one case and print one line each."""
    common = [str(map_path), str(model_path), "--resolution", str(RESOLUTION)]
    wall_s, cpu_s = timed([str(QSCORE), "score", *common, "--json", str(out / f"{name}.json")])
    print(f"{name}: {atoms:,} atoms")
    print(f"  qscore score --json          wall {wall_s:6.2f} s   cpu {cpu_s:6.2f} s")
    runs = [("report", [])] + ([("report --bfactors", ["--bfactors"])] if bfactors else [])
    for label, extra in runs:
        html = out / f"{name}{'_b' if extra else ''}.html"
        wall, cpu = timed([str(QSCORE), "report", *common, *extra, "-o", str(html)])
        size = html.stat().st_size
        print(
            f"  qscore {label:<22} wall {wall:6.2f} s   cpu {cpu:6.2f} s   "
            f"{size / 1e6:5.2f} MB   cpu ratio to score {cpu / cpu_s:4.1f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default="emd30342,100k")
    parser.add_argument("--bfactors", action="store_true", help="also time --bfactors")
    parser.add_argument("--keep", metavar="DIR", help="write inputs and reports to DIR instead")
    args = parser.parse_args(argv)
    if not MAP.exists():
        print(f"The EMD-30342 data is not at {DATA}.", file=sys.stderr)
        return 2
    load = os.getloadavg()[0]
    print(f"load average {load:.1f} on {os.cpu_count()} CPUs (wall times grow with it)")
    with tempfile.TemporaryDirectory(prefix="qscore-report-bench-") as tmp:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        cases = args.cases.split(",")
        if "emd30342" in cases:
            atoms = gemmi.read_structure(str(MODEL))[0].count_atom_sites()
            run_case("emd30342", MAP, MODEL, atoms, folder, args.bfactors)
        if "100k" in cases:
            map_path, model_path, atoms = tiled_case(folder)
            run_case("100k", map_path, model_path, atoms, folder, args.bfactors)
    return 0


if __name__ == "__main__":
    sys.exit(main())
