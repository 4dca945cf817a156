"""The workshop on paper: the instructor's guide (every scenario with its answer, the paper's
reasoning, the measured numbers and the exercises with their answers) and the students'
worksheet (stories, choices and exercises, no answers), as Markdown or as a self-contained HTML
page with a print style sheet.

Both formats are written from one list of blocks, so they always say the same thing.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from qscore.synthetic.lessons.catalogue import CATEGORIES, Lesson
from qscore.synthetic.lessons.facts import render


@dataclass(frozen=True)
class Entry:
    """One scenario of the handout: its place in the workshop, the scenario, its lesson and the
    numbers measured on it (:func:`qscore.synthetic.lessons.facts.lesson_facts`)."""

    number: int
    example: Any
    lesson: Lesson
    facts: Mapping[str, Any]


#: (kind, text, extra): "title", "intro", "heading", "text" (extra: a bold lead-in), "choices" (extra:
#: the choices' labels and meanings), "boxes" (extra: labels to tick, on one line),
#: "question" (extra: the answer or None).
Block = tuple[str, str, Any]

HOW_TO = (
    "Open the scenario gallery and switch on Workshop mode, Predict first and, for a projector, "
    "Large fonts; press Start. For each scenario the class reads the story and looks at the "
    "density shown, then commits to one answer; only then do the verdict, the numbers and the "
    "pages of the dashboard appear, with the reasoning and the exercises. The class's score is "
    "kept in the browser session only. Files uploaded by a student are set aside (after asking) "
    "while a scenario is shown, and come back with one click."
)
WORKSHEET = (
    "For each scenario, read the story and look at the density on the screen, then tick one "
    "answer before the numbers are shown. Note your answers to the questions after the reveal."
)


def _blocks(entries: Sequence[Entry], *, answers: bool) -> list[Block]:
    title = "Q-score workshop: " + ("instructor's guide" if answers else "worksheet")
    blocks: list[Block] = [("title", title, None)]
    blocks.append(("intro", HOW_TO if answers else WORKSHEET, None))
    blocks.append(("choices", "The answers to choose from", _choice_rows(CATEGORIES)))
    for entry in entries:
        example, lesson, facts = entry.example, entry.lesson, entry.facts
        blocks.append(("heading", f"{entry.number}. {example.title}", None))
        where = f"Reported resolution {example.resolution:g} Å, sigma {example.sigma:g}"
        if answers:
            where += f"; mirrors the paper's {example.figure}; scenario key {example.key}"
        blocks.append(("text", where + ".", None))
        blocks.append(("text", example.explanation, "Story."))
        if lesson.clue:
            blocks.append(("text", render(lesson.clue, facts), None))
        if lesson.choices == CATEGORIES:
            blocks.append(("boxes", lesson.prompt, [c.label for c in lesson.choices]))
        else:
            blocks.append(("choices", lesson.prompt, _choice_rows(lesson.choices)))
        if answers:
            blocks.append(("text", render(lesson.truth, facts), f"Answer: {lesson.right.label}."))
            blocks.append(("text", render(lesson.reasoning, facts), "Why."))
            blocks.append(
                (
                    "text",
                    f"model Q {facts['model_q']:.3f}; Q_peak {facts['q_peak']:.3f}; 95% band "
                    f"{facts['q_low95']:.3f}–{facts['q_high95']:.3f} at {facts['d']:g} Å.",
                    "Numbers:",
                )
            )
        for question in lesson.questions:
            answer = render(question.answer, facts) if answers else None
            blocks.append(("question", render(question.text, facts), answer))
    return blocks


def _choice_rows(choices) -> list[tuple[str, str]]:
    return [(c.label, c.meaning) for c in choices]


def handout_markdown(entries: Sequence[Entry], *, answers: bool = True, title: bool = True) -> str:
    """The instructor's guide (``answers=True``) or the students' worksheet, as Markdown
    (without its heading and introduction when ``title`` is False, for a page that has its
    own)."""
    lines: list[str] = []
    for kind, text, extra in _blocks(entries, answers=answers):
        if kind in ("title", "intro") and not title:
            continue
        if kind == "title":
            lines += [f"# {text}", ""]
        elif kind == "intro":
            lines += [text, ""]
        elif kind == "heading":
            lines += [f"## {text}", ""]
        elif kind == "text":
            lines += [f"**{extra}** {text}" if extra else text, ""]
        elif kind == "choices":
            lines += [f"**{text}**", ""]
            lines += [f"- **{label}**: {meaning}" for label, meaning in extra]
            lines.append("")
        elif kind == "boxes":
            lines += [f"**{text}** " + " · ".join(f"☐ {label}" for label in extra), ""]
        elif kind == "question":
            lines += [f"**Question.** {text}", ""]
            lines += [f"> *Answer.* {extra}" if extra else "> …", ""]
    return "\n".join(lines).rstrip() + "\n"


_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 48rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.45; color: #222; }
h1 { font-size: 1.7rem; } h2 { font-size: 1.3rem; margin-top: 2rem; border-top: 1px solid #ccc;
       padding-top: 1rem; }
section { break-inside: avoid-page; }
.box { display: inline-block; margin-right: 1.2rem; white-space: nowrap; }
.question { margin: 0.6rem 0 0.2rem; } .answer { margin: 0 0 0.8rem 1.2rem; color: #1f5fa8; }
.blank { border-bottom: 1px dotted #999; height: 3.2rem; margin: 0 0 0.8rem 1.2rem; }
@media print { body { margin: 0; max-width: none; font-size: 11pt; } h2 { break-after: avoid; }
               a { color: inherit; text-decoration: none; } }
"""


def handout_html(entries: Sequence[Entry], *, answers: bool = True) -> str:
    """The instructor's guide or the students' worksheet as one HTML page that prints cleanly
    (each scenario kept on one page where it fits)."""
    body: list[str] = []
    title = ""
    open_section = False
    for kind, text, extra in _blocks(entries, answers=answers):
        safe = html.escape(text)
        if kind == "title":
            title = safe
            body.append(f"<h1>{safe}</h1>")
        elif kind == "heading":
            if open_section:
                body.append("</section>")
            body.append(f"<section><h2>{safe}</h2>")
            open_section = True
        elif kind in ("text", "intro"):
            lead = f"<strong>{html.escape(extra)}</strong> " if extra else ""
            body.append(f"<p>{lead}{safe}</p>")
        elif kind == "choices":
            items = "".join(
                f"<li><strong>{html.escape(label)}</strong>: {html.escape(meaning)}</li>"
                for label, meaning in extra
            )
            body.append(f"<p><strong>{safe}</strong></p><ul>{items}</ul>")
        elif kind == "boxes":
            ticks = " ".join(f"<span class='box'>☐ {html.escape(label)}</span>" for label in extra)
            body.append(f"<p><strong>{safe}</strong><br>{ticks}</p>")
        elif kind == "question":
            body.append(f"<p class='question'><strong>Question.</strong> {safe}</p>")
            body.append(
                f"<p class='answer'><em>Answer.</em> {html.escape(extra)}</p>"
                if extra
                else "<div class='blank'></div>"
            )
    if open_section:
        body.append("</section>")
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{title}</title><style>{_STYLE}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )
