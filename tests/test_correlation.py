"""The one correlation helper: NumPy's answer where defined, the caller's value where not, and the
kernel's Q-score of an atom to rounding."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qscore.engine import atom_samples, score
from qscore.engine.correlation import pearson


def test_matches_numpy_on_random_vectors():
    rng = np.random.default_rng(1)
    for size in (3, 17, 200):
        x, y = rng.normal(size=size), rng.normal(size=size) + 0.3 * np.arange(size)
        assert pearson(x, y) == pytest.approx(np.corrcoef(x, y)[0, 1], abs=1e-12)


@pytest.mark.parametrize(
    ("x", "y"), [(np.ones(5), np.arange(5.0)), (np.arange(4.0), np.full(4, 2.5)), ([], [])]
)
def test_undefined_is_what_the_caller_asks_for(x, y):
    assert pearson(np.asarray(x), np.asarray(y)) == 0.0
    assert math.isnan(pearson(np.asarray(x), np.asarray(y), undefined=math.nan))


def test_is_the_kernels_q_for_every_atom_of_emd30342(emd30342_pair):
    dmap, model = emd30342_pair
    atoms = np.flatnonzero(model.heavy)[::97]
    result = score(dmap, model, sigma=0.6)
    for atom in atoms:
        samples = atom_samples(dmap, model, int(atom), sigma=0.6)
        assert samples.q == pytest.approx(result.q[atom], abs=1e-12)
