"""Read a map and a model and score them: the one path every face (CLI, dashboard, batch) uses."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from qscore import defaults
from qscore.engine import ScoreResult, score
from qscore.engine.packing import check_packing
from qscore.errors import NoOverlapError, ParameterError
from qscore.io.maps import DensityMap, read_map
from qscore.io.models import AtomModel, read_model
from qscore.progress import Progress

if TYPE_CHECKING:
    from qscore.analysis.local_resolution import LocalResolution

Source = str | os.PathLike | bytes | IO[bytes]
#: A model file: a path or its bytes.
ModelSource = str | os.PathLike | bytes


@dataclass(frozen=True, eq=False)
class Scored:
    """A map (cropped around the model), the model and their per-atom Q-scores."""

    dmap: DensityMap
    model: AtomModel
    result: ScoreResult


def load(
    map_source: Source,
    model_source: ModelSource,
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
    model_source: ModelSource,
    *,
    sigma: float = defaults.SIGMA,
    mode: str = defaults.MODE,
    map_name: str | None = None,
    model_name: str | None = None,
    progress: Progress | None = None,
    threads: int | None = None,
    check_model: Callable[[AtomModel], None] | None = None,
) -> Scored:
    """Read a map and a model and score every non-hydrogen atom of the model.

    The map is read around the model only (see :func:`load`); hydrogens take the Q of the atom
    they are bonded to.

    Parameters
    ----------
    map_source : str, os.PathLike, bytes or binary file object
        An MRC/CCP4 map, plain or gzip-compressed.
    model_source : str, os.PathLike or bytes
        A PDB or mmCIF model, plain or gzip-compressed.
    sigma : float, optional
        Width (Å) of the reference Gaussian: 0.4 as the EMDB, 0.6 as MapQ in Chimera.
    mode : {"direct", "mapq-multiprocess"}, optional
        MapQ's single-process sampling, or its multi-process path (as the EMDB runs it).
    map_name, model_name : str, optional
        Names used in messages when the sources are bytes.
    progress : callable, optional
        ``progress(done, total, stage)`` as scoring advances.
    threads : int, optional
        Threads of the compiled kernel; never changes the result.
    check_model : callable, optional
        Called with the model before the map is read (to refuse early what cannot be done).

    Returns
    -------
    Scored
        The cropped map, the model and the :class:`~qscore.engine.ScoreResult`.

    Raises
    ------
    MapFormatError, ModelFormatError
        A file is not a readable map or model.
    NoOverlapError
        The model lies outside the map.
    ParameterError
        Sigma or the mode is not valid.

    Examples
    --------
    A ten-residue helix, its map simulated at 3 Å with noise, both written to files:

    >>> import pathlib, tempfile
    >>> from qscore.io.maps import write_map
    >>> from qscore.synthetic.builder.protein import build_protein, structure_to_mmcif
    >>> from qscore.synthetic.simulate import simulate_map
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> helix = build_protein("GSAKELLEKA", "H" * 10)
    >>> structure_to_mmcif(helix, str(folder / "model.cif"))
    >>> write_map(folder / "map.mrc", simulate_map(helix, 3.0, noise=0.3))
    >>> done = load_and_score(folder / "map.mrc", folder / "model.cif", sigma=0.4)
    >>> int(done.result.scored.sum()), round(done.result.model_q, 3)
    (73, 0.635)
    """
    dmap, model = load(
        map_source, model_source, map_name=map_name, model_name=model_name, check_model=check_model
    )
    result = score(dmap, model, sigma=sigma, mode=mode, progress=progress, threads=threads)
    return Scored(dmap=dmap, model=model, result=result)


def load_local_resolution(
    model: AtomModel,
    *,
    local_map: Source | None = None,
    half_maps: tuple[Source, Source] | None = None,
    names: tuple[str | None, ...] = (),
    window: float | None = None,
    step: float | None = None,
    threshold: float | None = None,
    progress: Progress | None = None,
) -> LocalResolution:
    """Per-atom local resolution of ``model`` from a local-resolution map or two half maps.

    Exactly one of ``local_map`` and ``half_maps`` is given; ``names`` labels the files in
    messages. Half maps are read around the model and their local FSC is computed at the
    centres needed for the model's atoms (window, step and threshold default to those of
    :mod:`qscore.analysis.local_fsc`).
    """
    from qscore.analysis import local_fsc
    from qscore.analysis.local_resolution import sample_local_resolution

    if (local_map is None) == (half_maps is None):
        raise ParameterError("Give either a local-resolution map or two half maps, not both.")
    label = list(names) + [None, None]
    if local_map is not None:
        try:
            locres = read_map(
                local_map, crop_to=model.xyz, margin=defaults.CROP_MARGIN, name=label[0]
            )
        except NoOverlapError as exc:
            raise NoOverlapError(
                f"The local-resolution map does not cover the model. {exc}"
            ) from None
        return sample_local_resolution(locres, model)
    window = local_fsc.DEFAULT_WINDOW if window is None else window
    step = local_fsc.DEFAULT_STEP if step is None else step
    margin = defaults.CROP_MARGIN + window / 2 + step
    assert half_maps is not None
    halves = [
        read_map(source, crop_to=model.xyz, margin=margin, name=name)
        for source, name in zip(half_maps, label[:2], strict=True)
    ]
    estimate = local_fsc.local_resolution_from_half_maps(
        *halves,
        window=window,
        step=step,
        threshold=local_fsc.DEFAULT_THRESHOLD if threshold is None else threshold,
        points=model.xyz[model.heavy],
        progress=progress,
    )
    return sample_local_resolution(estimate, model)
