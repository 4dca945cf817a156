"""Scenario gallery: every teaching scenario with its story, its scores against the expected
band and a button that makes it the dataset of the whole dashboard."""

import math

import streamlit as st

from app_support import comparison, state, teaching
from qscore.analysis.expected import expected_q, verdict
from qscore.plotting.teaching import band_gauge_figure, ligand_atoms, pose_panels, slab_figure

teaching.apply_fonts()
size = teaching.font_size()
st.title("Scenario gallery")
st.markdown(
    "Ready-made maps and models whose truth is known, in workshop order. Each one mirrors a "
    "figure of the paper: read the story, look at where the model's Q lands against the band "
    "of the EMDB archive, then open it in the dashboard to explore it page by page."
)
left, right = st.columns(2)
left.toggle(
    "Workshop mode",
    key=teaching.WORKSHOP,
    help="Shows ◀ Previous / Next scenario ▶ and the scenario's story on top of every page.",
)
right.toggle("Large fonts", key=teaching.LARGE, help="Bigger text and figures for a projector.")

examples = teaching.scenario_list()
if not examples:
    st.warning(teaching.scenario_problem() or "No teaching scenarios are available.")
    st.stop()
current = state.current()
if current is not None and not current.is_example:
    st.info(
        "The dashboard is showing uploaded files. Remove them in the sidebar to open a scenario.",
        icon=":material/info:",
    )
opened = teaching.chosen_key()
if opened is not None:
    st.button(
        "Back to the built-in example",
        on_click=teaching.open_scenario,
        args=(None,),
        icon=":material/undo:",
    )

for number, example in enumerate(examples, start=1):
    with st.container(border=True, key=f"qs-gallery-{example.key}"):
        story, numbers = st.columns([3, 2], gap="large")
        story.subheader(f"{number}. {example.title}")
        story.caption(
            f"Mirrors the paper's **{example.figure}** · reported resolution "
            f"{example.resolution:g} Å · sigma {example.sigma:g}"
        )
        story.markdown(example.explanation)
        story.markdown(f"**What to find:** {teaching.expectation_text(example.expectation)}")
        scored = teaching.score_example(example)
        if scored is None:
            continue
        q = scored.result.model_q
        bands = expected_q(example.resolution, example.sigma)
        judged = verdict(q, example.resolution, example.sigma) if math.isfinite(q) else None
        a, b = numbers.columns(2)
        a.metric("Model Q", f"{q:.3f}")
        if bands is not None:
            b.metric(
                f"Q_peak at {example.resolution:g} Å",
                f"{bands.q_peak:.3f}",
                help="The Q-score most often seen in the EMDB at this resolution.",
            )
            numbers.caption(
                f"95% of EMDB entries at {example.resolution:g} Å lie between "
                f"Q_low_95% = {bands.q_low95:.3f} and Q_high_95% = {bands.q_high95:.3f}."
            )
        numbers.plotly_chart(
            band_gauge_figure(q, bands, judged.code if judged else "", font_size=size),
            key=f"qs-gallery-gauge-{example.key}",
            config={"displayModeBar": False},
        )
        if judged is not None:
            numbers.markdown(f"**Verdict: {judged.label}.** {judged.explanation}")
        is_open = opened == example.key and current is not None and current.is_example
        numbers.button(
            "Shown in the dashboard" if is_open else "Open in the dashboard",
            key=f"qs.teach.open.{example.key}",
            on_click=teaching.open_scenario,
            args=(example.key,),
            disabled=is_open,
            type="primary",
            icon=":material/open_in_new:",
        )
        preset = example.expectation.get("compare")
        if preset and numbers.button(
            "Compare the poses",
            key=f"qs.teach.compare.{example.key}",
            icon=":material/compare:",
            help="Opens this scenario on the Compare page: both poses in both maps, and "
            "whether their difference exceeds the maps' noise.",
        ):
            comparison.open_comparison(example.key, preset.get("model"), preset.get("map"))
            st.switch_page("views/compare.py")
        if example.variants:
            poses = {
                name: teaching.scored(example.map_path, path, example.sigma)
                for name, path in example.variants.items()
            }
            chain = (example.expectation.get("higher") or {}).get("chain")
            columns = st.columns(len(poses))
            for column, (name, pose) in zip(columns, poses.items(), strict=True):
                ligand_q = teaching.q_of(pose, ligand_atoms(pose.model, chain))
                column.metric(f"Ligand Q, '{name}' pose", f"{ligand_q:.3f}")
            st.plotly_chart(
                slab_figure(
                    pose_panels(
                        {n: (p.dmap, p.model, p.result.q) for n, p in poses.items()}, chain
                    ),
                    height=460,
                    q_top=bands.q_peak if bands is not None else 1.0,
                    font_size=size,
                ),
                key=f"qs-gallery-poses-{example.key}",
            )
            st.caption(
                "The same map around both poses, seen face on. Each atom is coloured by its "
                "Q-score, from red (0) through white to blue (Q_peak at this resolution)."
            )
