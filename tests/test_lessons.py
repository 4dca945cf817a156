"""The workshop lessons against the known truth of their scenarios.

Each scenario is generated into a temporary cache and scored with the engine; the lesson's
answer must be what the scores and the map show (not what the lesson says), every number a
text quotes must come from the scores, and nothing shown before the reveal may name the answer.
"""

from __future__ import annotations

import html.parser
import itertools
import re

import numpy as np
import pytest

from qscore.analysis.expected import expected_q
from qscore.analysis.local_resolution import sample_local_resolution
from qscore.engine import score
from qscore.io.maps import read_map, sample
from qscore.io.models import read_model
from qscore.synthetic import examples
from qscore.synthetic.lessons import CATEGORIES, LESSONS, lesson_facts, lesson_for, render
from qscore.synthetic.lessons.facts import fields, group_mask, group_where, scenario_facts
from qscore.synthetic.lessons.handout import Entry, handout_html, handout_markdown
from tests.test_examples import cache  # noqa: F401  (a scenario cache of this module's own)

#: Words that would give an answer away before the reveal.
GIVEAWAYS = (
    "misfit",
    "moved",
    "shifted",
    "out of its density",
    "flexible",
    "mobile",
    "disordered",
    "heterogeneous",
    "poorly",
    "weak",
    "oversharpen",
    "overstated",
    "understated",
    "really",
    "flipped",
    "correct",
    "well-fitted",
    "as expected",
)


class Scenario:
    """A scenario, its lesson, its map, model and per-atom Q, and the lesson's facts."""

    def __init__(self, key: str):
        self.example = examples.get_example(key)
        self.lesson = lesson_for(key)
        self.map = read_map(self.example.map_path)
        self.model = read_model(self.example.model_path)
        self.q = score(self.map, self.model, sigma=0.4).q
        variants = {}
        for name, path in self.example.variants.items():
            model = read_model(path)
            variants[name] = (model, score(self.map, model, sigma=0.4).q)
        self.local = None
        if self.example.local_resolution_path is not None:
            locres = read_map(self.example.local_resolution_path)
            self.local = sample_local_resolution(locres, self.model).atoms
        self.facts = lesson_facts(
            self.example,
            self.model,
            self.q,
            variants=variants,
            true_resolution=self.lesson.true_resolution,
            local_resolution=self.local,
        )


@pytest.fixture(scope="module")
def scenario():
    done: dict[str, Scenario] = {}

    def get(key: str) -> Scenario:
        if key not in done:
            done[key] = Scenario(key)
        return done[key]

    return get


def test_every_scenario_has_a_lesson_with_one_or_two_questions():
    keys = examples.scenario_keys()
    assert set(keys) <= set(LESSONS), set(keys) - set(LESSONS)
    assert set(LESSONS) <= set(keys), set(LESSONS) - set(keys)
    for lesson in LESSONS.values():
        assert lesson.choice(lesson.answer) is not None
        assert 1 <= len(lesson.questions) <= 2
        assert len({c.key for c in lesson.choices}) == len(lesson.choices)
    answers = {lesson.answer for lesson in LESSONS.values()}
    assert {c.key for c in CATEGORIES} <= answers | {"pose-a", "pose-b"}


@pytest.mark.parametrize("key", examples.scenario_keys())
def test_nothing_before_the_reveal_gives_the_answer_away(key, scenario):
    lesson = LESSONS[key]
    example = examples.get_example(key)
    clue = render(lesson.clue, scenario(key).facts) if lesson.clue else ""
    shown = " ".join(
        [example.title, example.explanation, lesson.prompt, clue]
        + [region.label for region in lesson.regions]
        + [f"pose {label}" for label in lesson.poses.values()]
    ).lower()
    for word in GIVEAWAYS:
        assert word not in shown, f"{key}: '{word}' before the reveal"
    assert example.figure.lower() not in shown


@pytest.mark.parametrize("key", examples.scenario_keys())
def test_every_text_quotes_only_measured_numbers(key, scenario):
    s = scenario(key)
    texts = [s.lesson.truth, s.lesson.reasoning, s.lesson.clue]
    texts += [t for q in s.lesson.questions for t in (q.text, q.answer)]
    for text in texts:
        assert set(fields(text)) <= set(s.facts), set(fields(text)) - set(s.facts)
        filled = render(text, s.facts)
        assert "{" not in filled and "nan" not in filled.lower().split()
    bands = expected_q(s.example.resolution, 0.4)
    assert s.facts["q_peak"] == pytest.approx(bands.q_peak)
    assert s.facts["model_q"] == pytest.approx(float(np.mean(s.q[s.model.heavy])))


#: Rigid shifts (Å) tried for a group of atoms: a grid of 0.5 Å within 3.5 Å.
SHIFTS = np.array(
    [o for o in itertools.product(np.linspace(-3.5, 3.5, 15), repeat=3) if np.linalg.norm(o) <= 3.5]
)


def _above_mean(s: Scenario, xyz: np.ndarray) -> float:
    return float(np.mean(sample(s.map, xyz)) - np.mean(s.map.values))


def _best_shift(s: Scenario, mask: np.ndarray) -> tuple[float, float]:
    """(distance, gain): the rigid shift of the group's atoms that puts them on the most
    density, and how much more density (above the map's mean) they find there."""
    xyz = s.model.xyz[mask]
    values = np.array([_above_mean(s, xyz + shift) for shift in SHIFTS])
    best = int(np.argmax(values))
    return float(np.linalg.norm(SHIFTS[best])), float(values[best] / _above_mean(s, xyz))


def _weakness(s: Scenario, mask: np.ndarray) -> float:
    """Density at the group's atoms relative to the model's typical atom (above the mean)."""
    typical = float(np.median(sample(s.map, s.model.xyz[s.model.heavy])) - np.mean(s.map.values))
    return _above_mean(s, s.model.xyz[mask]) / typical


def _group(s: Scenario, index: int = 0) -> np.ndarray:
    return group_mask(s.model, s.example.expectation["below_low95"][index])


@pytest.mark.parametrize("key", examples.scenario_keys())
def test_the_answer_is_what_the_scores_and_the_map_show(key, scenario):
    s = scenario(key)
    f = s.facts
    low, peak, high = f["q_low95"], f["q_peak"], f["q_high95"]
    answer = s.lesson.answer
    if answer == "as-expected":
        assert abs(f["model_q"] - peak) <= 0.03 and not f["groups"]
    elif answer == "misfit":
        assert f["groups"][0]["q"] < low < f["rest_q"] < high
        assert low < f["model_q"] < high
        distance, gain = _best_shift(s, _group(s))
        assert 2.5 <= distance <= 3.5 and gain > 2  # strong density beside the atoms
    elif answer == "poorly-resolved":
        for k, group in enumerate(f["groups"]):
            assert group["q"] < low
            mask = _group(s, k)
            assert _weakness(s, mask) < 0.5  # weak density at the atoms ...
            if mask.sum() >= 30:  # ... and no better density nearby for the group as a whole
                assert _best_shift(s, mask)[1] < 1.5
            if group["chain_rest_q"] == group["chain_rest_q"]:
                assert group["chain_rest_q"] > low
    elif answer == "oversharpened":
        assert f["model_q"] > high
    elif answer == "resolution-overstated":
        assert f["model_q"] < low
        assert abs(f["model_q"] - f["true_q_peak"]) <= 0.05
        per_residue = [
            np.mean(s.q[s.model.heavy & (s.model.residue_index == r)])
            for r in np.unique(s.model.residue_index[s.model.heavy])
        ]
        assert np.mean(np.array(per_residue) < low) > 0.6  # low everywhere, not in one place
    elif s.example.local_resolution_path is not None:
        _check_local(s)
    elif answer == "resolution-understated":
        assert f["model_q"] > high
        assert abs(f["model_q"] - f["true_q_peak"]) <= 0.05
    else:  # the poses
        right = next(
            name for name, label in s.lesson.poses.items() if f"pose-{label.lower()}" == answer
        )
        other = next(name for name in s.lesson.poses if name != right)
        assert f["pose_q"][right] > f["pose_q"][other] + 0.05
        assert f["pose_gap"] == pytest.approx(f["pose_q"][right] - f["pose_q"][other])


def _check_local(s: Scenario) -> None:
    """Both local groups are below the band at the reported resolution; the one the answer names
    is below it at its own local resolution too, with strong density beside its atoms, and the
    other sits where its blurred density is, typical at its local resolution."""
    f, groups = s.facts, s.example.expectation["local"]
    assert f["q_low95"] < f["model_q"] < f["q_high95"]
    named = {name for name, group in groups.items() if group_where(group) == s.lesson.right.label}
    assert len(named) == 1, "the right choice names exactly one local group"
    for name, group in groups.items():
        local, mask = f["local"][name], group_mask(s.model, group)
        assert local["where"] in " ".join(c.label for c in s.lesson.choices)
        assert local["below_global"] >= 0.8
        if name in named:
            assert local["below_local"] >= 0.8 and local["q"] < local["q_low95_local"]
            distance, gain = _best_shift(s, mask)
            assert 2.0 <= distance <= 3.0 and gain > 2
        else:
            assert local["below_local"] <= 0.35 and local["q"] > local["q_low95_local"]
            assert local["local_d"] > f["d"] + 2
            assert _best_shift(s, mask)[1] < 1.5  # no better density nearby


def test_scenario_facts_read_the_files_as_the_tests_do(scenario):
    s = scenario("local-resolution")
    read = scenario_facts(s.example, true_resolution=s.lesson.true_resolution)
    assert read["model_q"] == pytest.approx(s.facts["model_q"])
    assert read["local"]["misfit"]["local_d"] == pytest.approx(
        s.facts["local"]["misfit"]["local_d"]
    )


def test_oversharpened_and_understated_differ_where_the_answers_say(scenario):
    sharp, better = scenario("oversharpened"), scenario("resolution-understated")
    assert sharp.facts["model_q"] > sharp.facts["q_high95"]
    assert better.facts["true_q_peak"] > better.facts["q_high95"]
    assert "true_d" not in sharp.facts


def test_regions_shown_before_the_reveal_hold_the_groups(scenario):
    for key, lesson in LESSONS.items():
        if not lesson.regions:
            continue
        s = scenario(key)
        shown = np.zeros(s.model.n_atoms, bool)
        for region in lesson.regions:
            mask = s.model.heavy & (s.model.chain == region.chain)
            if region.resseq:
                mask &= np.isin(s.model.resseq, region.resseq)
            assert mask.any(), f"{key}: region {region.label} is empty"
            shown |= mask
        for k in range(len(s.facts["groups"])):
            assert (shown | ~_group(s, k)).all(), f"{key}: group {k} not shown"
        for name, group in (s.example.expectation.get("local") or {}).items():
            assert (shown | ~group_mask(s.model, group)).all(), f"{key}: {name} not shown"


def test_understated_ranks_near_the_top_of_the_archive(scenario):
    from qscore.analysis.reference import default_reference
    from qscore.analysis.relative import relative_q

    reference = default_reference()
    if reference is None:
        pytest.skip("no EMDB reference table is installed (the va package)")
    s = scenario("resolution-understated")
    ranked = relative_q(s.facts["model_q"], s.facts["d"], reference, 0.5)
    assert ranked.q_relative_resolution > 95


class _Parser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.open: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in ("meta", "br"):
            self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, (tag, self.open[-3:])
        self.open.pop()


def test_handouts_say_the_same_in_markdown_and_html(scenario):
    entries = [
        Entry(n, scenario(key).example, LESSONS[key], scenario(key).facts)
        for n, key in enumerate(examples.scenario_keys(), start=1)
    ]
    guide_md = handout_markdown(entries)
    guide_html = handout_html(entries)
    sheet_md = handout_markdown(entries, answers=False)
    sheet_html = handout_html(entries, answers=False)
    parser = _Parser()
    parser.feed(guide_html)
    assert parser.open == []
    assert "@media print" in guide_html
    for entry in entries:
        lesson, facts = entry.lesson, entry.facts
        title = f"{entry.number}. {entry.example.title}"
        assert f"## {title}" in guide_md and f"## {title}" in sheet_md
        assert html.escape(title, quote=False) in guide_html
        for question in lesson.questions:
            text, answer = render(question.text, facts), render(question.answer, facts)
            assert text in guide_md and text in sheet_md
            assert answer in guide_md and html.escape(answer) in guide_html
            assert answer not in sheet_md and html.escape(answer) not in sheet_html
        assert f"Answer: {lesson.right.label}." in guide_md
        assert render(lesson.reasoning, facts) in guide_md
        assert render(lesson.reasoning, facts) not in sheet_md
    assert re.search(r"model Q 0\.\d{3}; Q_peak 0\.\d{3}", guide_md)
    assert "Answer:" not in sheet_md
