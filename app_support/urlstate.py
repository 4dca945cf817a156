"""The session in the URL, so a reload, a dropped connection or a server restart loses nothing.

``app.py`` writes, on every run, what the visitor is looking at into the query string:

| parameter | meaning |
|---|---|
| ``map``, ``model`` | restore keys of the uploaded files (:mod:`app_support.upload_store`) |
| ``resolution`` | the reported resolution in Å (uploaded files only) |
| ``sigma``, ``mode`` | scoring parameters, when they differ from the defaults |
| ``residue`` | the selected residue, ``chain:number[insertion code]``, e.g. ``A:145`` |

On the first run of a new browser session :func:`read` parses them once; the sidebar then
restores the files (while the store keeps them) and the parameters, and ``app.py`` re-selects
the residue once the result is there. Other query parameters (e.g. Streamlit's ``embed``) are
left alone. The page itself is in the URL's path already (``st.navigation``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from qscore import defaults

MAP, MODEL, RESOLUTION, SIGMA, MODE, RESIDUE = (
    "map",
    "model",
    "resolution",
    "sigma",
    "mode",
    "residue",
)
OURS = (MAP, MODEL, RESOLUTION, SIGMA, MODE, RESIDUE)
_READ = "qs.url.read"
_PENDING_RESIDUE = "qs.url.residue"
_RESIDUE_TEXT = re.compile(r"^(?P<chain>[^:]+):(?P<resseq>-?\d+)(?P<icode>.*)$")


@dataclass(frozen=True)
class Requested:
    """What a URL asked for (each None when absent or unreadable)."""

    map_key: str | None = None
    model_key: str | None = None
    resolution: float | None = None
    sigma: float | None = None
    mode: str | None = None
    residue: str | None = None


def _number(text: str | None, low: float, high: float) -> float | None:
    try:
        value = float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) and low <= value <= high else None


def parse(params: Mapping[str, str]) -> Requested:
    """The request in a query string (already split into ``params``); bad values are ignored.

    Parameters
    ----------
    params
        Query parameters, one value each.

    Returns
    -------
    Requested
        The values that could be read.
    """
    mode = params.get(MODE)
    return Requested(
        map_key=params.get(MAP) or None,
        model_key=params.get(MODEL) or None,
        resolution=_number(params.get(RESOLUTION), 0.5, 50.0),
        sigma=_number(params.get(SIGMA), 0.1, 2.0),
        mode=mode if mode in defaults.MODES else None,
        residue=params.get(RESIDUE) or None,
    )


def read() -> Requested | None:
    """The URL's request on the first run of this browser session; None on later runs."""
    if st.session_state.get(_READ):
        return None
    st.session_state[_READ] = True
    requested = parse(st.query_params.to_dict())
    st.session_state[_PENDING_RESIDUE] = requested.residue
    return requested


def residue_text(residues: pd.DataFrame, row: int) -> str:
    """``chain:number[insertion code]`` of row ``row`` of a residue table."""
    item = residues.loc[row]
    return f"{item['chain']}:{int(item['resseq'])}{item['icode'] or ''}"


def residue_row(residues: pd.DataFrame, text: str) -> int | None:
    """The row of the residue written ``chain:number[insertion code]``, or None."""
    match = _RESIDUE_TEXT.match(text or "")
    if match is None:
        return None
    icode = match["icode"]
    hits = residues.index[
        (residues["chain"].astype(str) == match["chain"])
        & (residues["resseq"].astype(int) == int(match["resseq"]))
        & (residues["icode"].fillna("").astype(str) == icode)
    ]
    return int(hits[0]) if len(hits) else None


def publish_residue(residues: pd.DataFrame, row: int | None) -> None:
    """Make the URL's residue the one in row ``row`` of ``residues`` (None: no residue).

    For a fragment's rerun, in which ``app.py`` does not write the URL.
    """
    text = residue_text(residues, row) if row is not None and row in residues.index else None
    if st.query_params.get(RESIDUE) == text:
        return
    if text is None:
        del st.query_params[RESIDUE]
    else:
        st.query_params[RESIDUE] = text


def pending_residue() -> str | None:
    """The residue the URL asked for, until :func:`residue_done` is called."""
    return st.session_state.get(_PENDING_RESIDUE)


def residue_done() -> None:
    """The URL's residue has been selected (or cannot be)."""
    st.session_state[_PENDING_RESIDUE] = None


def wanted(
    *,
    map_key: str | None,
    model_key: str | None,
    resolution: float | None,
    sigma: float,
    mode: str,
    residue: str | None,
) -> dict[str, str]:
    """The query parameters describing a view (defaults and unknowns left out)."""
    out: dict[str, str] = {}
    if map_key and model_key:
        out[MAP], out[MODEL] = map_key, model_key
        if resolution is not None:
            out[RESOLUTION] = f"{resolution:g}"
    if not math.isclose(sigma, defaults.SIGMA):
        out[SIGMA] = f"{sigma:g}"
    if mode != defaults.MODE:
        out[MODE] = mode
    if residue:
        out[RESIDUE] = residue
    return out


def publish(params: Mapping[str, str]) -> None:
    """Make the URL's parameters of this module ``params`` (others untouched), if they differ."""
    present = st.query_params.to_dict()
    mine = {k: v for k, v in present.items() if k in OURS}
    if mine == dict(params):
        return
    for name in OURS:
        if name in present and name not in params:
            del st.query_params[name]
    st.query_params.update(params)
