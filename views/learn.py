"""Learn: the paper's equations next to figures one can play with, from what a Q-score is to how
Q_relative ranks a model in the EMDB."""

import math

import streamlit as st

from app_support import state, teaching, workshop
from app_support.example import builtin
from app_support.layout import kept, plain
from qscore.analysis.expected import expected_q
from qscore.analysis.reference import default_reference
from qscore.analysis.relative import relative_q
from qscore.engine import atom_samples
from qscore.plotting.teaching import (
    b_from_q_figure,
    bands_figure,
    contrast_atoms,
    ladder_panels,
    ladder_residue,
    radial_profile_figure,
    relative_histogram_figure,
    slab_figure,
)

teaching.apply_fonts()
size = teaching.font_size()
# While predict-first hides the scenario on show, nothing here may give its numbers away.
result = None if workshop.withheld() else state.current()
model_q = result.scored.result.model_q if result is not None else math.nan
st.title("Learn: reading Q-scores")
what, curve, ladder, relative, more = st.tabs(
    [
        "1 · What Q measures",
        "2 · Q falls with resolution",
        "3 · The resolvability ladder",
        "4 · Q_relative",
        "5 · B-factors, CC and CC-mean",
    ]
)

with what:
    text, equations = teaching.text_and_figure()
    with text:
        st.markdown(
            "Around each atom the map is sampled at the centre and on shells out to 2 Å. The "
            "atom's **Q-score** is the correlation between these map values *u* and a Gaussian "
            "*v* of width σ centred on the atom, at the same distances *r*."
        )
    with equations:
        st.latex(
            r"Q = \frac{\sum_i (u_i-\bar u)(v_i-\bar v)}"
            r"{\sqrt{\sum_i (u_i-\bar u)^2}\,\sqrt{\sum_i (v_i-\bar v)^2}}"
        )
        st.latex(r"v_i = A\,e^{-r_i^2/2\sigma^2} + B")
    st.markdown(
        "Q is 1 when the map around the atom is shaped exactly like the Gaussian, about 0 when "
        "it is flat or noisy, and negative when the density sits somewhere else. A and B do not "
        "change Q. The EMDB uses σ = 0.4 Å; model Q is the mean over all atoms."
    )
    shown = result.scored if result is not None else None
    if shown is None and (info := builtin()) is not None:
        shown = teaching.scored(info.map_path, info.model_path, info.sigma)
    sigma = result.sigma if result is not None else 0.4
    mode = result.mode if result is not None else "direct"
    pair = contrast_atoms(shown.model, shown.result.q) if shown is not None else None
    if pair is None:
        st.info("Open a dataset to see real atoms' profiles here.")
    else:
        m = shown.model
        for column, atom, what in zip(
            st.columns(2), pair, ("A well resolved atom", "A poorly resolved atom"), strict=True
        ):
            samples = atom_samples(shown.dmap, m, atom, sigma=sigma, mode=mode)
            column.plotly_chart(
                radial_profile_figure(
                    samples,
                    sigma,
                    title=f"{what}: {m.chain[atom]} {m.resseq[atom]} {m.resname[atom]} "
                    f"{m.name[atom]}",
                    font_size=size,
                    height=380,
                ),
                key=f"qs-learn-profile-{atom}",
            )
        st.caption(
            "Left: the map values fall off from the atom like the Gaussian, so Q is high. Right: "
            "the values barely change with distance, so they hardly correlate with the Gaussian. "
            + (
                "Atoms of the dataset on show."
                if result is not None
                else "Atoms of the built-in example."
            )
        )
    st.page_link("views/radial.py", label="Explore any atom's profile", icon=":material/search:")

with curve:
    st.latex(
        r"\begin{aligned} Q_{mean} &= -0.0016\,d^3 + 0.0434\,d^2 - 0.3956\,d + 1.3366"
        r" && (1) \\ Q_{peak} &= Q_{mean} + 0.024 && (2) \\"
        r" Q_{low\,95\%} &= Q_{mean} - 0.126 && (3) \\"
        r" Q_{high\,95\%} &= Q_{mean} + 0.109 && (4) \end{aligned}"
    )
    text, picture = teaching.text_and_figure()
    with text:
        st.markdown(
            "In about 10 000 EMDB entries the model Q falls with the reported resolution *d* "
            "(σ = 0.4 Å). A third-degree polynomial gives the mean (eq. 1); offsets give the "
            "most common value, Q_peak, and the band that holds 95% of the entries (eq. 2–4)."
        )
        default_d = result.resolution if result is not None and result.resolution else 3.0
        start_d = float(min(max(default_d, 1.0), 10.0))
        d = st.slider(
            "Reported resolution d (Å)", 1.0, 10.0, step=0.1, key=kept("learn.resolution", start_d)
        )
        bands = expected_q(d, 0.4)
        teaching.metric_row(
            {
                "Q_low_95%": f"{bands.q_low95:.3f}",
                "Q_peak": f"{bands.q_peak:.3f}",
                "Q_high_95%": f"{bands.q_high95:.3f}",
            }
        )
        st.caption(
            "Below the band: misfit, or a map worse than reported. Above it: oversharpening, "
            "overfitting, or a map better than reported."
        )
    point = None
    if result is not None and result.resolution and math.isfinite(model_q):
        point = (float(result.resolution), model_q)
    picture.plotly_chart(
        bands_figure(
            d,
            bands,
            reference=default_reference(),
            point=point,
            point_name=f"current dataset (Q {model_q:.2f})",
            font_size=size,
        ),
        key="qs-learn-bands",
    )

with ladder:
    st.markdown(
        "The same correctly built residue in maps at four resolutions, seen face on (as in the "
        "paper's Fig. 1 b–i). At 1.5 Å the ring has a hole and the backbone atoms stand out; at "
        "2.5 Å the ring is still a ring; at 3.5 Å the side chain is one smooth lobe; at 6 Å it "
        "has merged with its neighbours. Q follows what the eye sees."
    )
    items = teaching.ladder_items()
    if items:
        chain, number, name = ladder_residue(items[0][2], items[0][3])
        st.plotly_chart(
            slab_figure(
                ladder_panels(items), height=420 if teaching.large_fonts() else 360, font_size=size
            ),
            key="qs-learn-ladder",
        )
        st.caption(
            f"{name} {chain}{number} at each resolution. Largest map value in a 1.6 Å thick slab "
            "through the residue, from the map's mean (white) to the typical value at the "
            "residue's atoms (dark blue); Q_residue is this residue's mean Q, Q_model the "
            "model's."
        )
    else:
        st.info(teaching.scenario_problem() or "The ladder scenarios are not available.")

with relative:
    reference = (result.reference if result is not None else None) or default_reference()
    st.latex(
        r"Q_{relative\_all} = \frac{\#\mathrm{Entries}(Q\text{-score} < Q)}"
        r"{\#\mathrm{Entries}_{total}} \times 100\% \quad (6)"
    )
    st.latex(
        r"Q_{relative\_resolution} = \frac{\#\mathrm{Entries}(|\mathrm{res} - d| \le w,\;"
        r"Q\text{-score} < Q)}{\#\mathrm{Entries}(|\mathrm{res} - d| \le w)}"
        r" \times 100\% \quad (7)"
    )
    text, picture = teaching.text_and_figure()
    with text:
        st.markdown(
            "Q_relative ranks a Q-score among EMDB entries: among all of them (eq. 6), or among "
            "those whose resolution lies within *w* of *d* (eq. 7). Near 50% is typical; below "
            "5% or above 95% asks for a closer look."
        )
        start_q = round(min(max(model_q if math.isfinite(model_q) else 0.5, 0.0), 1.0), 2)
        q = st.slider("Q-score", 0.0, 1.0, step=0.01, key=kept("learn.q", start_q))
        d_rel = st.slider(
            "Resolution d (Å)", 1.0, 10.0, value=d, step=0.1, key="qs.learn.rel_resolution"
        )
        w = st.slider(
            "Window w (Å)", 0.1, 1.5, value=state.window(), step=0.1, key="qs.learn.window"
        )
    if reference is None:
        picture.info("No EMDB reference table is installed, so Q_relative cannot be shown.")
    else:
        ranked = relative_q(q, d_rel, reference, w)
        with text:
            share = ranked.q_relative_resolution
            teaching.metric_row(
                {
                    "Q_relative_all": f"{ranked.q_relative_all:.1f}%",
                    "Q_relative_resolution": "—" if share is None else f"{share:.1f}%",
                }
            )
            st.markdown(ranked.interpretation)
            if ranked.warning:
                st.warning(ranked.warning)
        picture.plotly_chart(
            relative_histogram_figure(reference, ranked, font_size=size), key="qs-learn-relative"
        )
        picture.caption(f"Reference: {plain(reference.describe())}.")

with more:
    text, picture = teaching.text_and_figure()
    with text:
        st.markdown(
            "**Atomic B-factors from Q (eq. 5).** A sharp atom (high Q) gets a low B, a blurred "
            "one a high B. The scale f is the one whose model map best matches the map "
            "(highest CC-mean, f from 0 to 300)."
        )
        st.latex(r"B = (1 - Q_{atom}) \cdot f \quad (5)")
        f = st.slider("Scale factor f (Å²)", 0, 300, value=150, step=20, key="qs.learn.f")
        atom_q = st.slider("Atom Q", 0.0, 1.0, value=0.6, step=0.05, key="qs.learn.atom_q")
        st.markdown(
            "**CC and CC-mean (eq. 8–9)** compare a model map *m* with the map *c* at the grid "
            "points where the model map is above 0.01; CC-mean first removes the means."
        )
        st.latex(r"CC = \frac{\langle m, c \rangle}{|m|\,|c|} \quad (8)")
        st.latex(
            r"CC\text{-}mean = \frac{\langle m-\bar m,\; c-\bar c \rangle}"
            r"{|m-\bar m|\,|c-\bar c|} \quad (9)"
        )
    picture.plotly_chart(b_from_q_figure(f, atom_q, font_size=size), key="qs-learn-bfactor")
