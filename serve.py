"""The dashboard as served to users: ``streamlit run serve.py`` (what ``make run`` does).

Same app as ``streamlit run app.py``, with one difference: uploads stream straight to disk
(:mod:`app_support.upload_route`) instead of being held in the server's memory, so a 2 GB map
costs the server almost no memory. Settings: ``.streamlit/config.toml`` and
:mod:`app_support.settings`; see docs/dashboard.md ("Running a workshop").
"""

import streamlit as st
from starlette.middleware import Middleware

from app_support.upload_route import SpillUploads

app = st.App("app.py", middleware=[Middleware(SpillUploads)])
