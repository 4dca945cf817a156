"""Streamlit AppTest of every registered page, on the built-in example and on EMD-30342."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app_support.pages import PAGES

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared"
EMD30342 = SHARED / "data" / "emd-30342"
TIMEOUT = 120


@pytest.fixture(autouse=True)
def _run_from_project_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def _app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)


def shown(markdown: str) -> str:
    """Markdown source as the visitor reads it (backslash escapes removed)."""
    return re.sub(r"\\(.)", r"\1", markdown)


def _assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]


@pytest.mark.parametrize("page", [p.path for p in PAGES], ids=[p.title for p in PAGES])
def test_every_page_on_the_builtin_example(page):
    at = _app().run()
    _assert_clean(at)
    if at.info and "Upload a map" in at.info[0].value:
        pytest.skip(
            "no built-in example is available (qscore.synthetic.examples and ../shared absent)"
        )
    at.switch_page(page).run()
    _assert_clean(at)


def test_overview_shows_verdict_and_relative_scores():
    at = _app().run()
    labels = [m.label for m in at.metric]
    if not labels:
        pytest.skip("no built-in example is available")
    assert {"Model Q", "Q_peak", "Q_low_95%", "Q_high_95%"} <= set(labels)
    assert "Q_relative_resolution" in labels or any("sigma" in c.value for c in at.caption)


@pytest.fixture
def emd30342_paths(monkeypatch) -> tuple[Path, Path]:
    """Enable paths on disk for this test and return the shared map and model."""
    if not EMD30342.exists():
        pytest.skip(f"the EMD-30342 data {EMD30342} is not available (../shared is absent)")
    monkeypatch.setenv("QSCORE_ALLOW_LOCAL_PATHS", "1")
    return EMD30342 / "emd_30342_chainA_zone.mrc", EMD30342 / "7cec_chainA.cif"


def _load_emd30342(paths) -> AppTest:
    at = _app().run()
    at.text_input(key="qs.map_path").input(str(paths[0]))
    at.text_input(key="qs.model_path").input(str(paths[1])).run()
    _assert_clean(at)
    return at


def test_emd30342_scores_with_resolution_from_the_mmcif(emd30342_paths):
    at = _load_emd30342(emd30342_paths)
    assert any("7cec_chainA.cif" in shown(c.value) for c in at.caption)
    resolution = [n for n in at.number_input if n.label.startswith("Reported")][0]
    assert resolution.value == pytest.approx(3.9)
    model_q = [m for m in at.metric if m.label == "Model Q"][0]
    assert float(model_q.value) == pytest.approx(0.376, abs=0.01)


@pytest.mark.parametrize("page", [p.path for p in PAGES], ids=[p.title for p in PAGES])
def test_every_page_on_emd30342(emd30342_paths, page):
    at = _load_emd30342(emd30342_paths)
    at.switch_page(page).run()
    _assert_clean(at)


def test_selecting_a_residue_shows_it(emd30342_paths):
    at = _load_emd30342(emd30342_paths)
    at.switch_page("views/structure.py").run()
    picker = [s for s in at.selectbox if s.label == "Residue"][0]
    picker.select(144).run()
    _assert_clean(at)
    assert any("A 145 ASP" in m.value for m in at.markdown)


def test_bad_input_is_a_readable_message_and_keeps_the_previous_result(emd30342_paths, tmp_path):
    at = _load_emd30342(emd30342_paths)
    bad = tmp_path / "not_a_map.mrc"
    bad.write_text("this is not a map")
    at.text_input(key="qs.map_path").input(str(bad)).run()
    assert at.error, "a bad map must produce a message"
    assert "not_a_map.mrc" in shown(at.error[0].value)
    assert not at.exception
    assert any("7cec_chainA.cif" in shown(c.value) for c in at.caption)
    assert [m for m in at.metric if m.label == "Model Q"]


def test_local_paths_are_off_by_default(monkeypatch, tmp_path):
    from app_support.inputs import local_paths_allowed

    monkeypatch.delenv("QSCORE_ALLOW_LOCAL_PATHS", raising=False)
    assert not local_paths_allowed(tmp_path)
    (tmp_path / "qscore.toml").write_text("[qscore]\nallow_local_paths = true\n")
    assert local_paths_allowed(tmp_path)
    monkeypatch.setenv("QSCORE_ALLOW_LOCAL_PATHS", "0")
    assert not local_paths_allowed(tmp_path)
    assert os.environ["QSCORE_ALLOW_LOCAL_PATHS"] == "0"
