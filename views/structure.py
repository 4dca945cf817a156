"""3D structure: the model coloured by residue Q, the selected residue and its density."""

from __future__ import annotations

import streamlit as st

from app_support.layout import require_result
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
residue_picker(result)
viewer_panel(result, height=680)
