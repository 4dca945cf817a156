"""Q_relative_all / Q_relative_resolution: hand-made tables and the paper's Table 2."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qscore.analysis.reference import ReferenceTable, default_reference
from qscore.analysis.relative import (
    INTERPRETATION_HIGH,
    INTERPRETATION_LOW,
    INTERPRETATION_TYPICAL,
    archive_percentiles,
    relative_q,
    relative_q_many,
)
from qscore.errors import ParameterError
from tests.conftest import needs_va


def _table(resolutions, qs) -> ReferenceTable:
    data = pd.DataFrame(
        {"id": [str(i) for i in range(len(qs))], "resolution": resolutions, "qscore": qs}
    )
    return ReferenceTable(data=data, source="hand-made")


TINY = _table([2.0, 2.5, 3.0, 3.5, 4.0, 4.6], [0.8, 0.6, 0.5, 0.4, 0.3, 0.2])


def test_percentile_on_tiny_table():
    r = relative_q(0.45, 3.0, TINY, window=0.5)
    # all: Q < 0.45 for 0.4, 0.3, 0.2 -> 3 of 6
    assert r.q_relative_all == pytest.approx(50.0)
    # window |d - 3| <= 0.5: 2.5, 3.0, 3.5 (edges included) -> Q < 0.45 only 0.4 -> 1 of 3
    assert r.entries_window == 3
    assert r.q_relative_resolution == pytest.approx(100 / 3)
    assert r.entries_all == 6


def test_strict_less_than():
    r = relative_q(0.5, 3.0, TINY, window=0.5)
    assert r.q_relative_all == pytest.approx(50.0)  # 0.4, 0.3, 0.2; 0.5 itself not counted
    assert r.q_relative_resolution == pytest.approx(100 / 3)


def test_window_edges_with_float_fuzz():
    table = _table([3.5, 2.5, 3.6, 2.4, 3.0 + 0.5], [0.1, 0.1, 0.1, 0.1, 0.1])
    r = relative_q(0.2, 3.0, table, window=0.5)
    assert r.entries_window == 3
    r = relative_q(0.2, 2.9, _table([3.4, 2.4, 3.41], [0.1, 0.1, 0.1]), window=0.5)
    assert r.entries_window == 2


def test_small_window_warning_and_interpretations():
    r = relative_q(0.95, 3.0, TINY)
    assert r.warning and "30" in r.warning
    assert r.interpretation == INTERPRETATION_HIGH
    assert relative_q(0.1, 3.0, TINY).interpretation == INTERPRETATION_LOW
    big = _table(np.full(40, 3.0), np.linspace(0, 1, 40))
    r = relative_q(0.5, 3.0, big)
    assert r.warning is None
    assert r.interpretation == INTERPRETATION_TYPICAL


def test_empty_window():
    r = relative_q(0.5, 9.0, TINY)
    assert r.entries_window == 0
    assert r.q_relative_resolution is None
    assert r.warning


@pytest.mark.parametrize(
    ("q", "d", "w"), [(np.nan, 3, 0.5), (0.5, 0, 0.5), (0.5, 3, 0), (0.5, -1, 0.5)]
)
def test_bad_parameters(q, d, w):
    with pytest.raises(ParameterError):
        relative_q(q, d, TINY, window=w)


def test_vectorised_matches_scalar():
    rng = np.random.default_rng(1)
    table = _table(np.round(rng.uniform(1, 6, 300), 2), rng.uniform(0, 1, 300))
    qs = rng.uniform(0, 1, 50)
    ds = np.round(rng.uniform(1, 6, 50), 1)
    frame = relative_q_many(qs, ds, table, 0.5)
    for q, d, row in zip(qs, ds, frame.itertuples(), strict=True):
        one = relative_q(q, d, table, 0.5)
        assert row.q_relative_all == pytest.approx(one.q_relative_all)
        assert row.q_relative_resolution == pytest.approx(one.q_relative_resolution)
        assert row.entries_window == one.entries_window
    ranked = archive_percentiles(table)
    assert list(ranked.columns)[:2] == ["id", "q"] and len(ranked) == 300


# Paper Table 2: EMDB id, resolution, Q, Q_relative_all %, Q_relative_resolution % (w = 0.5 Å).
TABLE_2 = [
    ("EMD-7770", 1.9, 0.70, 99.0, 73.0),
    ("EMD-21432", 2.4, 0.075, 3.9, 0.39),
    ("EMD-22136", 2.9, 0.51, 71.0, 51.0),
    ("EMD-31385", 3.1, 0.43, 47.0, 26.0),
    ("EMD-30321", 3.5, 0.66, 97.0, 99.0),
    ("EMD-0449", 5.7, 0.001, 0.78, 0.94),
    ("EMD-23206", 7.0, 0.36, 31.0, 100.0),
]


@needs_va
@pytest.mark.parametrize(("emdb", "d_paper", "q_paper", "all_paper", "res_paper"), TABLE_2)
def test_paper_table_2_with_va(emdb, d_paper, q_paper, all_paper, res_paper):
    table = default_reference()
    key = emdb.removeprefix("EMD-")
    listed = table.data[table.data["id"] == key]
    if len(listed):
        d, q, where = float(listed["resolution"].iloc[0]), float(listed["qscore"].iloc[0]), "table"
    else:
        d, q, where = d_paper, q_paper, "paper"
    r = relative_q(q, d, table, window=0.5)
    line = (
        f"{emdb}: paper d={d_paper} Q={q_paper} -> {all_paper}% / {res_paper}%; "
        f"ours ({where} values d={d:g} Q={q:g}, {table.entries} entries, "
        f"{r.entries_window} in window) -> {r.q_relative_all:.2f}% / "
        f"{r.q_relative_resolution:.2f}% (differences {r.q_relative_all - all_paper:+.2f} / "
        f"{r.q_relative_resolution - res_paper:+.2f} points)"
    )
    print(line)
    assert abs(r.q_relative_all - all_paper) <= 3.0, line
    assert abs(r.q_relative_resolution - res_paper) <= 3.0, line
