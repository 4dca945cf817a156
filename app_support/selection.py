"""Turn clicks on plots and table rows into the session's residue selection."""

from __future__ import annotations

import streamlit as st

from app_support import state

_LAST = "qs.last_click"
#: The plot whose click made the current selection, and the row it selected.
_BY = "qs.selected_by"
#: Per clickable plot: how many times it was drawn afresh, and the selection it last showed.
_CHARTS = "qs.charts"


def _first_row(points: list[dict]) -> int | None:
    for point in points:
        custom = point.get("customdata")
        if custom:
            try:
                return int(float(custom[0]))
            except (TypeError, ValueError):
                continue
    return None


def from_plot(event, key: str) -> None:
    """Select the residue of the clicked point, once per new click on the plot ``key``.

    A plot keeps its selection across reruns, so only a change of the clicked points counts;
    otherwise a picker choice made later would be overridden by an old click.
    """
    points = list(getattr(getattr(event, "selection", None), "points", []) or [])
    signature = repr([(p.get("curve_number"), p.get("point_index")) for p in points])
    last: dict[str, str] = st.session_state.setdefault(_LAST, {})
    if last.get(key) == signature:
        return
    last[key] = signature
    row = _first_row(points)
    if row is not None:
        state.select_residue(row)
        st.session_state[_BY] = (key, row)


def chart_key(base: str) -> str:
    """The key under which to draw the clickable plot ``base``.

    Plotly highlights a clicked point itself (the figure stays the same, so the browser does not
    redraw it and the 3D view follows the click sooner). When the selection then changes some
    other way (the outlier walk, the residue picker, another page), the plot gets a new key: it
    is drawn afresh, without the highlight of a residue no longer selected.
    """
    current = state.current()
    selected = current.selected if current is not None else None
    charts: dict[str, tuple[int, int | None]] = st.session_state.setdefault(_CHARTS, {})
    generation, shown = charts.get(base, (0, selected))
    key = f"{base}.{generation}"
    if selected != shown and st.session_state.get(_BY) != (key, selected):
        generation += 1
        key = f"{base}.{generation}"
    charts[base] = (generation, selected)
    return key


def take_click(key: str) -> None:
    """Apply a click made on the plot ``key`` since the last run, before the plot is drawn.

    A chart's selection is in the session state at the start of the run its click triggered, so
    a fragment can select the residue first and draw the plot, the picker and the view for it in
    that one run (:func:`plot` then finds the click already taken).
    """
    from_plot(st.session_state.get(key), key)


def plot(figure, key: str) -> None:
    """``figure`` drawn so that clicking a point selects the residue it carries (its first
    ``customdata`` value, a row of the residue table)."""
    from app_support.layout import chart_config

    event = st.plotly_chart(
        figure, key=key, on_select="rerun", selection_mode=("points",), config=chart_config()
    )
    from_plot(event, key)


def table(frame, key: str, column_config: dict) -> None:
    """``frame`` as a dataframe in which one row can be selected; selecting a row selects the
    residue its index names (a row of the residue table). Cells without a value (a nucleic-acid
    subset of a protein residue, a glycine's side chain) are left blank."""
    event = st.dataframe(
        frame,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key=key,
        column_config=column_config,
        placeholder="",
    )
    from_table(event, list(frame.index), key)


def from_table(event, rows: list[int], key: str) -> None:
    """Select the residue of a newly selected row of a dataframe (``rows`` maps positions)."""
    chosen = list(getattr(getattr(event, "selection", None), "rows", []) or [])
    signature = repr(chosen)
    last: dict[str, str] = st.session_state.setdefault(_LAST, {})
    if last.get(key) == signature:
        return
    last[key] = signature
    if chosen and chosen[0] < len(rows):
        state.select_residue(rows[chosen[0]])
