"""The compiled kernel: checked arguments, lazy loading, exact ties, and the bounds on dense input."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from qscore.engine import compiled, scoring, shells
from qscore.errors import DenseModelError
from qscore.io.maps import DensityMap
from tests.conftest import needs
from tests.test_engine import gaussian_map, make_model

pytestmark = needs(compiled.available(), "the compiled kernel is not built in this environment")


def _grid_args(values=None):
    values = np.zeros((4, 5, 6), np.float32) if values is None else values
    return values, np.zeros(3), np.ones(3), np.eye(3)


def test_sample_rejects_mismatched_arrays_before_touching_memory():
    k = compiled.kernel()
    points = np.zeros((3, 3))
    out = np.empty(3)
    values, origin, voxel, to_index = _grid_args()
    k.sample(points, values, origin, voxel, to_index, 1, out)
    with pytest.raises(TypeError, match="values must be a float32 array"):
        k.sample(points, values.astype(np.float64), origin, voxel, to_index, 1, out)
    with pytest.raises(TypeError, match="points must be a float64 array"):
        k.sample(points.astype(np.float32), values, origin, voxel, to_index, 1, out)
    with pytest.raises(TypeError, match="not list"):
        k.sample([[0.0, 0.0, 0.0]], values, origin, voxel, to_index, 1, out)
    with pytest.raises(ValueError, match="out must have 3 entries"):
        k.sample(points, values, origin, voxel, to_index, 1, np.empty(2))
    with pytest.raises(ValueError, match="points must have 3 entries along axis 1"):
        k.sample(np.zeros((3, 4)), values, origin, voxel, to_index, 1, out)
    with pytest.raises(ValueError, match="to_index must have 3 entries"):
        k.sample(points, values, origin, voxel, np.eye(4), 1, out)
    with pytest.raises(ValueError, match="values must be C-contiguous"):
        k.sample(points, np.zeros((6, 5, 4), np.float32).T, origin, voxel, to_index, 1, out)
    readonly = np.empty(3)
    readonly.flags.writeable = False
    with pytest.raises(ValueError, match="out must be writable"):
        k.sample(points, values, origin, voxel, to_index, 1, readonly)
    with pytest.raises(ValueError, match="threads"):
        k.sample(points, values, origin, voxel, to_index, 0, out)


def test_score_refuses_neighbour_indices_outside_the_model():
    centres = np.zeros((1, 3))
    nb = np.array([[0.0, 0.0, 1.0]])
    idx = np.array([[5]], dtype=np.int64)
    dist = np.ones((1, 1))
    count = np.ones(1, dtype=np.int64)
    values, origin, voxel, to_index = _grid_args()
    radii = shells.RADII
    with pytest.raises(ValueError, match="neighbour index out of range"):
        compiled.kernel().score(
            centres, nb, nb.astype(np.float32), True, idx, dist, count, values, origin, voxel,
            to_index, radii, np.ones_like(radii), shells.UNIT, shells.UNIT_OFFSETS, 1,
            np.empty(1),
        )  # fmt: skip


@pytest.mark.parametrize(
    "code",
    [
        "import qscore; qscore.__version__",
        "import qscore.engine; import qscore.analysis.modelmap",
        "from qscore.cli.main import main; main(['relative', '--resolution', '3', '--q', '0.5'])",
        "from qscore.cli.main import main; main(['stats'])",
    ],
)
def test_the_kernel_is_loaded_only_when_needed(code):
    probe = f"{code}\nimport sys; print('qscore.engine._kernel' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip().splitlines()[-1] == "False"


def _reference_shell(centre, radius, neighbours, single_check):
    """MapQ's rule for one shell, spelled out point by point in float64 (no shortcuts)."""
    lim2 = (shells.REJECT_FACTOR * radius) ** 2
    rounded = neighbours.astype(np.float32).astype(np.float64)
    for t in range(len(shells.UNIT_OFFSETS) - 1):
        unit = shells.UNIT[shells.UNIT_OFFSETS[t] : shells.UNIT_OFFSETS[t + 1]]
        accepted = []
        for u in unit:
            p = np.array([centre[a] + radius * u[a] for a in range(3)])
            rejected = False
            for x, x32 in zip(neighbours, rounded, strict=True):
                d = p - x
                e = p - x32
                close64 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2] < lim2
                close32 = e[0] * e[0] + e[1] * e[1] + e[2] * e[2] < lim2
                if close64 and (close32 or not single_check):
                    rejected = True
                    break
            if not rejected:
                accepted.append(p)
        if len(accepted) >= shells.MIN_POINTS:
            return np.array(accepted)
    return np.zeros((0, 3))


@pytest.mark.parametrize("single_check", [True, False])
@pytest.mark.parametrize("offset", [0.0, 873.25, 12000.5])
def test_points_on_the_rejection_threshold_are_settled_exactly(single_check, offset):
    """Neighbours placed at 0.9·R from spiral points, or up to 1e-3 Å closer, near the origin and
    far from it (where float32 coordinates differ from float64 by up to 5e-4 Å, so the two
    precisions MapQ checks disagree): the kernel's float32 pre-tests must not decide these."""
    rng = np.random.default_rng(7)
    for trial in range(40):
        centre = offset + rng.uniform(-5, 5, 3)
        radius = float(shells.RADII[rng.integers(5, len(shells.RADII))])
        t = int(rng.integers(0, 6))
        unit = shells.UNIT[shells.UNIT_OFFSETS[t] : shells.UNIT_OFFSETS[t + 1]]
        picks = rng.choice(len(unit), size=3, replace=False)
        neighbours = []
        for k in picks:
            p = centre + radius * unit[k]
            w = rng.normal(size=3)
            w /= np.linalg.norm(w)
            gap = 0.0 if trial % 2 else rng.uniform(0.0, 1e-3)
            neighbours.append(p + (shells.REJECT_FACTOR * radius - gap) * w)
        neighbours.append(centre + rng.normal(size=3) * radius)
        nb = np.array(neighbours)
        dist = np.linalg.norm(nb - centre, axis=1)
        order = np.argsort(dist, kind="stable")
        got = compiled.shell_points(
            centre, radius, nb, nb.astype(np.float32), order, dist[order],
            single_check=single_check, unit=shells.UNIT, set_offsets=shells.UNIT_OFFSETS,
        )  # fmt: skip
        expected = _reference_shell(centre, radius, nb, single_check)
        np.testing.assert_array_equal(got, expected, err_msg=f"trial {trial}")


def test_a_dense_pile_the_packing_probe_misses_is_refused_with_a_sentence():
    """16,000 atoms spaced like a protein, then 14,000 piled into a 3 Å cube: most atoms look
    normal (so the read-time packing probe passes), but the pile alone would cost 14,000² distance
    tests, so the kernel's own bound refuses the model before any work."""
    rng = np.random.default_rng(3)
    grid = np.stack(np.meshgrid(*[np.arange(25) * 2.5] * 3, indexing="ij"), -1).reshape(-1, 3)
    spread = grid[:16000] + 10.0
    pile = 40.0 + rng.uniform(0, 3, (14000, 3))
    atoms = [("C", "C1", "LIG", i + 1, tuple(p)) for i, p in enumerate(np.vstack([spread, pile]))]
    model = make_model(atoms)
    values = rng.normal(size=(20, 20, 20)).astype(np.float32)
    dmap = DensityMap(values, np.zeros(3), np.full(3, 5.0))
    with pytest.raises(DenseModelError, match="denser than any molecule.*nm rather than Å"):
        scoring.score(dmap, model)


def test_crowded_atoms_use_their_nearest_neighbours_and_say_so():
    """An atom with 200 others within 3.8 Å is scored from its nearest 128, with a note."""
    rng = np.random.default_rng(5)
    shell = rng.normal(size=(200, 3))
    shell *= rng.uniform(2.0, 3.7, (200, 1)) / np.linalg.norm(shell, axis=1, keepdims=True)
    centre = np.array([20.0, 20.0, 20.0])
    atoms = [("C", "C1", "LIG", 1, tuple(centre))]
    atoms += [("O", "O1", "HOH", i + 2, tuple(centre + v)) for i, v in enumerate(shell)]
    model = make_model(atoms)
    dmap = gaussian_map(model.xyz, 0.8, voxel=0.5)
    result = scoring.score(dmap, model, selection=np.array([0]))
    assert np.isfinite(result.q[0])
    assert any(f"only the nearest {shells.NEIGHBOUR_LIMIT}" in n for n in result.notes)
