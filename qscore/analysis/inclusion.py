"""Atom inclusion: the share of a model's atoms that lie inside the map's contour surface.

An atom is inside the surface at level L when the map value at its centre (trilinear
interpolation, :func:`qscore.io.maps.sample`, the sampler the Q-scores use) is above L, strictly,
as the EMDB validation reports count it. Two populations are counted: every non-hydrogen atom,
and the backbone trace of the polymer residues (N, CA, C, O and OXT of amino acids; P, O5', C5',
C4', C3' and O3' of nucleotides, the atoms EMDB's reports call backbone). An atom outside the
map's box is never inside.

The curve runs over :data:`CURVE_LEVELS` evenly spaced levels from the lowest to the highest
map value around the model, with the chosen level added. The chosen level is the map's
recommended contour level when it is given (the level the authors deposit with the map, in map
units); otherwise it is :func:`default_level`: the level at which the map, in the box around the
model that was read, encloses the model's own volume, i.e. the mass of its atoms times
:data:`VOLUME_PER_DALTON` (the partial specific volume of protein, 0.73 cm³/g).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import gemmi
import numpy as np
import pandas as pd

from qscore.errors import ParameterError
from qscore.io.maps import DensityMap, sample
from qscore.io.models import AtomModel

#: Backbone trace of each polymer kind (EMDB's validation reports count the same atoms).
BACKBONE_ATOMS = {
    "protein": frozenset({"N", "CA", "C", "O", "OXT"}),
    "nucleic": frozenset({"P", "O5'", "C5'", "C4'", "C3'", "O3'"}),
}
#: Number of evenly spaced levels of the inclusion curve (the chosen level is added to them).
CURVE_LEVELS = 129
#: Volume per dalton of protein (Å³/Da): 0.73 cm³/g × 1.6605 Å³·g/(cm³·Da).
VOLUME_PER_DALTON = 1.21
#: How the chosen level was set.
SOURCES = {
    "given": "the recommended contour level given for the map",
    "default": "the level at which the map encloses the model's volume (no level was given)",
}


@dataclass(frozen=True, eq=False)
class Inclusion:
    """Atom inclusion at the chosen contour level, and as a curve over levels.

    ``curve`` has columns ``level``, ``all`` and ``backbone`` (fractions in [0, 1]; ``backbone``
    is NaN when the model has no backbone atoms); ``sigma_level`` is the chosen level in standard
    deviations above the mean of the map around the model.
    """

    level: float
    source: str
    sigma_level: float
    all: float
    backbone: float | None
    atoms: int
    backbone_atoms: int
    atoms_outside_box: int
    curve: pd.DataFrame
    model_volume: float
    notes: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        """The numbers as JSON-ready values (the curve as lists)."""
        return {
            "level": self.level,
            "level_source": self.source,
            "level_sigma": self.sigma_level,
            "all": self.all,
            "backbone": self.backbone,
            "atoms": self.atoms,
            "backbone_atoms": self.backbone_atoms,
            "atoms_outside_box": self.atoms_outside_box,
            "model_volume": self.model_volume,
            "curve": {
                "level": self.curve["level"].tolist(),
                "all": self.curve["all"].tolist(),
                "backbone": self.curve["backbone"].tolist(),
            },
            "notes": list(self.notes),
        }


def backbone_mask(model: AtomModel) -> np.ndarray:
    """Boolean mask of the non-hydrogen backbone atoms of protein and nucleic-acid residues."""
    kind = model.kind
    mask = np.zeros(model.n_atoms, dtype=bool)
    for polymer, names in BACKBONE_ATOMS.items():
        mask |= (kind == polymer) & np.isin(model.name, list(names))
    return mask & model.heavy


def atom_values(dmap: DensityMap, xyz: np.ndarray) -> np.ndarray:
    """Map value at each point (trilinear); −inf for points outside the map's box."""
    xyz = np.asarray(xyz, dtype=np.float64).reshape(-1, 3)
    values = sample(dmap, xyz).astype(np.float64)
    idx = dmap.index_of(xyz)
    inside = np.all((idx >= 0) & (idx <= np.array(dmap.shape_xyz) - 1), axis=1)
    return np.where(inside, values, -np.inf)


def fraction_above(values: np.ndarray, levels: np.ndarray | float) -> np.ndarray:
    """Share of ``values`` strictly above each level (NaN when there are no values)."""
    values = np.sort(np.asarray(values, dtype=np.float64))
    levels = np.asarray(levels, dtype=np.float64)
    if values.size == 0:
        return np.full(levels.shape, np.nan)
    below_or_at = np.searchsorted(values, levels, side="right")
    return (values.size - below_or_at) / values.size


def model_volume(model: AtomModel) -> float:
    """Volume (Å³) of the model's atoms: their mass in daltons times :data:`VOLUME_PER_DALTON`.

    Every atom in the file counts (hydrogens too when they are modelled), one occupancy each.
    """
    elements, counts = np.unique(model.element, return_counts=True)
    mass = sum(gemmi.Element(str(e)).weight * int(n) for e, n in zip(elements, counts, strict=True))
    return float(mass) * VOLUME_PER_DALTON


def voxel_volume(dmap: DensityMap) -> float:
    """Volume (Å³) of one voxel (the cell's skew included)."""
    return float(np.prod(dmap.voxel_size) * abs(np.linalg.det(dmap.axes)))


def default_level(dmap: DensityMap, model: AtomModel) -> float:
    """The level at which the map's voxels above it add up to the model's volume.

    Counted over ``dmap`` as given (for the report, the box around the model with a margin), so
    that the volume enclosed by the contour surface equals :func:`model_volume`. When the model is
    larger than the whole box, the lowest map value is returned.
    """
    values = np.asarray(dmap.values, dtype=np.float32).ravel()
    wanted = int(round(model_volume(model) / voxel_volume(dmap)))
    if wanted >= values.size:
        return float(values.min())
    if wanted <= 0:
        return float(values.max())
    k = values.size - wanted
    return float(np.partition(values, k - 1)[k - 1])


def curve_levels(dmap: DensityMap, chosen: float, n: int = CURVE_LEVELS) -> np.ndarray:
    """``n`` evenly spaced levels from the map's lowest to its highest value, plus ``chosen``."""
    lo, hi = float(dmap.values.min()), float(dmap.values.max())
    return np.unique(np.append(np.linspace(lo, hi, n), chosen))


def atom_inclusion(
    dmap: DensityMap, model: AtomModel, *, level: float | None = None, n_levels: int = CURVE_LEVELS
) -> Inclusion:
    """Atom inclusion of ``model`` in ``dmap`` at ``level`` (or the default level) and its curve.

    Parameters
    ----------
    dmap : DensityMap
        The map (the report passes the map as read around the model).
    model : AtomModel
        The model; hydrogens are left out.
    level : float, optional
        The map's recommended contour level in map units; :func:`default_level` when None.
    n_levels : int
        Number of evenly spaced levels of the curve.

    Returns
    -------
    Inclusion
        The fractions at the chosen level, the level in σ, the counts and the curve.

    Raises
    ------
    ParameterError
        When ``level`` is not a finite number or the model has no non-hydrogen atom.
    """
    heavy = model.heavy
    if not heavy.any():
        raise ParameterError("Atom inclusion needs at least one non-hydrogen atom in the model.")
    notes: list[str] = []
    if level is None:
        chosen, source = default_level(dmap, model), "default"
    else:
        try:
            chosen = float(level)
        except (TypeError, ValueError):
            raise ParameterError(f"The contour level must be a number; got {level!r}.") from None
        if not math.isfinite(chosen):
            raise ParameterError(f"The contour level must be a finite number; got {level}.")
        source = "given"
    values = atom_values(dmap, model.xyz)
    backbone = backbone_mask(model)
    all_values, bb_values = values[heavy], values[backbone]
    lo, hi = float(dmap.values.min()), float(dmap.values.max())
    if chosen >= hi:
        notes.append(
            f"The contour level {chosen:.4g} is at or above every map value around the model "
            f"(highest {hi:.4g}), so no atom is inside it."
        )
    elif chosen < lo:
        notes.append(
            f"The contour level {chosen:.4g} is below every map value around the model "
            f"(lowest {lo:.4g}), so every atom inside the map is inside it."
        )
    levels = curve_levels(dmap, chosen, n_levels)
    curve = pd.DataFrame(
        {
            "level": levels,
            "all": fraction_above(all_values, levels),
            "backbone": fraction_above(bb_values, levels),
        }
    )
    mean = float(dmap.values.mean(dtype=np.float64))
    sd = float(dmap.values.std(dtype=np.float64))
    outside = int(np.count_nonzero(np.isneginf(all_values)))
    if outside:
        notes.append(f"{outside} atoms lie outside the map's box and count as outside the contour.")
    return Inclusion(
        level=chosen,
        source=source,
        sigma_level=(chosen - mean) / sd if sd > 0 else float("nan"),
        all=float(fraction_above(all_values, chosen)),
        backbone=float(fraction_above(bb_values, chosen)) if bb_values.size else None,
        atoms=int(all_values.size),
        backbone_atoms=int(bb_values.size),
        atoms_outside_box=outside,
        curve=curve,
        model_volume=model_volume(model),
        notes=tuple(notes),
    )
