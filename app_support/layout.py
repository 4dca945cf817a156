"""Page furniture shared by every page: navigation, the result header, widget persistence and
download buttons."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import streamlit as st

from app_support.pages import sections
from app_support.state import Current, current, stale
from qscore.errors import QscoreError
from qscore.progress import Progress, throttled

#: Widgets whose key starts with this prefix keep their value when the visitor switches pages.
KEEP = "qs.keep."
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:&])")


def plain(text: object) -> str:
    """``text`` (a file name, a residue or chain name, a message quoting them) escaped so that
    Streamlit's Markdown shows it literally: no formatting, links, HTML, LaTeX or icons."""
    flat = " ".join(str(text).split())
    return _MARKDOWN_SPECIAL.sub(r"\\\1", flat)


def code_span(text: object) -> str:
    """``text`` (e.g. a command naming the visitor's files) as one Markdown code span, shown
    literally: the backtick fence is longer than any run of backticks in the text."""
    flat = " ".join(str(text).split())
    fence = "`" * (max((len(run) for run in re.findall("`+", flat)), default=0) + 1)
    return f"{fence} {flat} {fence}" if "`" in flat else f"{fence}{flat}{fence}"


def keep_widget_state() -> None:
    """Stop Streamlit from discarding page widgets' values on page switches (prefix ``KEEP``)."""
    for key in list(st.session_state.keys()):
        if isinstance(key, str) and key.startswith(KEEP):
            st.session_state[key] = st.session_state[key]


def kept(key: str, default: object) -> str:
    """Initialise a persistent widget's value once; pass the returned key (and no ``value``) to
    the widget, so Streamlit never sees both a default and a Session State value."""
    full = key if key.startswith(KEEP) else KEEP + key
    if full not in st.session_state:
        st.session_state[full] = default
    return full


def navigation():
    """``st.navigation`` over the registry in :mod:`app_support.pages`, every page listed (not
    folded behind "View more", which would hide the teaching pages)."""
    menu = {
        section: [st.Page(p.path, title=p.title, icon=p.icon, default=p.default) for p in specs]
        for section, specs in sections().items()
    }
    return st.navigation(menu, expanded=True)


def header(result: Current | None) -> None:
    """One line saying what is shown: the inputs, resolution, sigma, mode and model Q (none in
    workshop mode, whose bar says it; no Q while predict-first hides it)."""
    from app_support import workshop  # the workshop's pages import this module's helpers

    if result is None or workshop.bar_shown():
        return
    q = result.scored.result.model_q
    resolution = f"{result.resolution:g} Å" if result.resolution else "resolution not given"
    source = ":material/school: " if result.is_example else ":material/description: "
    shown_q = f" · model Q **{q:.3f}**" + ("" if math.isfinite(q) else " (no atom scored)")
    st.caption(
        f"{source}**{plain(result.label)}** · {resolution} · sigma {result.sigma:g} · "
        f"{result.mode}" + ("" if workshop.withheld() else shown_q)
    )


#: Elements of a run in progress fade at once after half a second instead of over a second:
#: without a graphics card the browser redraws the whole page for every step of that fade,
#: which competes with the scoring for the processor when both share a machine.
_PAGE_CSS = '<style>[data-stale="true"] { transition: opacity 0s linear 0.5s !important; }</style>'


def page_style() -> None:
    """The dashboard's own style rules (every run; they take no room on the page)."""
    st.html(_PAGE_CSS)


def progress_bar(text: str) -> Progress:
    """A progress bar on the page, and the callback that advances it (a few times a second at
    most, so a fast computation never waits on the browser)."""
    bar = st.progress(0.0, text=text)

    def advance(done: int, total: int, stage: str) -> None:
        bar.progress(min(done / total, 1.0) if total else 0.0, text=stage)

    return throttled(advance)


def require_result() -> Current:
    """The current result, or stop the page with a hint when there is none yet."""
    result = current()
    if result is None and stale():
        st.rerun()  # the store dropped this session's result: the full run scores it again
    if result is None:
        st.info("Upload a map and a model in the sidebar to see their Q-scores.")
        st.stop()
    from app_support import workshop

    workshop.gate()
    return result


FIGURE_FORMAT = KEEP + "figure-format"


def chart_config() -> dict:
    """Plotly config: the toolbar's camera saves PNG or SVG (chosen on the downloads page)."""
    fmt = st.session_state.get(FIGURE_FORMAT, "png")
    return {
        "displaylogo": False,
        "toImageButtonOptions": {"format": fmt, "scale": 2 if fmt == "png" else 1},
    }


MIME_TYPES = {"csv": "text/csv", "cif": "chemical/x-mmcif", "pdb": "chemical/x-pdb"}


def file_stem(model) -> str:
    """The model file's name without folder and extensions, to name downloads after it."""
    return (model.source or "model").rsplit("/", 1)[-1].split(".")[0] or "model"


def download(place, label: str, make: Callable[[], str], file_name: str, help: str | None = None):
    """A download button in ``place`` (a column) for the text ``make()`` returns; the library's
    error as a warning instead when the file cannot be written. The type follows the suffix."""
    try:
        data = make()
    except QscoreError as exc:
        place.warning(str(exc))
        return
    place.download_button(
        label,
        data,
        file_name=file_name,
        mime=MIME_TYPES[file_name.rsplit(".", 1)[-1]],
        icon=":material/download:",
        help=help,
    )
