"""Sidebar inputs: map and model (uploads, optional paths on disk, or the built-in example),
resolution, sigma and sampling mode."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from app_support.cache import Source, model_for, source_from_bytes, source_from_path
from app_support.example import builtin
from app_support.teaching import sidebar_example, uploads_set_aside
from qscore import defaults
from qscore.errors import QscoreError

MAP_TYPES = ["mrc", "map", "ccp4", "mrcs", "gz"]
MODEL_TYPES = ["cif", "mmcif", "pdb", "ent", "gz"]
ENV_LOCAL_PATHS = "QSCORE_ALLOW_LOCAL_PATHS"
CONFIG_FILE = "qscore.toml"
_DIGESTS = "qs.digests"


@dataclass(frozen=True)
class Inputs:
    """What to score and how; ``error`` is a readable sentence when an input cannot be used."""

    map_source: Source | None
    model_source: Source | None
    is_example: bool
    label: str
    resolution: float | None
    sigma: float
    mode: str
    error: str | None = None


def local_paths_allowed(config_dir: Path | None = None) -> bool:
    """True when reading paths on the server's disk is enabled.

    Enabled by the environment variable ``QSCORE_ALLOW_LOCAL_PATHS=1`` or by
    ``[qscore] allow_local_paths = true`` in ``qscore.toml`` of the working directory. Off by
    default, so a public server never reads arbitrary paths for strangers.
    """
    env = os.environ.get(ENV_LOCAL_PATHS, "").strip().lower()
    if env:
        return env in {"1", "true", "yes", "on"}
    config = (config_dir or Path.cwd()) / CONFIG_FILE
    if not config.is_file():
        return False
    try:
        settings = tomllib.loads(config.read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return False
    return bool(settings.get("qscore", {}).get("allow_local_paths", False))


def _upload_source(upload) -> Source:
    """A source for an uploaded file, hashing each upload once per session."""
    digests: dict[str, str] = st.session_state.setdefault(_DIGESTS, {})
    data = upload.getvalue()
    digest = digests.get(upload.file_id)
    if digest is None:
        source = source_from_bytes(upload.name, data)
        digests[upload.file_id] = source.digest
        return source
    return Source(name=upload.name, digest=digest, data=data)


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


def _resolution_input(model_source: Source | None, suggested: float | None) -> float | None:
    """Resolution field, prefilled from the mmCIF (or the example) and kept per model."""
    key = f"qs.resolution.{model_source.digest[:16] if model_source else 'none'}"
    value = st.sidebar.number_input(
        "Reported map resolution (Å)",
        min_value=0.5,
        max_value=50.0,
        value=suggested,
        step=0.1,
        format="%.2f",
        key=key,
        placeholder="e.g. 3.2",
        help="The map's reported (FSC 0.143) resolution; prefilled when the mmCIF records one.",
    )
    if value is None:
        st.sidebar.warning("Enter the map's resolution to compare the Q-score with the archive.")
    return None if value is None else float(value)


def sidebar() -> Inputs:
    """Draw the sidebar and return the chosen inputs."""
    st.sidebar.markdown("### Map and model")
    map_upload = st.sidebar.file_uploader(
        "Density map", type=MAP_TYPES, key="qs.map_upload", help=".mrc .map .ccp4, or gzipped"
    )
    model_upload = st.sidebar.file_uploader(
        "Atomic model", type=MODEL_TYPES, key="qs.model_upload", help="PDB or mmCIF"
    )
    map_source = model_source = None
    error = None
    label = ""
    if local_paths_allowed():
        map_source, model_source, error = _path_sources()
        label = "files on disk"
    if uploads_set_aside(map_upload, model_upload):
        map_upload = model_upload = None
    if map_source is None and map_upload is not None and model_upload is not None:
        map_source, model_source = _upload_source(map_upload), _upload_source(model_upload)
        label = "uploaded files"
    is_example = map_source is None
    suggested: float | None = None
    scenario = sidebar_example()  # also draws the teaching furniture, whatever is shown
    example = (scenario or builtin()) if is_example else None
    if is_example:
        if (map_upload is None) != (model_upload is None):
            st.sidebar.info("Upload both a map and a model; until then the example is shown.")
        if example is not None:
            map_source = source_from_path(example.map_path)
            model_source = source_from_path(example.model_path)
            suggested = example.resolution
            label = example.title
    else:
        label = f"{map_source.name} + {model_source.name}"
    if model_source is not None and not is_example:
        try:
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
        key="qs.sigma",
        help="Width of the reference Gaussian. 0.4 is the EMDB's value. Expected Q-scores "
        "(Q_peak and the 95% band) exist for sigma 0.4 and 0.6 only; Q_relative for 0.4 only.",
    )
    st.sidebar.caption("Expected-Q bands exist for sigma 0.4 and 0.6 only.")
    mode = st.sidebar.selectbox(
        "Sampling mode",
        defaults.MODES,
        key="qs.mode",
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
    )
