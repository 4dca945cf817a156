"""An early check that a model's atoms are spaced like atoms, before any scoring work.

Scoring looks at every neighbour within 3.8 Å of each atom, so a model whose coordinates are in
nanometres (10× too close) or otherwise packed far too densely costs quadratic time and gives
meaningless Q-scores. Bonded heavy atoms are 1.2–1.6 Å apart, so a real model, even one with
several alternative conformations on top of each other, has a few dozen heavy atoms within 2 Å
of an atom at most; such a pile-up is refused with a sentence instead.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from qscore.errors import ModelFormatError

#: Radius (Å) of the neighbourhood counted around each probed atom.
PROBE_RADIUS = 2.0
#: Median number of other heavy atoms within PROBE_RADIUS above which a model is refused.
MAX_MEDIAN_NEIGHBOURS = 64
#: Atoms probed (evenly spaced through the model), which keeps the check O(n log n).
PROBES = 256


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
    probes = xyz[np.linspace(0, len(xyz) - 1, min(PROBES, len(xyz))).astype(np.int64)]
    tree = cKDTree(xyz, balanced_tree=False, compact_nodes=False)
    counts = tree.query_ball_point(probes, PROBE_RADIUS, return_length=True) - 1
    crowd = float(np.median(counts))
    if crowd <= MAX_MEDIAN_NEIGHBOURS:
        return
    distance, _ = tree.query(probes, k=2)
    spacing = float(np.median(distance[:, 1]))
    if spacing >= 0.005:
        hint = "are the coordinates in nm (or another unit) rather than Å?"
    else:
        hint = "are many atoms stacked on the same positions?"
    raise ModelFormatError(
        f"{label}'s atoms are packed far too densely to be a real structure: the typical atom "
        f"has {crowd:.0f} others within {PROBE_RADIUS:g} Å and its nearest neighbour "
        f"{spacing:.2g} Å away (bonded atoms are 1.2–1.6 Å apart); {hint}"
    )
