"""Scenario gallery: every teaching scenario with its story, the class's prediction (when
predict-first is on), its scores against the expected band, the answer with the paper's
reasoning and exercises, and a button that makes it the dataset of the whole dashboard."""

import math

import streamlit as st

from app_support import state, teaching, workshop
from qscore.analysis.expected import expected_q, verdict
from qscore.plotting.teaching import band_gauge_figure, ligand_atoms, pose_panels, slab_figure
from qscore.synthetic.lessons import lesson_for

teaching.apply_fonts()
size = teaching.font_size()
st.title("Scenario gallery")
st.markdown(
    "Ready-made maps and models whose truth is known, in workshop order, each mirroring a "
    "figure of the paper. Read the story, look at the density, decide what is going on, then "
    "check where the model's Q lands against the band of the EMDB archive and open the "
    "scenario in the dashboard to explore it page by page."
)
teaching.switches()

examples = teaching.scenario_list()
if not examples:
    st.warning(teaching.scenario_problem() or "No teaching scenarios are available.")
    st.stop()
current = state.current()
opened = teaching.chosen_key()
top = st.columns([3, 2, 2], vertical_alignment="center")
if current is not None and not current.is_example:
    top[0].caption(
        ":material/info: The dashboard shows your uploaded files; opening a scenario asks "
        "before setting them aside."
    )
if teaching.predict_first():
    top[1].markdown(f"**{workshop.score_text()}**")
    top[2].button(
        "Start over",
        key="qs.teach.restart",
        on_click=workshop.start_over,
        icon=":material/restart_alt:",
        help="Forget every guess of this session.",
    )
if opened is not None:
    top[0].button(
        "Back to the built-in example",
        on_click=teaching.open_scenario,
        args=(None,),
        icon=":material/undo:",
    )


def _open_button(place, example) -> None:
    """The card's "Open in the dashboard"; once pressed over uploaded files, in its place the
    question whether to set them aside, where the visitor is looking (in workshop mode the bar
    on top asks)."""
    is_open = opened == example.key and current is not None and current.is_example
    if teaching.pending_scenario() == example.key and not teaching.workshop_on():
        teaching.confirm_switch(place)
        return
    place.button(
        "Shown in the dashboard" if is_open else "Open in the dashboard",
        key=f"qs.teach.open.{example.key}",
        on_click=teaching.request_scenario,
        args=(example.key,),
        disabled=is_open,
        type="primary",
        icon=":material/open_in_new:",
    )


def _numbers(place, example, scored) -> None:
    q = scored.result.model_q
    bands = expected_q(example.resolution, example.sigma)
    judged = verdict(q, example.resolution, example.sigma) if math.isfinite(q) else None
    a, b = place.columns(2)
    a.metric("Model Q", f"{q:.3f}")
    if bands is not None:
        b.metric(
            f"Q_peak at {example.resolution:g} Å",
            f"{bands.q_peak:.3f}",
            help="The Q-score most often seen in the EMDB at this resolution.",
        )
        place.caption(
            f"95% of EMDB entries at {example.resolution:g} Å lie between "
            f"Q_low_95% = {bands.q_low95:.3f} and Q_high_95% = {bands.q_high95:.3f}."
        )
    place.plotly_chart(
        band_gauge_figure(q, bands, judged.code if judged else "", font_size=size),
        key=f"qs-gallery-gauge-{example.key}",
        config={"displayModeBar": False},
    )
    if judged is not None:
        place.markdown(f"**Verdict: {judged.label}.** {judged.explanation}")


def _poses(example, lesson) -> None:
    names = workshop.pose_names(example, lesson) if lesson else {n: n for n in example.variants}
    poses = {
        shown: teaching.scored(example.map_path, example.variants[name], example.sigma)
        for name, shown in names.items()
    }
    chain = (example.expectation.get("higher") or {}).get("chain")
    columns = st.columns(len(poses))
    for column, (shown, pose) in zip(columns, poses.items(), strict=True):
        ligand_q = teaching.q_of(pose, ligand_atoms(pose.model, chain))
        column.metric(f"Ligand Q, {shown}", f"{ligand_q:.3f}")
    bands = expected_q(example.resolution, example.sigma)
    st.plotly_chart(
        slab_figure(
            pose_panels({n: (p.dmap, p.model, p.result.q) for n, p in poses.items()}, chain),
            height=460,
            q_top=bands.q_peak if bands is not None else 1.0,
            font_size=size,
        ),
        key=f"qs-gallery-poses-{example.key}",
    )
    st.caption(
        "The same map around both poses, seen face on. Each atom is coloured by its Q-score, "
        "from red (0) through white to blue (Q_peak at this resolution)."
    )


for number, example in enumerate(examples, start=1):
    lesson = lesson_for(example.key)
    hidden = workshop.hidden(example.key)
    with st.container(border=True, key=f"qs-gallery-{example.key}"):
        st.subheader(f"{number}. {example.title}")
        caption = f"Reported resolution {example.resolution:g} Å · sigma {example.sigma:g}"
        if not hidden:
            caption = f"Mirrors the paper's **{example.figure}** · {caption}"
        st.caption(caption)
        if hidden:
            workshop.story_and_evidence(example, lesson, "card", guess=True)
            _open_button(st, example)
            continue
        scored = teaching.score_example(example)
        story, numbers = st.columns([3, 2], gap="large")
        workshop.tell(story, example, lesson)
        if scored is not None:
            _numbers(numbers, example, scored)
        _open_button(numbers, example)
        workshop.compare_button(numbers, example)
        if lesson is not None:
            with story:
                if teaching.predict_first():
                    workshop.reveal(example, lesson)
                else:
                    with st.expander(
                        "Answer, reasoning and questions", icon=":material/lightbulb:"
                    ):
                        workshop.reveal(example, lesson)
        if example.variants and scored is not None:
            _poses(example, lesson)
