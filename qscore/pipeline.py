"""Read a map and a model and score them: the one path every face (CLI, dashboard, batch) uses."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from qscore import defaults
from qscore.engine import Progress, ScoreResult, score
from qscore.engine.packing import check_packing
from qscore.io.maps import DensityMap, read_map
from qscore.io.models import AtomModel, read_model

Source = str | os.PathLike | bytes | IO[bytes]


@dataclass(frozen=True, eq=False)
class Scored:
    """A map (cropped around the model), the model and their per-atom Q-scores."""

    dmap: DensityMap
    model: AtomModel
    result: ScoreResult


def load(
    map_source: Source,
    model_source: Source,
    *,
    map_name: str | None = None,
    model_name: str | None = None,
    check_model: Callable[[AtomModel], None] | None = None,
) -> tuple[DensityMap, AtomModel]:
    """The model, and the map cropped to the model's box plus a margin (memory-mapped read).

    A model whose atoms are packed far too densely (coordinates in nm, a pile-up) is refused
    before the map is read, so that this, not "outside the map", is what the user hears.
    ``check_model`` (e.g. "can this model be written as PDB?") runs on the model before the map
    is read, so that requests that cannot be met fail before any work.
    """
    model = read_model(model_source, name=model_name)
    check_packing(model.xyz[model.heavy], label=f"The model {model.source}".rstrip())
    if check_model is not None:
        check_model(model)
    dmap = read_map(map_source, crop_to=model.xyz, margin=defaults.CROP_MARGIN, name=map_name)
    return dmap, model


def load_and_score(
    map_source: Source,
    model_source: Source,
    *,
    sigma: float = defaults.SIGMA,
    mode: str = defaults.MODE,
    map_name: str | None = None,
    model_name: str | None = None,
    progress: Progress | None = None,
    threads: int | None = None,
    check_model: Callable[[AtomModel], None] | None = None,
) -> Scored:
    """Read both files and score every non-hydrogen atom of the model (see :func:`load`)."""
    dmap, model = load(
        map_source, model_source, map_name=map_name, model_name=model_name, check_model=check_model
    )
    result = score(dmap, model, sigma=sigma, mode=mode, progress=progress, threads=threads)
    return Scored(dmap=dmap, model=model, result=result)
