"""Overview: the model's Q-score, per chain and type, in the context of the EMDB archive."""

from __future__ import annotations

import math

import streamlit as st

from app_support import state, teaching, workshop
from app_support.layout import chart_config, plain, require_result
from qscore.analysis.context import archive_note, peak_delta, score_context
from qscore.analysis.expected import verdict_heading
from qscore.plotting.figures import archive_figure

WINDOWS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2, 1.5)
VERDICT_BOX = {"below": st.error, "typical": st.success, "above": st.warning}

result = require_result()
scored, analysis = result.scored, result.analysis
model_q = scored.result.model_q

st.title("Q-scores in context")
workshop.story_box(result)

if result.resolution is None:
    st.warning(
        "No resolution is known for this map: enter it in the sidebar to compare the Q-score "
        "with what is commonly observed."
    )
    context = None
else:
    st.session_state.setdefault(state.WINDOW_KEY, 0.5)
    context = score_context(
        model_q, result.resolution, result.sigma, result.reference, result.window
    )

cols = st.columns(4)
cols[0].metric(
    "Model Q",
    f"{model_q:.3f}" if math.isfinite(model_q) else "—",
    help="Mean Q over every scored (non-hydrogen) atom, as MapQ reports it.",
)
if context and context["q_peak"] is not None:
    cols[1].metric(
        "Q_peak",
        f"{context['q_peak']:.3f}",
        delta=peak_delta(model_q, context["q_peak"]),
        delta_color="off",
        help="The Q-score most commonly observed at this resolution (paper eq. 2).",
    )
    cols[2].metric("Q_low_95%", f"{context['q_low95']:.3f}", help="Paper eq. 3")
    cols[3].metric("Q_high_95%", f"{context['q_high95']:.3f}", help="Paper eq. 4")
    box = VERDICT_BOX.get(context["verdict"], st.info)
    box(f"**{verdict_heading(context['verdict_label'])}.** {context['verdict_explanation']}")

if context:
    st.subheader("Relative to the EMDB archive")
    left, right = st.columns([3, 2])
    with right:
        st.select_slider(
            "Resolution window w (Å)",
            options=WINDOWS,
            key=state.WINDOW_KEY,
            help="Q_relative_resolution ranks the model among entries within ±w Å of its "
            "resolution. The paper recommends w ≤ 0.5 Å, where the ranking is not biased by "
            "resolution.",
        )
    with left:
        if context["q_relative_all"] is not None:
            a, b = st.columns(2)
            a.metric(
                "Q_relative_all",
                f"{context['q_relative_all']:.1f}%",
                help="Share of all archive entries with a lower Q-score (paper eq. 6).",
            )
            a.caption(f"among {context['entries_all']:,} entries")
            rel = context["q_relative_resolution"]
            b.metric(
                "Q_relative_resolution",
                f"{rel:.1f}%" if rel is not None else "—",
                help="Share of entries within the window with a lower Q-score (paper eq. 7).",
            )
            b.caption(
                f"among {context['entries_window']:,} entries at "
                f"{result.resolution - result.window:.2f}–{result.resolution + result.window:.2f} Å"
            )
            st.markdown(context["relative_interpretation"])
    for note in context["notes"]:
        st.caption(f"ℹ️ {plain(note)}")
    if context["reference"]:
        st.caption(f"Reference table: {plain(context['reference'])}")

if result.reference is not None:
    note = archive_note(result.sigma)
    st.subheader(
        "This model among EMDB map–model pairs"
        if note is None
        else f"This model against the expected Q-scores at sigma {result.sigma:g}"
    )
    if note:
        st.caption(note)
    else:
        st.caption(
            "Shading: how many entries lie in each 0.1 Å × 0.01 cell (darker is more; hover "
            "for the count). *Archive statistics* draws every entry as a point."
        )
    figure = archive_figure(
        result.reference.data,
        sigma=result.sigma,
        model_q=model_q,
        resolution=result.resolution,
        label="This model",
        entries="density",
    )
    st.plotly_chart(teaching.projector(figure), key="overview-archive", config=chart_config())

st.subheader("Per chain and per molecule type")
left, right = st.columns(2)
left.dataframe(
    analysis.chains.rename(columns={"q": "Q"}),
    hide_index=True,
    column_config={"Q": st.column_config.NumberColumn(format="%.3f")},
)
right.dataframe(
    analysis.types.rename(columns={"kind": "type", "q": "Q"}),
    hide_index=True,
    column_config={"Q": st.column_config.NumberColumn(format="%.3f")},
)
for note in scored.result.notes:
    st.caption(f"ℹ️ {plain(note)}")
st.caption(
    f"{scored.result.atoms_scored:,} atoms scored in {scored.result.seconds:.2f} s "
    f"(sigma {result.sigma:g}, {result.mode})."
)
