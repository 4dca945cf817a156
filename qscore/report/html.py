"""HTML building blocks of the report: escaping, numbers, tables, figures and the page itself.

The page is one self-contained file. Plotly's JavaScript is embedded once
(:func:`plotly.offline.get_plotlyjs`); each figure is a ``<div>`` with its JSON in a
``<script type="application/json">`` element, drawn by one small script at the end of the page.
Nothing is fetched: no CDN, no web fonts, no MathJax (the page uses the system's fonts and plain
text for formulas).
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from qscore.io.jsondoc import json_text

#: Plotly options of every figure: no logo, no links out, PNG export at twice the size.
PLOT_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "showLink": False,
    "showSendToCloud": False,
    "toImageButtonOptions": {"format": "png", "scale": 2},
}
#: The layout template of the figures (qscore.plotting's), stored once per page.
TEMPLATE = "plotly_white"
#: Width (CSS px) figures are drawn at when printed on A4 with the page margins below.
PRINT_WIDTH = 680


def esc(text: object) -> str:
    """``text`` as HTML-escaped text."""
    return html.escape(str(text), quote=True)


def fmt(value: float | None, spec: str = ".3f", missing: str = "—") -> str:
    """A number formatted with ``spec``; ``missing`` for None or NaN."""
    if value is None:
        return missing
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return format(int(value), spec)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return missing
    if not math.isfinite(number):
        return missing
    return format(number, spec)


def number(
    key: Sequence[str],
    value: float | int | None,
    spec: str = ".3f",
    suffix: str = "",
    *,
    scale: float = 1,
) -> str:
    """A number the reader sees, tagged with where it sits in the report's JSON document and its
    exact value, so that a program can check it against ``--json``.

    ``data-key`` is the path of keys as a JSON array (e.g. ``["score", "chains", "A"]``);
    ``data-value`` is the document's exact value as JSON (``null`` when there is none); the text
    shows ``value × scale`` formatted with ``spec`` (``scale=100`` shows a fraction as a
    percentage), and ``data-scale`` says so.
    """
    exact = json.dumps(value if _finite(value) else None)
    shown = fmt(None if value is None else value * scale, spec)
    tail = esc(suffix) if shown != "—" else ""
    return (
        f'<span class="num" data-key="{esc(json.dumps(list(key)))}" data-value="{esc(exact)}" '
        f'data-scale="{scale:g}">{esc(shown)}{tail}</span>'
    )


def _finite(value: Any) -> bool:
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def table(
    header: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    classes: str = "",
    numeric: Sequence[int] = (),
    caption: str | None = None,
) -> str:
    """An HTML table; ``header`` is escaped, cells are HTML already (use :func:`esc`)."""
    right = set(numeric)
    head = "".join(
        f'<th{" class=r" if i in right else ""} scope="col">{esc(h)}</th>'
        for i, h in enumerate(header)
    )
    body = "".join(
        "<tr>"
        + "".join(f"<td{' class=r' if i in right else ''}>{c}</td>" for i, c in enumerate(row))
        + "</tr>"
        for row in rows
    )
    cap = f"<caption>{caption}</caption>" if caption else ""
    return f'<table class="{esc(classes)}">{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def key_values(pairs: Iterable[tuple[str, str]]) -> str:
    """A two-column table of labels (escaped) and values (HTML)."""
    rows = "".join(f'<tr><th scope="row">{esc(k)}</th><td>{v}</td></tr>' for k, v in pairs)
    return f'<table class="kv"><tbody>{rows}</tbody></table>'


def _script_json(obj: Any) -> str:
    """JSON that can sit inside a ``<script>`` element (no ``</`` or ``<!--`` in it)."""
    text = obj if isinstance(obj, str) else json_text(obj, indent=None)
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def shared_template() -> dict[str, Any]:
    """The layout template every figure of the report uses, embedded once in the page."""
    return pio.templates[TEMPLATE].to_plotly_json()


def figure(fig: go.Figure, name: str, *, caption: str | None = None) -> str:
    """A figure's placeholder ``<div>`` and its JSON, drawn by :func:`page`'s script.

    ``name`` becomes the element id (``fig-<name>``); the caption is HTML. A figure drawn with
    the shared template (:data:`TEMPLATE`) leaves it out of its JSON; the page adds it back when
    drawing, so the template is stored once rather than once per figure.
    """
    ident = f"fig-{name}"
    spec = fig.to_dict()
    template = spec.get("layout", {}).pop("template", None)
    if template is not None and template != shared_template():
        spec["layout"]["template"] = template
    data = _script_json(pio.json.to_json_plotly(spec))
    cap = f"<figcaption>{caption}</figcaption>" if caption else ""
    return (
        f'<figure class="plot-box"><div class="plot" id="{esc(ident)}"></div>'
        f'<script type="application/json" data-plot="{esc(ident)}">{data}</script>{cap}</figure>'
    )


def json_block(obj: Any, ident: str) -> str:
    """A JSON document embedded in the page (``<script type="application/json" id=...>``)."""
    return f'<script type="application/json" id="{esc(ident)}">{_script_json(obj)}</script>'


_DRAW = """
(function () {
  var config = %(config)s;
  var template = JSON.parse(document.getElementById('plotly-template').textContent);
  var plots = [];
  document.querySelectorAll('script[data-plot]').forEach(function (node) {
    var spec = JSON.parse(node.textContent);
    var div = document.getElementById(node.getAttribute('data-plot'));
    if (!spec.layout.template) { spec.layout.template = template; }
    Plotly.newPlot(div, spec.data, spec.layout, config);
    plots.push(div);
  });
  document.body.setAttribute('data-plots-drawn', String(plots.length));
  function fixWidth(width) {
    plots.forEach(function (div) {
      Plotly.relayout(div, {width: width, autosize: width === null});
    });
  }
  window.addEventListener('beforeprint', function () { fixWidth(%(width)d); });
  window.addEventListener('afterprint', function () { fixWidth(null); });
})();
"""


def page(title: str, body: str, *, css: str, plotly_js: str) -> str:
    """The whole document: head with the style sheet, body, Plotly's code once, the drawing
    script."""
    draw = _DRAW % {"config": json.dumps(PLOT_CONFIG), "width": PRINT_WIDTH}
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        # An empty icon, so that no browser asks a server for favicon.ico.
        '<link rel="icon" href="data:,">'
        f"<title>{esc(title)}</title><style>{css}</style></head>"
        f"<body>{body}"
        f"{json_block(shared_template(), 'plotly-template')}"
        f'<script type="text/javascript">{plotly_js}</script>'
        f'<script type="text/javascript">{draw}</script>'
        "</body></html>\n"
    )
