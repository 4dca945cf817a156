"""Radial-profile explorer: the map values the engine sampled around one atom, against distance,
with the reference Gaussian, the atom's Q, how Q depends on sigma, and the points in 3D."""

import math

import streamlit as st

from app_support import teaching
from app_support.layout import kept, require_result
from qscore.engine import atom_samples
from qscore.errors import QscoreError
from qscore.plotting.teaching import (
    fit_reference,
    radial_profile_figure,
    sample_cloud_figure,
    sigma_sweep_figure,
)

SIGMA_KEY = "qs.keep.radial.sigma"

teaching.apply_fonts()
size = teaching.font_size()
result = require_result()
st.title("Radial profile of one atom")
st.markdown(
    "A Q-score compares the map around an atom with a Gaussian centred on it. Pick an atom and "
    "see the map value at every point the score used, against its distance from the atom."
)
index = teaching.atom_picker(result)
sigma = st.slider(
    "Sigma of the reference Gaussian (Å)",
    min_value=0.2,
    max_value=1.0,
    step=0.05,
    key=kept(SIGMA_KEY, round(min(max(result.sigma, 0.2), 1.0), 2)),
    help="The width of the reference Gaussian. The EMDB uses 0.4 Å; MapQ's default is 0.6 Å.",
)
model = result.scored.model
try:
    samples = atom_samples(result.scored.dmap, model, index, sigma=sigma, mode=result.mode)
except QscoreError as exc:
    st.error(str(exc), icon=":material/error:")
    st.stop()
engine_q = float(result.scored.result.q[index])
label = (
    f"{model.chain[index]} {model.resseq[index]}{model.icode[index]} "
    f"{model.resname[index]} {model.name[index]}"
)
a, b = fit_reference(samples.values, samples.reference)
first, second, third, fourth = st.columns(4)
first.metric(
    f"Q at σ = {sigma:g} Å",
    f"{samples.q:.3f}" if math.isfinite(samples.q) else "—",
    help="Pearson correlation of the points in the plot with the reference Gaussian.",
)
second.metric(
    f"Engine Q (σ = {result.sigma:g} Å)",
    f"{engine_q:.3f}" if math.isfinite(engine_q) else "not scored",
    help="The atom's Q in the dashboard's scoring run.",
)
third.metric("Sample points", f"{samples.values.size}")
fourth.metric("Fit A · g + B", f"A {a:.3g}, B {b:.3g}")

profile, cloud = st.columns([3, 2], gap="medium")
with profile:
    st.plotly_chart(
        radial_profile_figure(samples, sigma, title=label, font_size=size), key="qs-radial-profile"
    )
with cloud:
    st.plotly_chart(sample_cloud_figure(samples, model, font_size=size), key="qs-radial-cloud")
    st.caption(
        "The sample points around the atom, coloured by their distance; grey sticks and balls "
        "are the neighbouring atoms. Points that come too close to a neighbour are left out."
    )

sigmas, qs = teaching.sigma_sweep(result, index)
st.subheader("How Q depends on sigma")
st.plotly_chart(sigma_sweep_figure(sigmas, qs, sigma, font_size=size), key="qs-radial-sweep")
with st.expander("How to read these plots", icon=":material/school:"):
    st.markdown(
        "- The map is sampled at the atom centre (counted 8 times) and on shells every 0.1 Å "
        "out to 2 Å. A point that another atom comes closer to than 0.9 × the shell radius "
        "is skipped, so the density of neighbours does not count for this atom.\n"
        "- Q is the correlation between these values and a Gaussian of width σ. Scale and "
        "offset do not matter, which is why the red curve is fitted as A·g + B before drawing.\n"
        "- A resolved atom gives a peak that falls off like the Gaussian: Q near 1. A blurred "
        "or misplaced atom gives a flat or shifted cloud: Q near 0 or negative.\n"
        "- A wider Gaussian (larger σ) matches blurrier maps better, so Q values are only "
        "comparable at the same σ; the EMDB's expected values are for σ = 0.4 Å."
    )
