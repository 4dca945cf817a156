"""Shared test helpers: the read-only reference data in ../shared and the other things a test may
need (the EMDB reference table, the compiled kernel, Chromium).

A test whose needs are not met is skipped with the reason, except when ``QSCORE_REQUIRE_DATA=1``
(set by CI): then it fails, so that a missing ``../shared`` or a broken install cannot pass as a
run of skips.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import NoReturn

import gemmi
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
EMD30342 = SHARED / "data" / "emd-30342"
EMD30342_MAP = EMD30342 / "emd_30342_chainA_zone.mrc"
EMD30342_MODEL = EMD30342 / "7cec_chainA.cif"
PAPER_CSV = SHARED / "data" / "emdb" / "emdb_qscores_sigma0.4_10188.csv"
CHROMIUM = Path("/usr/bin/chromium")
#: True when every need must be met (CI): unmet needs fail instead of skipping.
REQUIRED = os.environ.get("QSCORE_REQUIRE_DATA") == "1"


def unavailable(reason: str) -> NoReturn:
    """Skip the test with ``reason``, or fail it when ``QSCORE_REQUIRE_DATA=1``."""
    if REQUIRED:
        pytest.fail(f"{reason} (QSCORE_REQUIRE_DATA=1 makes this a failure)", pytrace=False)
    pytest.skip(reason)


def needs(condition: bool, reason: str) -> pytest.MarkDecorator:
    """A mark skipping the test when ``condition`` is false; under ``QSCORE_REQUIRE_DATA=1`` the
    test runs anyway and fails on what is missing."""
    return pytest.mark.skipif(not condition and not REQUIRED, reason=reason)


def require(path: Path) -> Path:
    """Return ``path``, or skip (fail in CI) when the shared data is not there."""
    if not path.exists():
        unavailable(f"reference data {path} is not available (../shared is absent)")
    return path


def require_reference():
    """The default EMDB reference table (the ``va`` package), or skip (fail in CI)."""
    from qscore.analysis.reference import default_reference

    table = default_reference()
    if table is None:
        unavailable("the va package's reference table is not installed")
    return table


def require_browser() -> None:
    """Skip (fail in CI) unless Debian's Chromium and Playwright's Python package are there."""
    if not CHROMIUM.exists():
        unavailable("chromium is not installed at /usr/bin/chromium (make browser installs it)")
    if importlib.util.find_spec("playwright") is None:
        unavailable("the playwright package is not installed (make setup-dev installs it)")


#: Mark for tests of the ``va`` package's reference table.
needs_va = needs(
    importlib.util.find_spec("va") is not None, "the va package (reference table) is not installed"
)


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
