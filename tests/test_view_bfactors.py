"""The B-factors page (``views/b_factors.py``) through Streamlit's AppTest, on a prepared result."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app_support.state import RESULT, SELECTED, Current
from qscore.analysis.tables import Analysis
from qscore.engine import score
from qscore.io.maps import write_map
from qscore.pipeline import Scored, load
from tests.conftest import EMD30342, require
from tests.test_cli_bfactor import write_model
from tests.test_modelmap import experimental_like, small_model

PAGE = Path(__file__).resolve().parents[1] / "views" / "b_factors.py"


def current(scored: Scored, resolution: float | None, key: str) -> Current:
    return Current(
        key=key,
        label=key,
        scored=scored,
        analysis=Analysis.of(scored),
        resolution=resolution,
        sigma=0.4,
        mode="direct",
        reference=None,
        window=0.5,
        selected=None,
        is_example=False,
    )


@pytest.fixture(scope="module")
def small_scored(tmp_path_factory) -> Scored:
    folder = tmp_path_factory.mktemp("page")
    write_map(folder / "map.mrc", experimental_like(small_model()))
    write_model(folder / "model.cif", resolution=4.0)
    dmap, model = load(folder / "map.mrc", folder / "model.cif")
    return Scored(dmap=dmap, model=model, result=score(dmap, model, sigma=0.4))


def run_page(cur: Current) -> AppTest:
    at = AppTest.from_file(str(PAGE), default_timeout=120)
    at.session_state[RESULT] = cur
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_page_shows_scan_slices_tables_and_downloads(small_scored):
    at = run_page(current(small_scored, 4.0, "small-4"))
    labels = [m.label for m in at.metric]
    assert labels == [
        "Best f",
        "CC-mean, B from Q",
        "CC-mean, B = 0",
        "CC-mean, deposited B",
        "Molmap CC",
        "Molmap CC-mean",
    ]
    assert len(at.dataframe) == 2
    assert not at.warning
    assert at.selectbox[0].value is not None
    at.selectbox[0].select(3).run()
    assert not at.exception
    assert at.session_state[SELECTED] == 3
    assert at.selectbox[0].value == 3


def test_page_asks_for_a_resolution(small_scored):
    at = run_page(current(small_scored, None, "small-none"))
    assert any("resolution" in w.value for w in at.warning)
    assert not at.metric


def test_page_on_emd30342():
    folder = require(EMD30342)
    dmap, model = load(folder / "emd_30342_chainA_zone.mrc", folder / "7cec_chainA.cif")
    scored = Scored(dmap=dmap, model=model, result=score(dmap, model, sigma=0.4))
    at = run_page(current(scored, 3.9, "emd-30342"))
    values = {m.label: m.value for m in at.metric}
    assert values["Best f"] in {"60", "80", "100"}
    assert float(values["CC-mean, B from Q"]) >= float(values["CC-mean, B = 0"])
