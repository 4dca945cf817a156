"""Sidebar inputs: map and model (uploads, files restored from the URL, optional paths on disk,
or the built-in example), resolution, sigma and sampling mode.

A visitor's own files are never swapped for the example behind their back. Once a pair of their
files has been scored it is *pinned*: while one file is being replaced (the other uploader
emptied), after a reload (the pair comes back from the URL) or after both uploaders were
emptied, the pinned files stand in for the missing ones. Only the "Show the example" button, or
opening a teaching scenario, unpins them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import streamlit as st

from app_support import urlstate
from app_support.cache import Source, model_for, source_from_path
from app_support.example import builtin
from app_support.layout import plain
from app_support.settings import settings
from app_support.teaching import chosen_key, sidebar_example, uploads_set_aside
from app_support.uploads import file_input, hold, restore, size_text, source_of
from qscore import defaults
from qscore.errors import QscoreError

MAP_TYPES = ["mrc", "map", "ccp4", "mrcs", "gz"]
MODEL_TYPES = ["cif", "mmcif", "pdb", "ent", "gz"]
MAP_UPLOAD, MODEL_UPLOAD = "qs.map_upload", "qs.model_upload"
SIGMA_KEY, MODE_KEY = "qs.sigma", "qs.mode"
#: Session key of the pinned pair (:class:`Pinned`).
PINNED = "qs.pinned"
_SCENARIO_SEEN = "qs.scenario_seen"
_PIN_SLOT = "qs.pinned"
_URL_MISSING = "qs.url.missing"
_UPLOADERS = (
    ("Density map", MAP_UPLOAD, MAP_TYPES, ".mrc .map .ccp4, or gzipped"),
    ("Atomic model", MODEL_UPLOAD, MODEL_TYPES, "PDB or mmCIF"),
)


@dataclass(frozen=True)
class Pinned:
    """The visitor's last scored (or restored) map and model."""

    map_source: Source
    model_source: Source


@dataclass(frozen=True)
class Inputs:
    """What to score and how; ``error`` is a readable sentence when an input cannot be used,
    ``note`` says which pinned file stands in for a missing upload."""

    map_source: Source | None
    model_source: Source | None
    is_example: bool
    label: str
    resolution: float | None
    sigma: float
    mode: str
    error: str | None = None
    note: str | None = None


def local_paths_allowed(config_dir: Path | None = None) -> bool:
    """True when reading paths on the server's disk is enabled.

    Enabled by the environment variable ``QSCORE_ALLOW_LOCAL_PATHS=1`` or by
    ``[qscore] allow_local_paths = true`` in ``qscore.toml`` of the working directory. Off by
    default, so a public server never reads arbitrary paths for strangers.
    """
    return settings(config_dir).allow_local_paths


def pinned() -> Pinned | None:
    """The session's pinned pair, or None."""
    return st.session_state.get(PINNED)


def pin(inputs: Inputs) -> None:
    """Pin the inputs' files (called once they scored without error)."""
    if inputs.is_example or inputs.map_source is None or inputs.model_source is None:
        return
    st.session_state[PINNED] = Pinned(inputs.map_source, inputs.model_source)


def unpin() -> None:
    """Forget the pinned pair (the example is shown until the next upload)."""
    st.session_state[PINNED] = None


def pinned_inputs(inputs: Inputs) -> Inputs | None:
    """``inputs`` with the pinned pair in place of its files, or None without a pinned pair."""
    pair = pinned()
    if pair is None:
        return None
    return replace(
        inputs,
        map_source=pair.map_source,
        model_source=pair.model_source,
        is_example=False,
        label=_label(pair.map_source, pair.model_source),
        error=None,
        note=None,
    )


def _label(map_source: Source, model_source: Source) -> str:
    return f"{map_source.name} + {model_source.name}"


def _path_sources() -> tuple[Source | None, Source | None, str | None]:
    """Map and model from paths typed in the sidebar (only when enabled)."""
    with st.sidebar.expander("Files on this computer", expanded=False):
        st.caption("For huge maps: read from disk, memory-mapped, instead of uploading.")
        map_path = st.text_input("Map path", key="qs.map_path").strip()
        model_path = st.text_input("Model path", key="qs.model_path").strip()
    if not (map_path and model_path):
        return None, None, None
    try:
        return source_from_path(map_path), source_from_path(model_path), None
    except OSError as exc:
        return None, None, f"The file {exc.filename} cannot be opened ({exc.strerror})."


def _resolution_key(model_source: Source | None) -> str:
    return f"qs.resolution.{model_source.digest[:16] if model_source else 'none'}"


def _resolution_input(model_source: Source | None, suggested: float | None) -> float | None:
    """Resolution field, prefilled from the mmCIF (or the example) and kept per model."""
    value = st.sidebar.number_input(
        "Reported map resolution (Å)",
        min_value=0.5,
        max_value=50.0,
        value=suggested,
        step=0.1,
        format="%.2f",
        key=_resolution_key(model_source),
        placeholder="e.g. 3.2",
        help="The map's reported (FSC 0.143) resolution; prefilled when the mmCIF records one.",
    )
    if value is None:
        st.sidebar.warning("Enter the map's resolution to compare the Q-score with the archive.")
    return None if value is None else float(value)


def _apply_url(requested: urlstate.Requested | None) -> None:
    """First run of a session: restore the URL's files and parameters into the session (the
    widgets then start from these values instead of their defaults)."""
    if requested is None:
        return
    if requested.sigma is not None:
        st.session_state[SIGMA_KEY] = requested.sigma
    if requested.mode is not None:
        st.session_state[MODE_KEY] = requested.mode
    map_file, model_file = restore(requested.map_key), restore(requested.model_key)
    if map_file is None or model_file is None:
        if requested.map_key or requested.model_key:
            st.session_state[_URL_MISSING] = True
        return
    st.session_state[PINNED] = Pinned(source_of(map_file), source_of(model_file))
    if requested.resolution is not None:
        st.session_state[_resolution_key(source_of(model_file))] = requested.resolution


def _scenario_changed() -> bool:
    """True on the run after a teaching scenario was opened (or closed)."""
    key = chosen_key()
    changed = st.session_state.get(_SCENARIO_SEEN, key) != key
    st.session_state[_SCENARIO_SEEN] = key
    return changed


def _stand_in(missing: str, kept: Source, present: str, upload: Source, before: Source) -> str:
    """The sentence for a pinned ``missing`` file (``kept``) standing in next to an upload of
    the ``present`` kind (``before`` is the pinned file of that kind)."""
    if upload.digest == before.digest:
        return f"Upload a {missing} to replace {kept.name}; it stays in use until then."
    return (
        f"The new {present} is scored with the {missing} {kept.name} until you upload a new "
        f"{missing}."
    )


def _choose(
    map_upload: Source | None, model_upload: Source | None, pair: Pinned | None
) -> tuple[Source | None, Source | None, str | None]:
    """The user's map and model: uploads first, the pinned pair standing in for what is
    missing; and a sentence when a pinned file stands in next to an upload."""
    if pair is None:
        if map_upload is not None and model_upload is not None:
            return map_upload, model_upload, None
        return None, None, None
    map_source = map_upload or pair.map_source
    model_source = model_upload or pair.model_source
    note = None
    if map_upload is None and model_upload is not None:
        note = _stand_in("map", pair.map_source, "model", model_upload, pair.model_source)
    elif model_upload is None and map_upload is not None:
        note = _stand_in("model", pair.model_source, "map", map_upload, pair.map_source)
    return map_source, model_source, note


def _pinned_box(pair: Pinned) -> None:
    """Which files are in use although the uploaders are empty, with a way back to the example."""
    with st.sidebar.container(border=True):
        st.caption(
            f":material/description: In use: **{plain(pair.map_source.name)}** and "
            f"**{plain(pair.model_source.name)}**, kept from before. Upload files to replace them."
        )
        st.button(
            "Show the example instead",
            key="qs.unpin",
            on_click=unpin,
            icon=":material/school:",
            width="stretch",
        )


def sidebar() -> Inputs:
    """Draw the sidebar and return the chosen inputs."""
    _apply_url(urlstate.read())
    if _scenario_changed():
        unpin()
    st.sidebar.markdown("### Map and model")
    map_file, model_file = (
        file_input(label, key=key, types=types, help=tip, container=st.sidebar)
        for label, key, types, tip in _UPLOADERS
    )
    if st.session_state.pop(_URL_MISSING, False):
        st.sidebar.warning(
            "The files of this link are no longer kept on the server; upload them again."
        )
    map_upload = source_of(map_file) if map_file else None
    model_upload = source_of(model_file) if model_file else None
    pair = pinned()
    hold(_PIN_SLOT, [pair.map_source, pair.model_source] if pair else [])
    error = note = None
    map_source = model_source = None
    if settings().allow_local_paths:
        map_source, model_source, error = _path_sources()
    if uploads_set_aside(map_upload, model_upload):
        map_upload = model_upload = None
    if map_source is None:
        map_source, model_source, note = _choose(map_upload, model_upload, pair)
        if pair is not None and map_upload is None and model_upload is None:
            _pinned_box(pair)
    label = _label(map_source, model_source) if map_source and model_source else ""
    if note:
        st.sidebar.info(plain(note), icon=":material/swap_horiz:")
    kept = [f"{plain(f.name)} ({size_text(f.size)})" for f in (map_file, model_file) if f]
    if kept:
        hours = settings().upload_keep_hours
        st.sidebar.caption(
            f"Kept on the server: {', '.join(kept)}. This page's address brings them back "
            f"after a reload, for {hours:g} h after you leave."
        )
    is_example = map_source is None or model_source is None
    suggested: float | None = None
    scenario = sidebar_example()  # also draws the teaching furniture, whatever is shown
    example = (scenario or builtin()) if is_example else None
    if is_example:
        if (map_upload is None) != (model_upload is None):
            st.sidebar.info("Upload both a map and a model; until then the example is shown.")
        map_source = model_source = None
        if example is not None:
            map_source = source_from_path(example.map_path)
            model_source = source_from_path(example.model_path)
            suggested = example.resolution
            label = example.title
    if model_source is not None and not is_example:
        # Parsed here to prefill the resolution; a model of millions of atoms takes a while,
        # so the sidebar says what is happening (only after half a second: a parsed model is
        # fetched at once).
        try:
            with st.sidebar, st.spinner(f"Reading the model {plain(model_source.name)}…"):
                suggested = model_for(model_source).resolution
        except QscoreError as exc:
            error = str(exc)
    st.sidebar.markdown("### Parameters")
    resolution = _resolution_input(model_source, suggested)
    sigma = st.sidebar.number_input(
        "Sigma (Å)",
        min_value=0.1,
        max_value=2.0,
        value=example.sigma if example else defaults.SIGMA,
        step=0.1,
        format="%.2f",
        key=SIGMA_KEY,
        help="Width of the reference Gaussian. 0.4 is the EMDB's value. Expected Q-scores "
        "(Q_peak and the 95% band) exist for sigma 0.4 and 0.6 only; Q_relative for 0.4 only.",
    )
    st.sidebar.caption("Expected-Q bands exist for sigma 0.4 and 0.6 only.")
    mode = st.sidebar.selectbox(
        "Sampling mode",
        defaults.MODES,
        key=MODE_KEY,
        help="direct: MapQ's single-process sampling. mapq-multiprocess: MapQ's voxel-aligned "
        "resampling, as in the EMDB's multi-process runs.",
    )
    return Inputs(
        map_source=map_source,
        model_source=model_source,
        is_example=is_example,
        label=label,
        resolution=resolution,
        sigma=float(sigma),
        mode=str(mode),
        error=error,
        note=note,
    )
