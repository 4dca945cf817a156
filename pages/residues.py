"""residues page."""

import streamlit as st

from app_support.layout import require_result

result = require_result()
st.title("residues")
