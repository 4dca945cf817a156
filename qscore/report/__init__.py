"""The pre-deposition report: one self-contained HTML file with the map–model fit of a model.

:func:`qscore.report.contents.collect` computes what the report shows (with the command line's
numbers), :func:`qscore.report.document.render` writes it as HTML. ``qscore report`` and the
dashboard's "Download report" button both go through :func:`build`.
"""

from __future__ import annotations

from qscore.report.document import build, render, write

__all__ = ["build", "render", "write"]
