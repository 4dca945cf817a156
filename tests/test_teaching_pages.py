"""AppTest of the teaching pages: gallery, radial-profile explorer, Learn, and workshop mode."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from qscore.analysis.expected import expected_q

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT = 300
RESULT = "qs.result"


@pytest.fixture(scope="module")
def scenarios():
    """The teaching scenarios, or a skip with the reason they cannot be generated."""
    try:
        from qscore.synthetic.examples import scenarios as make
    except ImportError as exc:
        pytest.skip(f"qscore.synthetic.examples is not available: {exc}")
    try:
        return make()
    except Exception as exc:
        pytest.skip(f"the teaching scenarios cannot be generated: {exc}")


def open_page(page: str, **state) -> AppTest:
    """The app, first run on the default page, then switched to ``page``."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def label_of(at: AppTest) -> str:
    return at.session_state[RESULT].label


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_gallery_lists_every_scenario_with_scores(scenarios):
    at = open_page("views/gallery.py")
    headings = [h.value for h in at.subheader]
    for number, example in enumerate(scenarios, start=1):
        assert f"{number}. {example.title}" in headings
    assert len([m for m in at.metric if m.label == "Model Q"]) == len(scenarios)
    opens = [b for b in at.button if b.label == "Open in the dashboard"]
    assert len(opens) == len(scenarios)
    figures = " ".join(c.value for c in at.caption)
    assert all(example.figure in figures for example in scenarios)
    verdicts = " ".join(m.value for m in at.markdown)
    assert "Verdict:" in verdicts


def test_gallery_shows_both_ligand_poses(scenarios):
    ligand = next((ex for ex in scenarios if ex.variants), None)
    if ligand is None:
        pytest.skip("no scenario with alternative poses")
    at = open_page("views/gallery.py")
    labels = {m.label: m.value for m in at.metric}
    values = {name: float(labels[f"Ligand Q, '{name}' pose"]) for name in ligand.variants}
    assert len(values) == 2
    assert values["correct"] > values["flipped"]


def test_open_in_the_dashboard_switches_the_dataset(scenarios):
    at = open_page("views/gallery.py")
    target = scenarios[4]
    at.button(key=f"qs.teach.open.{target.key}").click().run()
    assert not at.exception
    assert label_of(at) == target.title
    assert at.session_state[RESULT].resolution == pytest.approx(target.resolution)
    assert at.button(key=f"qs.teach.open.{target.key}").disabled
    at.switch_page("views/overview.py").run()
    assert not at.exception
    assert label_of(at) == target.title


def test_workshop_mode_steps_through_the_scenarios(scenarios):
    at = open_page("views/gallery.py")
    at.toggle(key="qs.keep.teach.workshop").set_value(True).run()
    at.button(key="qs.teach.next").click().run()
    assert label_of(at) == scenarios[0].title
    at.button(key="qs.teach.next").click().run()
    assert label_of(at) == scenarios[1].title
    assert any(scenarios[1].explanation in m.value for m in at.markdown)
    at.switch_page("views/overview.py").run()
    assert not at.exception
    assert label_of(at) == scenarios[1].title
    at.button(key="qs.teach.previous").click().run()
    assert label_of(at) == scenarios[0].title
    assert at.button(key="qs.teach.previous").disabled
    at.button(key="qs.teach.end").click().run()
    assert not any(b.key == "qs.teach.next" for b in at.button)


def test_large_fonts_inject_a_style_sheet(scenarios):
    at = open_page("views/gallery.py")
    assert not any("<style>" in h.value for h in at.html)
    at.toggle(key="qs.keep.teach.large").set_value(True).run()
    assert any("<style>" in h.value for h in at.html)


def _picked_atom(at: AppTest) -> int:
    return int(at.session_state["qs.keep.radial.atom"])


def test_radial_page_shows_the_engine_q():
    at = open_page("views/radial.py")
    result = at.session_state[RESULT]
    index = _picked_atom(at)
    engine_q = float(result.scored.result.q[index])
    assert metric(at, f"Engine Q (σ = {result.sigma:g} Å)") == f"{engine_q:.3f}"
    assert metric(at, f"Q at σ = {result.sigma:g} Å") == f"{engine_q:.3f}"
    other = next(a for a in at.selectbox(key="qs.keep.radial.atom").options if a != "CA")
    at.selectbox(key="qs.keep.radial.atom").select(other).run()
    assert not at.exception
    index = _picked_atom(at)
    engine_q = float(result.scored.result.q[index])
    assert metric(at, f"Q at σ = {result.sigma:g} Å") == f"{engine_q:.3f}"
    at.slider(key="qs.keep.radial.sigma").set_value(0.8).run()
    assert not at.exception
    assert any(m.label == "Q at σ = 0.8 Å" for m in at.metric)


def test_radial_page_follows_the_selected_residue():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    residues = at.session_state[RESULT].scored.model.residues
    row = int(np.flatnonzero(residues["kind"].to_numpy() == "protein")[5])
    at.session_state["qs.selected"] = row
    at.switch_page("views/radial.py").run()
    assert not at.exception
    assert at.session_state["qs.keep.radial.residue"] == row
    model = at.session_state[RESULT].scored.model
    assert model.residue_index[_picked_atom(at)] == row


def test_learn_page_renders_equations_and_values():
    at = open_page("views/learn.py")
    assert len(at.latex) >= 9
    d = at.slider(key="qs.keep.learn.resolution").value
    assert metric(at, "Q_peak") == f"{expected_q(d).q_peak:.3f}"
    at.slider(key="qs.keep.learn.resolution").set_value(6.0).run()
    assert not at.exception
    assert metric(at, "Q_peak") == f"{expected_q(6.0).q_peak:.3f}"
    relative = metric(at, "Q_relative_resolution")
    assert relative.endswith("%") and math.isfinite(float(relative[:-1]))
