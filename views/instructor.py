"""Instructor's guide: how to run the workshop, the class's score, every scenario with its
answer, the paper's reasoning and the exercises with their answers, printable and as handouts
(the guide and a students' worksheet, in HTML or Markdown)."""

import pandas as pd
import streamlit as st

from app_support import teaching, workshop
from qscore.synthetic.lessons import lesson_for
from qscore.synthetic.lessons.handout import HOW_TO, handout_html, handout_markdown

#: Printing this page gives the guide alone: no sidebar, toolbar, workshop bar, switches or
#: buttons, and the page is not a scrolling box (which a browser would print as one screen).
PRINT_CSS = """
<style>
@media print {
  [data-testid="stSidebar"], [data-testid="stHeader"], [data-testid="stToolbar"],
  [data-testid="stDecoration"], .stButton, .stDownloadButton, [data-testid="stCheckbox"],
  .qs-no-print, [class*="st-key-qs-no-print"], .st-key-qs-teach-workshop-bar,
  [data-testid="stPageLink"] { display: none !important; }
  [data-testid="stAppViewContainer"], [data-testid="stMain"], [data-testid="stAppScrollToBottomContainer"],
  section.main, .main { overflow: visible !important; height: auto !important;
  position: static !important; }
  [data-testid="stMainBlockContainer"] { padding: 0 !important; max-width: none !important; }
  h2 { break-before: auto; break-after: avoid; }
}
</style>
"""

teaching.apply_fonts()
st.html(PRINT_CSS)
st.title("Instructor's guide")
st.markdown(HOW_TO)
entries = workshop.handout_entries()
if not entries:
    st.warning(teaching.scenario_problem() or "No teaching scenarios are available.")
    st.stop()

with st.container(key="qs-no-print-controls"):
    teaching.switches()
    #: (label, text, file name, MIME type, help) of each download.
    downloads = (
        (
            "Guide (HTML, prints cleanly)",
            handout_html(entries, answers=True),
            "qscore-workshop-guide.html",
            "text/html",
            None,
        ),
        (
            "Guide (Markdown)",
            handout_markdown(entries, answers=True),
            "qscore-workshop-guide.md",
            "text/markdown",
            None,
        ),
        (
            "Worksheet for students (HTML)",
            handout_html(entries, answers=False),
            "qscore-workshop-worksheet.html",
            "text/html",
            "Stories, choices and questions without the answers.",
        ),
    )
    for column, (label, text, name, mime, tip) in zip(
        st.columns(len(downloads)), downloads, strict=True
    ):
        column.download_button(
            label, text, file_name=name, mime=mime, icon=":material/download:", help=tip
        )
    guesses = workshop.guesses()
    if guesses:
        st.subheader(f"The class so far: {workshop.score_text().lower()}")
        rows = []
        for entry in entries:
            if entry.example.key not in guesses:
                continue
            lesson = lesson_for(entry.example.key)
            guess = lesson.choice(guesses[entry.example.key])
            rows.append(
                {
                    "scenario": f"{entry.number}. {entry.example.title}",
                    "class's guess": guess.label if guess else "(answer shown)",
                    "answer": lesson.right.label,
                    "right": None if guess is None else lesson.is_right(guess.key),
                }
            )
        st.dataframe(pd.DataFrame(rows), hide_index=True)
        st.caption("Kept in this browser session only; *Start over* on the gallery forgets it.")

st.markdown(handout_markdown(entries, answers=True, title=False))
