"""What the overview, archive and residue-table pages say, on EMD-30342: the difference under
Q_peak, the verdict heading, the archive points at sigma 0.6, the paper's 1–10 Å selection and
blank cells where a residue has no such atoms."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from qscore.analysis.context import archive_note, peak_delta
from qscore.analysis.expected import LABELS, verdict_heading
from tests.conftest import EMD30342, require, require_reference

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def app(monkeypatch) -> AppTest:
    """The dashboard scoring the EMD-30342 map and 7cec chain A from disk."""
    folder = require(EMD30342)
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("QSCORE_ALLOW_LOCAL_PATHS", "1")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.text_input(key="qs.map_path").input(str(folder / "emd_30342_chainA_zone.mrc"))
    at.text_input(key="qs.model_path").input(str(folder / "7cec_chainA.cif")).run()
    _assert_clean(at)
    return at


def _assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]


def _metric(at: AppTest, label: str):
    return [m for m in at.metric if m.label == label][0]


def _resolution(at: AppTest):
    return [n for n in at.number_input if n.label.startswith("Reported")][0]


def test_verdict_headings_keep_the_symbols():
    assert verdict_heading(LABELS["below"]) == "Below Q_low_95%"
    assert verdict_heading(LABELS["above"]) == "Above Q_high_95%"
    assert verdict_heading(LABELS["typical"]) == "As commonly observed"


def test_peak_delta_says_which_is_which():
    assert peak_delta(0.376, 0.383) == "-0.007 (model Q − Q_peak)"
    assert peak_delta(0.400, 0.383) == "+0.017 (model Q − Q_peak)"


def test_overview_delta_and_heading(app):
    _resolution(app).set_value(2.0).run()
    _assert_clean(app)
    model_q = float(_metric(app, "Model Q").value)
    peak = _metric(app, "Q_peak")
    assert peak.delta.endswith("(model Q − Q_peak)")
    difference = float(peak.delta.split()[0])
    assert difference == pytest.approx(model_q - float(peak.value), abs=0.0015)
    assert difference < 0, "at 2 Å the 3.9 Å map's model Q lies below Q_peak"
    assert any(e.value.startswith("**Below Q_low_95%.**") for e in app.error)


def _figure(at: AppTest, index: int = 0) -> dict:
    return json.loads(at.get("plotly_chart")[index].proto.spec)


def test_sigma_06_overview_leaves_the_sigma_04_archive_out_and_says_so(app):
    overview = [t["name"] for t in _figure(app)["data"]]
    assert any(name.startswith("EMDB entries") for name in overview)
    app.number_input(key="qs.sigma").set_value(0.6).run()
    _assert_clean(app)
    names = [t["name"] for t in _figure(app)["data"]]
    assert not any(name.startswith("EMDB entries") for name in names)
    assert {"Q_peak", "This model"} <= set(names)
    assert any(c.value == archive_note(0.6) for c in app.caption)
    app.switch_page("views/archive.py").run()
    _assert_clean(app)
    assert any(archive_note(0.6) in c.value for c in app.caption)
    for index in range(len(app.get("plotly_chart"))):
        assert "Current model" not in [t.get("name") for t in _figure(app, index)["data"]]


def _comparison(at: AppTest):
    """The page's table of equation 1 beside the refit, indexed by curve."""
    frames = [d.value for d in at.dataframe if "curve" in d.value.columns]
    assert len(frames) == 1
    return frames[0].set_index("curve")


def test_archive_page_fits_1_to_10_angstrom_and_shows_equation_1(app):
    require_reference()
    app.switch_page("views/archive.py").run()
    _assert_clean(app)
    chosen = app.slider[0]
    assert tuple(chosen.value) == (1.0, 10.0)
    said = "reported resolution of 1–10 Å (the paper's selection)"
    assert any(said in c.value for c in app.caption)
    assert "equation 1 (paper)" in [t["name"] for t in _figure(app)["data"]]
    comparison = _comparison(app)
    assert list(comparison.index) == ["equation 1 (paper)", "refit"]
    assert comparison.loc["equation 1 (paper)", "a3"] == -0.0016
    np.testing.assert_allclose(
        comparison.loc["refit", ["a3", "a2", "a1", "a0"]].to_numpy(dtype=float),
        [-0.0015, 0.0423, -0.388, 1.315],
        atol=5e-4,
    )
    chosen.set_value((0.0, 60.0)).run()
    _assert_clean(app)
    assert any("reported resolution of 0–60 Å" in c.value for c in app.caption)
    wide = _comparison(app)
    np.testing.assert_allclose(
        wide.loc["refit", ["a3", "a2", "a1", "a0"]].to_numpy(dtype=float),
        [-0.0001, 0.0077, -0.155, 0.880],
        atol=5e-4,
    )


def test_residue_table_leaves_cells_without_a_value_blank(app):
    app.switch_page("views/table.py").run()
    _assert_clean(app)
    table = app.dataframe[0]
    assert table.value["q_phosphate"].isna().all(), "a protein model has no phosphate"
    # Without a placeholder the grid writes "None" in such cells.
    assert table.proto.HasField("placeholder") and table.proto.placeholder == ""
