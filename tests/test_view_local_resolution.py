"""The local-resolution page (``views/local_resolution.py``) through Streamlit's AppTest, on the
two-domain teaching scenario with its own local-resolution map."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app_support.state import RESULT
from qscore.pipeline import load_and_score
from tests.test_view_bfactors import current as page_result

PAGE = Path(__file__).resolve().parents[1] / "views" / "local_resolution.py"


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    from qscore.synthetic import examples

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("QSCORE_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        example = examples.get_example("local-resolution")
    scored = load_and_score(example.map_path, example.model_path, sigma=0.4)
    current = replace(page_result(scored, example.resolution, "local-resolution"), is_example=True)
    return example, current


def test_page_without_a_source_asks_for_one(scenario):
    _, current = scenario
    at = AppTest.from_file(str(PAGE), default_timeout=120)
    at.session_state[RESULT] = replace(current, is_example=False)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [r.options for r in at.radio][0] == ["A local-resolution map", "Two half maps"]
    assert "Upload a local-resolution map" in at.info[0].value


def test_page_on_the_scenario_map(scenario, monkeypatch):
    example, current = scenario
    import app_support.local_resolution as support

    monkeypatch.setattr(support, "scenario_map", lambda result: str(example.local_resolution_path))
    at = AppTest.from_file(str(PAGE), default_timeout=120)
    at.session_state[RESULT] = current
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    metrics = {m.label: m.value for m in at.metric}
    misfit = set(example.expectation["local"]["misfit"]["resseq"])
    assert int(metrics["Possible misfit"]) >= len(misfit)
    assert int(metrics["Poorly resolved region"]) >= 20
    assert metrics["Median local resolution"].endswith("Å")
    assert len(at.get("plotly_chart")) == 1
    table = at.dataframe[0].value
    assert set(table["local_reading"]) <= {"possible misfit", "poorly resolved region"}
    at.multiselect(key="qs.localres.readings").set_value(["possible misfit"]).run()
    table = at.dataframe[0].value
    assert set(table["local_reading"]) == {"possible misfit"}
    assert misfit <= set(table["resseq"])
