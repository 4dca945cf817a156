"""3D structure: the model coloured by residue Q, the selected residue and its density."""

from __future__ import annotations

import streamlit as st

from app_support.layout import kept, require_result
from app_support.viewer_panel import residue_picker, viewer_panel

result = require_result()
st.title("3D structure")
st.markdown(
    "The cartoon is coloured by each residue's mean Q: **red** near 0, **white** halfway, "
    "**blue** at Q_peak, the value most commonly observed at this resolution. Pick a residue "
    "(or click one in a plot on the other pages) to zoom to it, see its atoms as sticks coloured "
    "by atom Q, its neighbours as thin sticks and the map around it as a mesh. The contour "
    "starts where most of the residue's well-scored atoms sit inside the mesh (shown in σ and "
    "map units); drag the slider above the view to change it."
)
residues = result.analysis.residues
chains = list(dict.fromkeys(residues["chain"]))
if len(chains) > 1:
    followed = st.session_state.get("qs.structure-chain-follow")
    if result.selected in residues.index and followed != result.selected:
        st.session_state[kept("structure-chain", chains[0])] = residues.at[result.selected, "chain"]
        st.session_state["qs.structure-chain-follow"] = result.selected
    left, right = st.columns([1, 4])
    chain = left.selectbox("Chain", chains, key=kept("structure-chain", chains[0]))
    with right:
        residue_picker(result, residues.index[residues["chain"] == chain])
else:
    residue_picker(result)
viewer_panel(result, height=680)
