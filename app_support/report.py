"""The dashboard's "Download report" button: the same HTML file ``qscore report`` writes for the
current inputs, built by :func:`qscore.report.build` only when the button is pressed."""

from __future__ import annotations

import streamlit as st

from app_support.layout import code_span, file_stem, kept
from app_support.local_resolution import LocalInputs, LocalResult
from app_support.state import Current
from qscore.analysis import local_fsc
from qscore.analysis.local_resolution import local_document
from qscore.report import build
from qscore.report.provenance import InputFile, input_file

ROLES = ("map", "model")


def report_inputs(result: Current, local: LocalInputs | None = None) -> list[InputFile]:
    """The map and model the result was scored from, and the local-resolution files, with their
    SHA-256 checksums."""
    roles = list(zip(ROLES, result.sources, strict=False))
    if local is not None and local.local_map is not None:
        roles.append(("local-resolution map", local.local_map))
    for i, half in enumerate((local.half_maps or ()) if local else (), start=1):
        roles.append((f"half map {i}", half))
    return [
        input_file(role, source.payload, name=source.name)
        for role, source in roles
        if source is not None
    ]


def local_source(local: LocalInputs) -> str:
    """Where the local resolution came from, in the words of ``qscore score``."""
    if local.local_map is not None:
        return f"local-resolution map {local.local_map.name}"
    first, second = local.half_maps
    return f"half maps {first.name} and {second.name}"


def report_html(
    result: Current,
    *,
    contour: float | None = None,
    bfactors: bool = False,
    local: tuple[LocalResult, LocalInputs] | None = None,
) -> str:
    """The report of ``result`` as ``qscore report`` writes it for the same inputs.

    Parameters
    ----------
    result : Current
        The session's result (map, model, resolution, sigma, mode, reference, window).
    contour : float, optional
        The map's recommended contour level (``--contour``).
    bfactors : bool
        Include B-factors from Q and CC / CC-mean (``--bfactors``).
    local : tuple of (LocalResult, LocalInputs), optional
        The local-resolution page's result and inputs (``--local-resolution``/``--half-maps``).

    Returns
    -------
    str
        The HTML document.
    """
    local_part = None
    if local is not None:
        found, chosen = local
        local_part = (found.table, local_document(found.table, local_source(chosen), found.notes))
    text, _ = build(
        result.scored,
        inputs=report_inputs(result, local[1] if local else None),
        resolution=result.resolution,
        reference=result.reference if result.resolution is not None else None,
        window=result.window,
        contour=contour,
        bfactors=bfactors and result.resolution is not None,
        analysis=result.analysis,
        local=local_part,
    )
    return text


def command_line(
    result: Current,
    *,
    contour: float | None,
    bfactors: bool,
    local: LocalInputs | None = None,
) -> str:
    """The ``qscore report`` command that writes the same file."""
    names = [source.name for source in result.sources if source is not None] or ["MAP", "MODEL"]
    parts = ["qscore report", *names]
    if local is not None and local.local_map is not None:
        parts.append(f"--local-resolution {local.local_map.name}")
    elif local is not None:
        first, second = local.half_maps
        parts.append(f"--half-maps {first.name} {second.name}")
        defaults = (local_fsc.DEFAULT_WINDOW, local_fsc.DEFAULT_STEP, local_fsc.DEFAULT_THRESHOLD)
        for flag, value, default in zip(
            ("--locres-window", "--locres-step", "--fsc-threshold"),
            (local.window, local.step, local.threshold),
            defaults,
            strict=True,
        ):
            if value != default:
                parts.append(f"{flag} {value:g}")
    if result.resolution is not None:
        parts.append(f"--resolution {result.resolution:g}")
    parts.append(f"--sigma {result.sigma:g} --mode {result.mode}")
    if result.window != 0.5:
        parts.append(f"--window {result.window:g}")
    if contour is not None:
        parts.append(f"--contour {contour:g}")
    if bfactors and result.resolution is not None:
        parts.append("--bfactors")
    return " ".join(parts) + " -o report.html"


def report_button(result: Current, local: tuple[LocalResult, LocalInputs] | None = None) -> None:
    """The contour and B-factor choices and the download button (the file is built on click);
    with ``local``, the report holds the local-resolution section too."""
    left, middle, right = st.columns([2, 2, 3])
    contour = left.number_input(
        "Recommended contour level (optional)",
        format="%.5g",
        key=kept("report-contour", None),
        placeholder="the model's volume",
        help="The level deposited with the map, in map units, for atom inclusion. Empty: the "
        "level at which the map encloses the model's volume.",
    )
    bfactors = middle.checkbox(
        "Include B-factors and CC",
        key=kept("report-bfactors", False),
        disabled=result.resolution is None,
        help="B-factors from Q-scores with CC / CC-mean, as on the B-factors page (slower).",
    )
    level = None if contour is None else float(contour)
    right.download_button(
        "Download report",
        data=lambda: report_html(result, contour=level, bfactors=bfactors, local=local),
        file_name=f"{file_stem(result.scored.model)}_qscore_report.html",
        mime="text/html",
        icon=":material/description:",
        on_click="ignore",
        help="One HTML file with every number and plot, readable offline, printable.",
    )
    command = command_line(result, contour=level, bfactors=bfactors)
    st.caption(f"The same file as {code_span(command)}.")
