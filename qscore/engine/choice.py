"""Which engine scores: the compiled kernel, or the NumPy reference when asked or when needed.

``QSCORE_ENGINE`` (or the ``engine`` argument of :func:`qscore.engine.score`) picks one:
``compiled``, ``numpy``, or ``auto`` (the default: the compiled kernel when it can be loaded,
otherwise the NumPy engine, with a one-line notice on the ``qscore`` logger, once per process).
Both engines give the same numbers; the NumPy engine is slower.
"""

from __future__ import annotations

import functools
import logging
import os

from qscore.engine import compiled
from qscore.errors import EngineError

#: The engines, as reported in ``ScoreResult.engine`` and ``--json``.
ENGINES = ("compiled", "numpy")
#: Environment variable that chooses the engine.
ENV = "QSCORE_ENGINE"
AUTO = "auto"

FALLBACK_NOTICE = (
    "qscore: the compiled kernel is not available, so the NumPy engine scores instead "
    "(same numbers, slower; reinstall with a C compiler for speed)."
)


@functools.cache
def _notice_fallback() -> None:
    """Say once per process that the NumPy engine stands in for the missing kernel."""
    logging.getLogger("qscore").warning(FALLBACK_NOTICE)


def choose_engine(requested: str | None = None) -> str:
    """The engine to score with.

    Parameters
    ----------
    requested : str, optional
        ``"compiled"``, ``"numpy"`` or ``"auto"``; None reads ``QSCORE_ENGINE`` (default auto).

    Returns
    -------
    str
        ``"compiled"`` or ``"numpy"``.

    Raises
    ------
    EngineError
        When the name is unknown, or ``compiled`` is asked for but was not built.
    """
    source = "engine" if requested is not None else ENV
    name = (requested if requested is not None else os.environ.get(ENV, "")).strip().lower()
    name = name or AUTO
    if name not in (AUTO, *ENGINES):
        raise EngineError(
            f"Unknown scoring engine {name!r} (from {source}); use compiled, numpy or auto."
        )
    if name == "numpy":
        return "numpy"
    if compiled.available():
        return "compiled"
    if name == "compiled":
        raise EngineError(
            f"The compiled kernel was asked for ({source}=compiled) but is not available; "
            "reinstall qscore with a C compiler, or use the NumPy engine (QSCORE_ENGINE=numpy)."
        )
    _notice_fallback()
    return "numpy"
