"""Shared fixtures: the read-only reference data in ../shared, skipped with a reason when absent."""

from __future__ import annotations

from pathlib import Path

import gemmi
import numpy as np
import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
EMD30342 = SHARED / "data" / "emd-30342"


def require(path: Path) -> Path:
    """Return ``path``, or skip the test with a reason when the shared data is not there."""
    if not path.exists():
        pytest.skip(f"reference data {path} is not available (../shared is absent)")
    return path


def mapq_scores(path: Path) -> np.ndarray:
    """Per-atom Q from a MapQ output mmCIF (``_atom_site.Q_score`` or ``Q-score``)."""
    block = gemmi.cif.read(str(path)).sole_block()
    for tag in ("_atom_site.Q_score", "_atom_site.Q-score"):
        values = block.find_values(tag)
        if values:
            return np.array([float(v) for v in values])
    raise AssertionError(f"{path} has no Q-score column")


@pytest.fixture(scope="session")
def emd30342() -> Path:
    """Folder of the EMD-30342 map, its model and MapQ's outputs."""
    return require(EMD30342)


@pytest.fixture(scope="session")
def emd30342_pair(emd30342: Path):
    """The EMD-30342 map and 7cec chain A model, read once per test session."""
    from qscore.io.maps import read_map
    from qscore.io.models import read_model

    return read_map(emd30342 / "emd_30342_chainA_zone.mrc"), read_model(
        emd30342 / "7cec_chainA.cif"
    )
