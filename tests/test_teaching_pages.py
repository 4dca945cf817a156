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
    values = {
        name: float(value)
        for label, value in labels.items()
        for name in ligand.variants
        if label.startswith("Ligand Q, pose ") and label.endswith(f"('{name}')")
    }
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


def _large_font_css(at: AppTest) -> list[str]:
    """The style sheets of the page that enlarge metric values (the large-font sheet)."""
    return [h.value for h in at.html if "<style>" in h.value and "stMetricValue" in h.value]


def test_large_fonts_inject_a_style_sheet(scenarios):
    at = open_page("views/gallery.py")
    assert not _large_font_css(at)
    at.toggle(key="qs.keep.teach.large").set_value(True).run()
    assert _large_font_css(at)


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
    assert len(at.latex) >= 8
    bands = next(e.body for e in at.latex if "(4)" in e.body)
    assert all(f"({n})" in bands for n in (1, 2, 3)) and "aligned" in bands
    d = at.slider(key="qs.keep.learn.resolution").value
    assert metric(at, "Q_peak") == f"{expected_q(d).q_peak:.3f}"
    at.slider(key="qs.keep.learn.resolution").set_value(6.0).run()
    assert not at.exception
    assert metric(at, "Q_peak") == f"{expected_q(6.0).q_peak:.3f}"
    relative = metric(at, "Q_relative_resolution")
    assert relative.endswith("%") and math.isfinite(float(relative[:-1]))


# ---------------------------------------------------------------------------------------------
# Predict first, the reveal, the exercises, the instructor's guide and the upload switch

GUESSES = "qs.teach.guesses"


def workshop(predict: bool = True, large: bool = False) -> AppTest:
    """The gallery with workshop mode (and predict-first) on, the first scenario opened."""
    at = open_page("views/gallery.py")
    if large:
        at.toggle(key="qs.keep.teach.large").set_value(True).run()
    if predict:
        at.toggle(key="qs.keep.teach.predict").set_value(True).run()
    at.toggle(key="qs.keep.teach.workshop").set_value(True).run()
    at.button(key="qs.teach.next").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    return "\n".join(
        [m.value for m in at.markdown] + [c.value for c in at.caption] + [i.value for i in at.info]
    )


def facts_of(example):
    from qscore.synthetic.lessons import lesson_for
    from qscore.synthetic.lessons.facts import scenario_facts

    lesson = lesson_for(example.key)
    return lesson, scenario_facts(example, true_resolution=lesson.true_resolution)


def test_predict_first_hides_the_numbers_until_the_class_commits(scenarios):
    from qscore.synthetic.lessons import lesson_for, render

    at = workshop()
    first, lesson = scenarios[0], lesson_for(scenarios[0].key)
    assert at.session_state[RESULT].label == first.title
    assert not at.metric, "no number before the guess"
    assert first.explanation in texts(at)
    radio = at.radio(key=f"qs.teach.guess.bar.{first.key}")
    assert radio.options == [c.label for c in lesson.choices]
    assert at.button(key=f"qs.teach.commit.bar.{first.key}").disabled
    for page in ("views/overview.py", "views/residues.py", "views/radial.py", "views/table.py"):
        at.switch_page(page).run()
        assert not at.exception, [e.value for e in at.exception]
        assert not at.metric and not at.dataframe, page
        assert any("stay hidden until the class commits" in i.value for i in at.info), page
    assert "model Q" not in " ".join(c.value for c in at.caption)
    at.switch_page("views/overview.py").run()
    radio = at.radio(key=f"qs.teach.guess.bar.{first.key}")
    radio.set_value(lesson.answer).run()
    at.button(key=f"qs.teach.commit.bar.{first.key}").click().run()
    assert not at.exception
    assert at.session_state[GUESSES] == {first.key: lesson.answer}
    shown = texts(at)
    assert f"{lesson.right.label}: the class got it." in shown
    assert "Score 1 of 1" in shown
    model_q = at.session_state[RESULT].scored.result.model_q
    assert next(m.value for m in at.metric if m.label == "Model Q") == f"{model_q:.3f}"
    _, numbers = facts_of(first)
    assert render(lesson.reasoning, numbers) in shown
    for question in lesson.questions:
        assert render(question.text, numbers) in shown
        assert render(question.answer, numbers) in shown
    # The next scenario is hidden again; a wrong guess is counted as wrong.
    at.button(key="qs.teach.next").click().run()
    second, lesson = scenarios[1], lesson_for(scenarios[1].key)
    assert not at.metric
    wrong = next(c for c in lesson.choices if c.key != lesson.answer)
    at.radio(key=f"qs.teach.guess.bar.{second.key}").set_value(wrong.key).run()
    at.button(key=f"qs.teach.commit.bar.{second.key}").click().run()
    shown = texts(at)
    assert f"The class chose {wrong.label}; the answer is {lesson.right.label}." in shown
    assert "Score 1 of 2" in shown
    # Revealing without a guess does not count.
    at.button(key="qs.teach.next").click().run()
    at.button(key=f"qs.teach.skip.bar.{scenarios[2].key}").click().run()
    assert "Score 1 of 2" in texts(at)
    assert at.metric


def test_a_full_workshop_walks_every_scenario(scenarios):
    """Predict, reveal and next through every scenario, the class right on odd ones (the
    instructor's-page test checks every rendered answer against independently measured facts)."""
    from qscore.synthetic.lessons import lesson_for

    at = workshop()
    at.switch_page("views/overview.py").run()
    right = 0
    for number, example in enumerate(scenarios, start=1):
        lesson = lesson_for(example.key)
        assert at.session_state[RESULT].label == example.title
        assert not at.metric, f"{example.key}: a number before the guess"
        guess = (
            lesson.right
            if number % 2
            else next(c for c in lesson.choices if c.key != lesson.answer)
        )
        right += number % 2
        at.radio(key=f"qs.teach.guess.bar.{example.key}").set_value(guess.key).run()
        at.button(key=f"qs.teach.commit.bar.{example.key}").click().run()
        assert not at.exception, [e.value for e in at.exception]
        shown = texts(at)
        outcome = (
            f"{lesson.right.label}: the class got it."
            if number % 2
            else f"The class chose {guess.label}; the answer is {lesson.right.label}."
        )
        assert outcome in shown, example.key
        assert lesson.reasoning.split("{", 1)[0][:40] in shown, example.key
        assert f"Score {right} of {number}" in shown
        assert at.metric
        if number < len(scenarios):
            at.button(key="qs.teach.next").click().run()
    assert at.button(key="qs.teach.next").disabled


def test_the_gallery_hides_each_card_until_its_guess(scenarios):
    at = open_page("views/gallery.py")
    at.toggle(key="qs.keep.teach.predict").set_value(True).run()
    assert not at.metric
    captions = " ".join(c.value for c in at.caption)
    assert not any(example.figure in captions for example in scenarios)
    ligand = next(example for example in scenarios if example.variants)
    from qscore.synthetic.lessons import lesson_for

    lesson = lesson_for(ligand.key)
    at.radio(key=f"qs.teach.guess.card.{ligand.key}").set_value(lesson.answer).run()
    at.button(key=f"qs.teach.commit.card.{ligand.key}").click().run()
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert "Model Q" in labels and len([m for m in labels if m == "Model Q"]) == 1
    assert {"Ligand Q, pose A ('flipped')", "Ligand Q, pose B ('correct')"} <= set(labels)


def test_workshop_mode_tells_the_story_once(scenarios):
    at = workshop(predict=False)
    at.switch_page("views/overview.py").run()
    assert not at.exception
    story = scenarios[0].explanation
    assert sum(m.value.count(story) for m in at.markdown) == 1
    assert not any(scenarios[0].title in c.value for c in at.caption), "header repeats the bar"


def test_the_overview_story_hides_its_answer(scenarios):
    from qscore.synthetic.lessons import lesson_for

    at = open_page("views/gallery.py")
    target = scenarios[4]
    at.button(key=f"qs.teach.open.{target.key}").click().run()
    at.switch_page("views/overview.py").run()
    assert not at.exception
    lesson = lesson_for(target.key)
    story = [m.value for m in at.markdown if target.explanation in m.value]
    assert len(story) == 1 and lesson.right.label not in story[0]
    answer_box = next(e for e in at.expander if e.label == "Answer, reasoning and questions")
    assert any(lesson.right.label in m.value for m in answer_box.markdown)


def test_large_fonts_enlarge_the_overview_archive_plot(scenarios):
    import json

    at = open_page("views/overview.py")
    small = json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]
    at.session_state["qs.keep.teach.large"] = True
    at.run()
    large = json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]
    assert large["font"]["size"] > small["font"]["size"]
    assert large["height"] > small["height"]
    (css,) = _large_font_css(at)
    assert "tablist" in css and "katex" in css


def test_what_q_measures_contrasts_two_atoms():
    import json

    at = open_page("views/learn.py")
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    profiles = [
        c for c in charts if "resolved atom" in (c["layout"].get("title") or {}).get("text", "")
    ]
    assert len(profiles) == 2
    good, poor = (
        float(
            next(a["text"] for a in c["layout"]["annotations"] if "Q =" in a["text"])
            .split("Q = ")[1]
            .split("<")[0]
        )
        for c in profiles
    )
    assert "well resolved" in profiles[0]["layout"]["title"]["text"]
    assert good > poor + 0.3


def test_instructor_page_lists_every_question_with_its_answer(scenarios):
    from qscore.synthetic.lessons import render

    at = open_page("views/instructor.py")
    page = "\n".join(m.value for m in at.markdown)
    for number, example in enumerate(scenarios, start=1):
        lesson, numbers = facts_of(example)
        assert f"## {number}. {example.title}" in page
        assert f"**Answer: {lesson.right.label}.**" in page
        for question in lesson.questions:
            assert render(question.answer, numbers) in page
    downloads = at.get("download_button")
    assert len(downloads) == 3
    assert any("@media print" in h.value for h in at.html)


def _upload(at: AppTest, example) -> AppTest:
    at.file_uploader(key="qs.map_upload").upload("map.mrc", example.map_path.read_bytes())
    at.file_uploader(key="qs.model_upload").upload("model.cif", example.model_path.read_bytes())
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert label_of(at) == "map.mrc + model.cif"
    return at


def test_opening_a_scenario_over_uploads_asks_first(scenarios):
    at = _upload(open_page("views/gallery.py"), scenarios[1])
    target = scenarios[5]
    at.button(key=f"qs.teach.open.{target.key}").click().run()
    assert label_of(at) == "map.mrc + model.cif", "nothing changes before the answer"
    assert at.button(key="qs.teach.confirm")
    at.button(key="qs.teach.keep").click().run()
    assert label_of(at) == "map.mrc + model.cif"
    assert not any(b.key == "qs.teach.confirm" for b in at.button)
    at.button(key=f"qs.teach.open.{target.key}").click().run()
    at.button(key="qs.teach.confirm").click().run()
    assert not at.exception
    assert label_of(at) == target.title
    at.switch_page("views/overview.py").run()
    assert label_of(at) == target.title, "the uploads stay set aside on other pages"
    at.button(key="qs.teach.back").click().run()
    assert label_of(at) == "map.mrc + model.cif"


def test_workshop_next_over_uploads_asks_first(scenarios):
    at = _upload(open_page("views/gallery.py"), scenarios[1])
    at.toggle(key="qs.keep.teach.workshop").set_value(True).run()
    at.button(key="qs.teach.next").click().run()
    assert label_of(at) == "map.mrc + model.cif"
    at.button(key="qs.teach.confirm").click().run()
    assert label_of(at) == scenarios[0].title
    at.file_uploader(key="qs.model_upload").upload(
        "other.cif", scenarios[2].model_path.read_bytes()
    )
    at.run()
    assert label_of(at) == "map.mrc + other.cif", "a new upload ends the set-aside"
