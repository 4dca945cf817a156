"""AppTest of the session logic: restoring from the URL, keeping the visitor's result while
inputs change or fail, and rescoring a result the byte-bounded store dropped.

Uploads are placed in a temporary upload store (what the upload route does for a browser), and
the URL carries their restore keys, as after a reload.
"""

from __future__ import annotations

import gc
import re
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app_support import cache
from app_support.state import RESULT, SELECTED
from app_support.upload_store import shared_store
from tests.conftest import EMD30342, mapq_scores, require

ROOT = Path(__file__).resolve().parents[1]
MAP_NAME, MODEL_NAME = "emd_30342_chainA_zone.mrc", "7cec_chainA.cif"
PAIR_LABEL = f"{MAP_NAME} + {MODEL_NAME}"


def shown(markdown: str) -> str:
    """Markdown source as the visitor reads it (backslash escapes removed)."""
    return re.sub(r"\\(.)", r"\1", markdown)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    """Run from the project root with an empty upload store of our own."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("QSCORE_UPLOAD_DIR", str(tmp_path / "uploads"))
    monkeypatch.setenv("QSCORE_ALLOW_LOCAL_PATHS", "0")
    shared_store.cache_clear()
    yield
    shared_store.cache_clear()


@pytest.fixture
def uploaded() -> dict[str, str]:
    """The EMD-30342 map and model as uploaded files; returns their restore keys."""
    folder = require(EMD30342)
    store = shared_store()
    map_file = store.put_bytes(MAP_NAME, (folder / MAP_NAME).read_bytes())
    model_file = store.put_bytes(MODEL_NAME, (folder / MODEL_NAME).read_bytes())
    return {"map": map_file.key, "model": model_file.key}


def app(params: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params.update(params or {})
    return at.run()


def header(at: AppTest) -> str:
    return next(shown(c.value) for c in at.caption if "model Q" in c.value)


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]


def test_a_reload_restores_files_parameters_and_selection(uploaded):
    at = app({**uploaded, "resolution": "3.5", "sigma": "0.6", "residue": "A:145"})
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    assert PAIR_LABEL in header(at) and "3.5 Å" in header(at) and "sigma 0.6" in header(at)
    assert at.number_input(key="qs.sigma").value == pytest.approx(0.6)
    residues = at.session_state[RESULT].analysis.residues
    row = at.session_state[SELECTED]
    assert (residues.at[row, "chain"], int(residues.at[row, "resseq"])) == ("A", 145)
    assert any("kept from before" in shown(c.value) for c in at.caption)
    assert at.query_params["map"] == uploaded["map"]
    assert at.query_params["residue"] == "A:145"
    # the restored sigma was really used: model Q equals MapQ's at sigma 0.6 (0.376 at 0.4)
    mapq = float(np.mean(mapq_scores(EMD30342 / "mapq_single_process_sigma0.6.cif")))
    model_q = float(next(m.value for m in at.metric if m.label == "Model Q"))
    assert model_q == pytest.approx(mapq, abs=0.0006)


def test_the_example_only_comes_back_on_request(uploaded):
    at = app(uploaded)
    assert PAIR_LABEL in header(at)
    at.switch_page("views/residues.py").run()
    assert_clean(at)
    assert PAIR_LABEL in header(at), "a page switch keeps the visitor's files"
    assert at.query_params["map"] == uploaded["map"], "and the URL keeps naming them"
    at.button(key="qs.unpin").click().run()
    assert_clean(at)
    assert PAIR_LABEL not in header(at) and "map" not in at.query_params


def test_a_link_whose_files_are_gone_says_so():
    at = app({"map": "0" * 32, "model": "1" * 32})
    assert_clean(at)
    assert any("no longer kept" in w.value for w in at.warning)


def test_a_failing_new_input_keeps_the_visitors_result_and_no_progress_box(
    uploaded, monkeypatch, tmp_path
):
    monkeypatch.setenv("QSCORE_ALLOW_LOCAL_PATHS", "1")
    at = app(uploaded)
    assert PAIR_LABEL in header(at)
    bad = tmp_path / "truncated.mrc"
    bad.write_bytes((EMD30342 / MAP_NAME).read_bytes()[:5000])
    at.text_input(key="qs.map_path").input(str(bad))
    at.text_input(key="qs.model_path").input(str(EMD30342 / MODEL_NAME)).run()
    assert_clean(at)
    assert at.error and "truncated.mrc" in shown(at.error[0].value)
    assert PAIR_LABEL in header(at), "the previous result, not the example"
    assert any(f"still those of {PAIR_LABEL}" in shown(c.value) for c in at.caption)
    assert not at.status, "the progress box is gone once the attempt failed"
    at.run()
    assert at.error and PAIR_LABEL in header(at), "a rerun repeats the message without rereading"


def test_a_result_the_store_dropped_is_scored_again(uploaded):
    at = app(uploaded)
    first = header(at)
    cache._results.clear()  # as if other sessions' results had pushed it out
    gc.collect()
    at.switch_page("views/table.py").run()
    assert_clean(at)
    assert header(at) == first
    assert at.session_state[RESULT].scored is not None
