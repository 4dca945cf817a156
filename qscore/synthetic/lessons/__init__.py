"""Workshop lessons for the teaching scenarios: what students predict, the answer with the
paper's reasoning, and one or two exercises each (text only; no generator reads this folder).

:mod:`~qscore.synthetic.lessons.catalogue` holds the content, :mod:`~.facts` the numbers the
texts quote (measured on the scored scenario, never typed in) and :mod:`~.handout` the
instructor's guide and the students' worksheet as Markdown or HTML.
"""

from qscore.synthetic.lessons.catalogue import (
    CATEGORIES,
    LESSONS,
    PROMPT,
    Choice,
    Lesson,
    Question,
    Region,
    lesson_for,
)
from qscore.synthetic.lessons.facts import lesson_facts, render

__all__ = [
    "CATEGORIES",
    "LESSONS",
    "PROMPT",
    "Choice",
    "Lesson",
    "Question",
    "Region",
    "lesson_facts",
    "lesson_for",
    "render",
]
