"""An early check that a model's atoms are spaced like atoms, before any scoring work.

Scoring looks at every neighbour within 3.8 Å of each atom, so a model whose coordinates are in
nanometres (10× too close) or otherwise packed far too densely costs quadratic time and gives
meaningless Q-scores. Bonded heavy atoms are 1.2–1.6 Å apart, so a real model, even one with
several alternative conformations on top of each other, has a few dozen heavy atoms within 2 Å
of an atom at most; such a pile-up is refused with a sentence instead.
"""

from __future__ import annotations

import itertools

import numpy as np

from qscore.errors import ModelFormatError

#: Radius (Å) of the neighbourhood counted around each probed atom.
PROBE_RADIUS = 2.0
#: Median number of other heavy atoms within PROBE_RADIUS above which a model is refused.
MAX_MEDIAN_NEIGHBOURS = 64
#: Atoms probed (evenly spaced through the model), which keeps the check O(n log n).
PROBES = 256
#: Candidates looked at around one probe; beyond this the probe is crowded whatever their
#: distances, and a sample of this many gives the nearest-neighbour spacing for the message.
_MAX_CANDIDATES = 65_536
_OFFSETS = np.array(list(itertools.product((-1, 0, 1), repeat=3)), dtype=np.int64)


def check_packing(xyz: np.ndarray, *, label: str = "The model") -> None:
    """Refuse heavy-atom coordinates packed far denser than any real model.

    Parameters
    ----------
    xyz : numpy.ndarray
        (n, 3) heavy-atom coordinates in Å.
    label : str
        How the message names the model.

    Raises
    ------
    ModelFormatError
        When the median probed atom has more than :data:`MAX_MEDIAN_NEIGHBOURS` other heavy
        atoms within :data:`PROBE_RADIUS` Å (real models have 2–4, or a few dozen with stacked
        alternative conformations).
    """
    xyz = np.asarray(xyz, dtype=np.float64)
    if len(xyz) <= MAX_MEDIAN_NEIGHBOURS:
        return
    # Atoms a million Å out are not part of any packing (and would overflow the cell keys).
    xyz = xyz[np.all(np.abs(xyz) < 1e6, axis=1)]
    if len(xyz) <= MAX_MEDIAN_NEIGHBOURS:
        return
    probe_index = np.linspace(0, len(xyz) - 1, min(PROBES, len(xyz))).astype(np.int64)
    counts, nearest = _probe_neighbourhoods(xyz, probe_index)
    crowd = float(np.median(counts))
    if crowd <= MAX_MEDIAN_NEIGHBOURS:
        return
    spacing = float(np.median(nearest))
    if spacing >= 0.005:
        hint = "are the coordinates in nm (or another unit) rather than Å?"
    else:
        hint = "are many atoms stacked on the same positions?"
    raise ModelFormatError(
        f"{label}'s atoms are packed far too densely to be a real structure: the typical atom "
        f"has {crowd:.0f} others within {PROBE_RADIUS:g} Å and its nearest neighbour "
        f"{spacing:.2g} Å away (bonded atoms are 1.2–1.6 Å apart); {hint}"
    )


def _probe_neighbourhoods(xyz: np.ndarray, probes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each probed atom, the number of other atoms within :data:`PROBE_RADIUS` and the
    distance to its nearest other atom (inf when none is within one cell).

    Atoms are binned in cubic cells of edge :data:`PROBE_RADIUS`, sorted by cell; a probe's
    candidates are the atoms of its 27 surrounding cells, so the work is one sort plus the
    probes' neighbourhoods (capped at :data:`_MAX_CANDIDATES` each).
    """
    cells = np.floor((xyz - xyz.min(axis=0)) / PROBE_RADIUS).astype(np.int64) + 1
    span = cells.max(axis=0) + 2
    key = (cells[:, 0] * span[1] + cells[:, 1]) * span[2] + cells[:, 2]
    order = np.argsort(key, kind="stable")
    sorted_keys = key[order]
    around = cells[probes][:, None, :] + _OFFSETS[None, :, :]
    wanted = (around[..., 0] * span[1] + around[..., 1]) * span[2] + around[..., 2]
    starts = np.searchsorted(sorted_keys, wanted, side="left")
    stops = np.searchsorted(sorted_keys, wanted, side="right")
    counts = np.zeros(len(probes), dtype=np.int64)
    nearest = np.full(len(probes), np.inf)
    for k, probe in enumerate(probes):
        found = np.concatenate([order[a:b] for a, b in zip(starts[k], stops[k], strict=True)])
        found = found[found != probe]
        if len(found) > _MAX_CANDIDATES:
            found = found[:: len(found) // _MAX_CANDIDATES + 1]
            counts[k] = np.iinfo(np.int64).max
        distance = np.sqrt(np.sum((xyz[found] - xyz[probe]) ** 2, axis=1))
        if counts[k] == 0:
            counts[k] = int(np.count_nonzero(distance <= PROBE_RADIUS))
        if len(distance):
            nearest[k] = float(distance.min())
    return counts, nearest
