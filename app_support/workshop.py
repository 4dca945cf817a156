"""Workshop mode and predict-first: the scenario bar on top of every page, the class's guess,
the reveal with the paper's reasoning and the exercises, and the score of the run.

With predict-first on, a scenario's verdict and numbers stay hidden until the class commits to
one answer (:func:`prediction`); until then the story and the density around some atoms
(:func:`evidence_figure`, no scores) are all there is, and every page that would show the
scenario's numbers stops with a pointer to the guess (:func:`gate`, called by
``app_support.layout``). The guesses, and so the score, live in this browser session only.
The lessons' texts are in :mod:`qscore.synthetic.lessons`.
"""

from __future__ import annotations

import streamlit as st

from app_support import state, teaching
from app_support.cache import memo
from app_support.example import builtin
from qscore.errors import QscoreError
from qscore.plotting.teaching import (
    evidence_panels,
    ladder_residue,
    pose_panels,
    region_atoms,
    slab_figure,
)
from qscore.synthetic.lessons import Lesson, lesson_facts, lesson_for, render

#: Session key of the committed guesses: scenario key → choice key (None: revealed unguessed).
GUESSES = "qs.teach.guesses"


# ---------------------------------------------------------------------------------------------
# State


def guesses() -> dict[str, str | None]:
    """The class's committed guesses in this session."""
    return st.session_state.setdefault(GUESSES, {})


def revealed(key: str) -> bool:
    """True once the class has committed to a guess for scenario ``key`` (or asked for the
    answer)."""
    return key in guesses()


def hidden(key: str) -> bool:
    """True while predict-first hides scenario ``key``'s verdict and numbers."""
    return teaching.predict_first() and lesson_for(key) is not None and not revealed(key)


def withheld() -> bool:
    """True while the dashboard shows a scenario whose numbers predict-first still hides."""
    key = teaching.chosen_key()
    if key is None or not hidden(key):
        return False
    current = state.current()
    return current is not None and current.is_example


def bar_shown() -> bool:
    """True when the workshop bar tells the story of the scenario on show."""
    return (
        teaching.workshop_on()
        and teaching.scenario(teaching.chosen_key()) is not None
        and not teaching.user_files_shown()
    )


def score() -> tuple[int, int]:
    """(right, answered) over the guesses committed in this session."""
    right = answered = 0
    for key, guess in guesses().items():
        lesson = lesson_for(key)
        if lesson is not None and guess is not None:
            answered += 1
            right += lesson.is_right(guess)
    return right, answered


def _commit(key: str, widget: str) -> None:
    guess = st.session_state.get(widget)
    if guess is not None:
        guesses()[key] = guess


def _show_answer(key: str) -> None:
    guesses().setdefault(key, None)


def start_over() -> None:
    """Forget every guess of this session (a button callback)."""
    st.session_state[GUESSES] = {}


def gate() -> None:
    """Stop the page while predict-first hides the scenario shown (pages that show its numbers
    call this after finding a result)."""
    if not withheld():
        return
    where = "in the workshop bar above" if bar_shown() else "on the scenario gallery"
    st.info(
        f"This scenario's verdict and numbers stay hidden until the class commits to a guess "
        f"{where}.",
        icon=":material/visibility_off:",
    )
    if not bar_shown():
        st.page_link(
            "views/gallery.py", label="Go to the scenario gallery", icon=":material/photo_library:"
        )
    st.stop()


# ---------------------------------------------------------------------------------------------
# What the class sees before it guesses


def _ladder_showcase() -> tuple[str, int] | None:
    items = teaching.ladder_items()
    if not items:
        return None
    _, _, model, q = items[0]
    chain, resseq, _ = ladder_residue(model, q)
    return chain, resseq


def _references(resolutions) -> list[tuple[str, object, object]]:
    found = []
    for d in resolutions:
        example = teaching.scenario(f"ladder-{d:g}")
        done = teaching.score_example(example) if example is not None else None
        if done is not None:
            found.append((f"{d:g} Å map", done.dmap, done.model))
    return found


def pose_names(example, lesson: Lesson) -> dict[str, str]:
    """The scenario's alternative models by file name → the name shown (``pose A`` before the
    reveal, ``pose A ('flipped')`` after it), in the order of the names shown."""
    names = {
        name: f"pose {lesson.poses[name]}" if name in lesson.poses else name
        for name in example.variants
    }
    if not hidden(example.key):
        names = {n: f"{shown} ('{n}')" if shown != n else n for n, shown in names.items()}
    return dict(sorted(names.items(), key=lambda item: item[1]))


def _variant(example, name: str):
    """Alternative model ``name`` of a scenario, scored in its map (cached)."""
    return teaching.scored(example.map_path, example.variants[name], example.sigma)


def evidence_figure(example, lesson: Lesson):
    """The density the class looks at before guessing (atoms by element, no scores), or None.

    Drawn once per scenario and font size in this process (sampling the map for its panels takes
    seconds, and every student's rerun shows the same picture).
    """
    large, size = teaching.large_fonts(), teaching.font_size()
    key = f"evidence|{example.key}|{example.map_path}|{large}"
    return memo(key, lambda: _evidence_figure(example, lesson, large=large, size=size))


def _evidence_figure(example, lesson: Lesson, *, large: bool, size: int):
    done = teaching.score_example(example)
    if done is None:
        return None
    if example.variants:
        chain = (example.expectation.get("higher") or {}).get("chain")
        poses = {
            shown: (done.dmap, _variant(example, name).model, None)
            for name, shown in pose_names(example, lesson).items()
        }
        panels = pose_panels(poses, chain, scores=False)
    else:
        regions = [
            (region.label, region_atoms(done.model, region.chain, region.resseq))
            for region in lesson.regions
        ]
        showcase = _ladder_showcase() if (lesson.references or not regions) else None
        panels = evidence_panels(
            done.dmap,
            done.model,
            regions=regions,
            showcase=showcase,
            references=_references(lesson.references),
        )
    if not panels:
        return None
    return slab_figure(panels, height=300 if large else 260, font_size=size, density_scale=False)


def tell(place, example, lesson: Lesson | None, *, lead: str = "") -> None:
    """The scenario's story (after ``lead``), and the lesson's clue with its measured numbers."""
    place.markdown(f"{lead}{example.explanation}")
    if lesson is not None and lesson.clue and (numbers := facts(example, lesson)) is not None:
        place.markdown(render(lesson.clue, numbers))


def story_and_evidence(example, lesson: Lesson, where: str, *, guess: bool = False) -> None:
    """The scenario's story beside the density the class looks at, and under both the class's
    choice when ``guess``; ``where`` keeps the widgets of the bar, the cards and the folded
    story apart."""
    story, picture = st.columns(2, gap="medium")
    tell(story, example, lesson)
    figure = evidence_figure(example, lesson)
    if figure is not None:
        picture.plotly_chart(
            figure,
            key=f"qs-teach-evidence-{where}-{example.key}",
            config={"displayModeBar": False},
        )
        story.caption("Right: the map around these atoms, face on (darker is denser).")
    if guess:
        prediction(example, lesson, where)


def prediction(example, lesson: Lesson, where: str) -> None:
    """The class's choice and the buttons that commit it (or reveal the answer unguessed)."""
    widget = f"qs.teach.guess.{where}.{example.key}"
    labels = {c.key: c.label for c in lesson.choices}
    st.radio(
        lesson.prompt,
        list(labels),
        index=None,
        format_func=labels.get,
        horizontal=True,
        key=widget,
    )
    commit, skip, _ = st.columns([2, 2, 1])
    commit.button(
        "Commit the guess",
        key=f"qs.teach.commit.{where}.{example.key}",
        on_click=_commit,
        args=(example.key, widget),
        disabled=st.session_state.get(widget) is None,
        type="primary",
        icon=":material/how_to_vote:",
        width="stretch",
    )
    skip.button(
        "Show the answer",
        key=f"qs.teach.skip.{where}.{example.key}",
        on_click=_show_answer,
        args=(example.key,),
        help="Reveals the answer without a guess (not counted in the score).",
        width="stretch",
    )


# ---------------------------------------------------------------------------------------------
# The reveal


def facts(example, lesson: Lesson) -> dict | None:
    """The numbers the lesson quotes, measured on the scored scenario (None if unscored)."""
    done = teaching.score_example(example)
    if done is None:
        return None
    variants = {
        name: (other.model, other.result.q)
        for name in example.variants
        for other in [_variant(example, name)]
    }
    try:
        local = teaching.local_atoms(example)
    except (QscoreError, OSError) as exc:
        st.error(f"{example.title}: {exc}", icon=":material/error:")
        return None
    return lesson_facts(
        example,
        done.model,
        done.result.q,
        variants=variants,
        true_resolution=lesson.true_resolution,
        local_resolution=local,
    )


def outcome(example, lesson: Lesson, *, compact: bool = False) -> None:
    """The class's guess against the answer: a coloured box, or one coloured line when
    ``compact`` (in the bar, where height is short)."""
    guess = guesses().get(example.key)
    right = lesson.right
    if guess is None:
        kind, icon, text = "blue", "lightbulb", f"Answer: {right.label}."
    elif lesson.is_right(guess):
        kind, icon, text = "green", "check_circle", f"{right.label}: the class got it."
    else:
        chosen = lesson.choice(guess)
        kind, icon = "red", "cancel"
        text = f"The class chose {chosen.label if chosen else guess}; the answer is {right.label}."
    if compact:
        st.markdown(f":{kind}[:material/{icon}: **{text}**] {right.meaning}")
        return
    box = {"blue": st.info, "green": st.success, "red": st.error}[kind]
    box(f"**{text}** {right.meaning}", icon=f":material/{icon}:")


def reasoning(example, lesson: Lesson, numbers: dict) -> None:
    """What was done to the data and how the paper reads the scores."""
    st.markdown(f"**What was done.** {render(lesson.truth, numbers)}")
    st.markdown(f"**Why.** {render(lesson.reasoning, numbers)}")
    st.caption(f"The paper's {example.figure} shows the same situation in real EMDB entries.")
    local_link(example)


def local_link(example) -> None:
    """A link to the Local resolution page, for scenarios with a local-resolution map."""
    if getattr(example, "local_resolution_path", None) is not None:
        st.page_link(
            "views/local_resolution.py",
            label="Local resolution page",
            icon=":material/blur_on:",
        )


def explore(example) -> None:
    """Where to look next (in the workshop bar): the Local resolution page, for scenarios with
    a local-resolution map; the Compare page, for scenarios with poses to compare in two maps."""
    local_link(example)
    compare_button(st, example)


def has_more(example) -> bool:
    """True when :func:`explore` has somewhere to send the class for this scenario."""
    return getattr(example, "local_resolution_path", None) is not None or bool(
        example.expectation.get("compare")
    )


def compare_button(place, example) -> None:
    """ "Compare the poses": the scenario's poses in both its maps on the Compare page (only for
    scenarios with a comparison preset)."""
    preset = example.expectation.get("compare")
    if preset and place.button(
        "Compare the poses",
        key=f"qs.teach.compare.{example.key}",
        icon=":material/compare:",
        help="Opens this scenario on the Compare page: both poses in both maps, and whether "
        "their difference exceeds the maps' noise.",
    ):
        from app_support import comparison  # it reads the sidebar's inputs, which use this module

        comparison.open_comparison(example.key, preset.get("model"), preset.get("map"))
        st.switch_page("views/compare.py")


def questions(lesson: Lesson, numbers: dict) -> None:
    """The exercises with their answers."""
    for number, question in enumerate(lesson.questions, start=1):
        st.markdown(f"**{number}. {render(question.text, numbers)}**")
        st.markdown(f"*Answer:* {render(question.answer, numbers)}")


def reveal(example, lesson: Lesson) -> None:
    """Everything the class learns once it has guessed: outcome, reasoning and exercises."""
    numbers = facts(example, lesson)
    if predict_on := teaching.predict_first():
        outcome(example, lesson)
    if numbers is None:
        return
    if not predict_on:
        st.markdown(f"**Answer: {lesson.right.label}.** {lesson.right.meaning}")
    reasoning(example, lesson, numbers)
    st.markdown("##### Questions for the class")
    questions(lesson, numbers)


# ---------------------------------------------------------------------------------------------
# The workshop bar and the story on the overview


def _end_workshop() -> None:
    st.session_state[teaching.WORKSHOP] = False


def score_text() -> str:
    """The class's score so far, e.g. ``Score 3 of 4``."""
    right, answered = score()
    return f"Score {right} of {answered}" if answered else "No guess yet"


def bar() -> None:
    """◀ / ▶, where the workshop stands and its score; then the scenario: before the guess its
    story, the density and the choice, after it the outcome, the reasoning and the exercises
    (story and exercises folded, so the page's numbers stay in view)."""
    examples = teaching.scenario_list()
    if not examples:
        st.warning(teaching.scenario_problem() or "No teaching scenarios are available.")
        return
    at = teaching.position()
    with st.container(border=True, key="qs-teach-workshop-bar"):
        back, forward, where, tally, close = st.columns(
            [1.0, 1.7, 4.6, 2.2, 1.2], vertical_alignment="center"
        )
        back.button(
            "◀",
            key="qs.teach.previous",
            on_click=teaching.step,
            args=(-1,),
            disabled=at <= 0,
            help="Previous scenario",
            width="stretch",
        )
        forward.button(
            "Next ▶" if at >= 0 else "Start ▶",
            key="qs.teach.next",
            on_click=teaching.step,
            args=(1,),
            disabled=at >= len(examples) - 1,
            type="primary",
            help="Next scenario",
            width="stretch",
        )
        close.button(
            "End",
            key="qs.teach.end",
            on_click=_end_workshop,
            help="Leave workshop mode",
            width="stretch",
        )
        if teaching.predict_first() and score()[1]:
            tally.markdown(f"**{score_text()}**")
        teaching.confirm_switch()
        if teaching.user_files_shown():
            where.markdown("**Workshop** · your own files are shown")
            return
        if at < 0:
            where.markdown(f"**Workshop** · {len(examples)} scenarios")
            st.markdown("Press **Start ▶** to load the first scenario; every page then shows it.")
            return
        example = examples[at]
        where.markdown(f"**{at + 1}/{len(examples)} · {example.title}**")
        lesson = lesson_for(example.key)
        if lesson is None:
            st.markdown(example.explanation)
            return
        if hidden(example.key):
            story_and_evidence(example, lesson, "bar", guess=True)
            return
        numbers = facts(example, lesson)
        if teaching.predict_first():
            outcome(example, lesson, compact=True)
        if numbers is not None:
            st.markdown(render(lesson.reasoning, numbers))
        story, exercises, *link = st.columns(
            3 if has_more(example) else 2, vertical_alignment="center"
        )
        if link:
            with link[0]:
                explore(example)
        with story.expander("The story and the density", icon=":material/menu_book:"):
            story_and_evidence(example, lesson, "bar-after")
            if numbers is not None:
                st.markdown(f"**What was done.** {render(lesson.truth, numbers)}")
        with exercises.expander(
            f"Questions for the class ({len(lesson.questions)})", icon=":material/quiz:"
        ):
            if numbers is not None:
                questions(lesson, numbers)


def story_box(result) -> None:
    """The story of the example on show, above the overview's numbers (once: not when the
    workshop bar already tells it; a scenario's answer only behind its reveal)."""
    if not result.is_example or bar_shown():
        return
    example = teaching.scenario(teaching.chosen_key())
    if example is None:
        info = builtin()
        if info is None:
            return
        with st.container(border=True):
            st.markdown(f"**{info.title}.** {info.explanation}")
            if info.expectation:
                st.caption(f"What to look for: {info.expectation}")
            st.caption("Upload your own map and model in the sidebar to score them instead.")
        return
    lesson = lesson_for(example.key)
    with st.container(border=True):
        tell(st, example, lesson, lead=f"**{example.title}.** ")
        if lesson is not None and not hidden(example.key):
            with st.expander("Answer, reasoning and questions", icon=":material/lightbulb:"):
                reveal(example, lesson)
        st.caption("Upload your own map and model in the sidebar to score them instead.")


def handout_entries() -> list:
    """Every scenario with a lesson, with the numbers measured on it, for the handouts."""
    from qscore.synthetic.lessons.handout import Entry

    entries = []
    for number, example in enumerate(teaching.scenario_list(), start=1):
        lesson = lesson_for(example.key)
        numbers = facts(example, lesson) if lesson is not None else None
        if numbers is not None:
            entries.append(Entry(number, example, lesson, numbers))
    return entries
