"""Time the half-map local FSC on a 256³ map (1 Å voxels), as ``qscore score --half-maps`` runs it.

The half maps hold a band-limited random "molecule" filling a sphere of radius 90 Å (about 18%
of the box, like a large complex in its box) plus independent white noise. Three runs:

* the molecule's centres (a mask of the sphere, the default window and step): what a model
  filling that volume needs;
* the same at a 3 Å step;
* every centre of the box at a 4 Å step.

Prints the windows computed, seconds (wall and CPU) and windows per second, with the machine's
load, to ``stdout``. No peer runs side by side: BlocRes/ResMap are not installable from the
package registries.

Usage: ``.venv/bin/python bench/bench_local_resolution.py [--size 256]``
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import scipy.fft as sfft

from qscore.analysis import local_fsc
from qscore.io.maps import DensityMap


def half_maps(size: int, radius: float, seed: int = 0) -> tuple[DensityMap, DensityMap, np.ndarray]:
    """Two half maps of a band-limited random molecule in a sphere, and the sphere mask."""
    rng = np.random.default_rng(seed)
    shape = (size, size, size)
    f2 = (
        sfft.fftfreq(size)[:, None, None] ** 2
        + sfft.fftfreq(size)[None, :, None] ** 2
        + sfft.rfftfreq(size)[None, None, :] ** 2
    )
    signal = sfft.irfftn(
        sfft.rfftn(rng.standard_normal(shape, dtype=np.float32)) * np.exp(-40.0 * f2), s=shape
    ).astype(np.float32)
    centre = (size - 1) / 2.0
    z, y, x = np.ogrid[:size, :size, :size]
    inside = (x - centre) ** 2 + (y - centre) ** 2 + (z - centre) ** 2 <= radius**2
    signal *= inside
    signal *= 4.0 / signal[inside].std()
    maps = tuple(
        DensityMap(
            signal + rng.standard_normal(shape, dtype=np.float32), [0, 0, 0], [1, 1, 1], source=n
        )
        for n in ("half1", "half2")
    )
    return maps[0], maps[1], inside


def timed(label: str, **kwargs) -> None:
    wall, cpu = time.perf_counter(), time.process_time()
    estimate = local_fsc.local_resolution_from_half_maps(**kwargs)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    windows = int((estimate.values > 0).sum())
    median = float(np.median(estimate.values[estimate.values > 0]))
    print(
        f"{label:<44} {windows:>9,} windows {wall:7.1f} s wall {cpu:7.1f} s CPU "
        f"{windows / wall:9,.0f} windows/s  median {median:.2f} Å",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()
    t = time.perf_counter()
    half1, half2, inside = half_maps(args.size, radius=0.35 * args.size)
    print(
        f"{args.size}³ half maps built in {time.perf_counter() - t:.1f} s; molecule "
        f"{inside.mean():.1%} of the box; {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; "
        f"window {local_fsc.DEFAULT_WINDOW:g} Å, default step {local_fsc.DEFAULT_STEP:g} Å"
    )
    common = {"half1": half1, "half2": half2}
    timed("molecule, default step", mask=inside, **common)
    timed("molecule, 3 Å step", mask=inside, step=3.0, **common)
    timed("whole box, 4 Å step", step=4.0, **common)
    print(f"load at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
