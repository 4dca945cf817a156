"""Model maps and their correlation with the experimental map (paper A1.4–A1.5, eq. 8–9).

Two kinds of model map are computed from an :class:`~qscore.io.models.AtomModel`:

* :func:`molmap` — Chimera's ``molmap`` as MapQ uses it: one Gaussian per atom with weight
  ``Z·(2π)^−1.5·σ^−3`` (so each atom integrates to its atomic number ``Z``),
  ``σ = d/(π·√2)``, cut off at 5σ, on a grid of step ``d/3`` (or on the experimental map's grid).
* :func:`electron_map` — the model's electron-scattering map with its atomic B-factors at
  resolution ``d`` (the paper used ``phenix.fmodel``/``phenix.mtz2map`` with the electron table):
  gemmi's electron form factors summed in real space on a periodic box aligned with the
  experimental map's grid, then a sharp resolution cut at ``d`` in Fourier space. The map is scaled
  so that each atom integrates to ``Z·occupancy``, like the molmap-style map, which makes the
  absolute threshold of 0.01 mean the same for both maps (see :func:`electron_map`).

CC and CC-mean (:func:`overlap_and_correlation`) follow Chimera's ``overlap_and_correlation``:
CC-mean is the Pearson correlation, ``<m − m̄, c − c̄> / (|m − m̄|·|c − c̄|)``. The paper's eq. 9
prints the denominator as ``|m|·|c|``; that would not be a correlation (it is not bounded by 1 and
changes when a constant is added to the map), and it is not what Chimera computes, so the
centred norms are used here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import gemmi
import numpy as np
import pandas as pd
import scipy.fft
from scipy.spatial import cKDTree

from qscore import defaults
from qscore.checks import check_resolution
from qscore.engine import compiled
from qscore.errors import NoOverlapError, ParameterError
from qscore.io.maps import DensityMap, crop_map, sample
from qscore.io.models import AtomModel

#: Molmap Gaussian width per Å of resolution: σ = d/(π·√2) ≈ 0.225·d (Chimera, MapQ).
SIGMA_PER_RESOLUTION = 1.0 / (math.pi * math.sqrt(2.0))
#: Molmap cut-off, in σ.
MOLMAP_CUTOFF = 5.0
#: Padding (in units of the resolution) around the model in model-map boxes (MapQ: 3·d).
PAD_PER_RESOLUTION = 3.0
#: Sampling rate of the electron map: grid step at most d/(2·rate) (gemmi's default rate).
ELECTRON_RATE = 1.5
#: ``8π²``: B = 8π²·u².
_U_TO_B = 8.0 * math.pi**2


def molmap_sigma(resolution: float) -> float:
    """Width (Å) of molmap's Gaussians at ``resolution``: d/(π·√2)."""
    return check_resolution(resolution) * SIGMA_PER_RESOLUTION


def _weighted_atoms(model: AtomModel, atoms: np.ndarray | None) -> np.ndarray:
    """Indices of the selected atoms that have a known element (Z > 0)."""
    index = np.arange(model.n_atoms) if atoms is None else np.asarray(atoms)
    if index.dtype == bool:
        index = np.flatnonzero(index)
    index = index[np.asarray(model.atomic_number)[index] > 0]
    if index.size == 0:
        raise ParameterError("The model holds no atoms with a known element to build a map from.")
    return index


def _lattice_box(
    dmap: DensityMap, xyz: np.ndarray, pad: float, fft_sizes: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """First voxel index (x, y, z) and size of the sub-box of ``dmap``'s lattice around ``xyz``."""
    lo = np.floor((xyz.min(axis=0) - pad - dmap.origin) / dmap.voxel_size).astype(np.int64)
    hi = np.ceil((xyz.max(axis=0) + pad - dmap.origin) / dmap.voxel_size).astype(np.int64)
    size = hi - lo + 1
    if fft_sizes:
        size = np.array([scipy.fft.next_fast_len(int(n), real=True) for n in size])
    return lo, size


def molmap(
    model: AtomModel,
    resolution: float,
    *,
    step: float | None = None,
    on_grid: DensityMap | None = None,
    atoms: np.ndarray | None = None,
    cutoff: float = MOLMAP_CUTOFF,
) -> DensityMap:
    """Molmap-style model map: one Gaussian per atom, height ∝ Z, σ = d/(π·√2), cut at 5σ.

    By default the grid has step ``d/3`` and spans the atoms plus ``3·d`` (Chimera's molmap, as
    the paper used it). With ``on_grid`` (the experimental map) the values are computed on that
    map's own voxel lattice, in the sub-box around the atoms. ``atoms`` (indices or a mask)
    limits the map to some atoms. Occupancy is ignored, as in Chimera.
    """
    d = check_resolution(resolution)
    sigma = d * SIGMA_PER_RESOLUTION
    index = _weighted_atoms(model, atoms)
    xyz = np.ascontiguousarray(model.xyz[index], dtype=np.float64)
    pad = PAD_PER_RESOLUTION * d
    if on_grid is not None:
        lo, size = _lattice_box(on_grid, xyz, pad)
        voxel = np.asarray(on_grid.voxel_size, dtype=np.float64)
        origin = on_grid.origin + lo * voxel
    else:
        h = d / 3.0 if step is None else float(step)
        if not math.isfinite(h) or h <= 0:
            raise ParameterError(
                f"The model-map grid step must be a positive number of Å; got {h:g}."
            )
        voxel = np.full(3, h)
        origin = xyz.min(axis=0) - pad
        size = np.ceil((xyz.max(axis=0) + pad - origin) / h).astype(np.int64) + 1
    norm = (2.0 * math.pi) ** -1.5 / sigma**3
    weight = np.asarray(model.atomic_number, dtype=np.float64)[index] * norm
    grid = np.zeros((int(size[2]), int(size[1]), int(size[0])), dtype=np.float32)
    compiled.splat(grid, origin, voxel, xyz, weight, sigma, cutoff * sigma)
    return DensityMap(grid, origin, voxel, source=f"molmap {d:g} Å")


def _electron_f0(element: str) -> float:
    """Electron scattering factor at s = 0 (Å) from gemmi's ITC 4.3.2.2 coefficients."""
    coefs = gemmi.Element(element).c4322.get_coefs()
    return float(sum(coefs[:5]))


class ElectronMapper:
    """Electron-scattering model maps of one model for many sets of B-factors (the f scan).

    The atoms are placed once in a periodic box aligned with ``on_grid``'s voxel lattice (padded
    by ``3·d``, sizes chosen for a fast FFT); each call sums gemmi's electron form factors for the
    given B-factors on that box (finer by an integer factor when the voxel is coarser than
    ``d/3``), applies the resolution cut at ``d`` (removing gemmi's blur at the same time) and
    returns the values on ``on_grid``'s own lattice points, so no interpolation is needed.
    """

    def __init__(
        self,
        model: AtomModel,
        resolution: float,
        on_grid: DensityMap,
        *,
        atoms: np.ndarray | None = None,
        rate: float = ELECTRON_RATE,
    ) -> None:
        d = check_resolution(resolution)
        self.resolution = d
        self.index = _weighted_atoms(model, atoms)
        xyz = model.xyz[self.index]
        voxel = np.asarray(on_grid.voxel_size, dtype=np.float64)
        lo, size = _lattice_box(on_grid, xyz, PAD_PER_RESOLUTION * d, fft_sizes=True)
        self.voxel = voxel
        self.box_index = lo
        self.box_size = size
        self.origin = on_grid.origin + lo * voxel
        self.refine = np.maximum(np.ceil(voxel / (d / (2.0 * rate)) - 1e-9), 1).astype(np.int64)
        self.fine = size * self.refine
        self.spacing = voxel / self.refine
        cell = size * voxel
        self.cell = gemmi.UnitCell(float(cell[0]), float(cell[1]), float(cell[2]), 90, 90, 90)
        elements = np.asarray(model.element)[self.index]
        occupancy = np.asarray(model.occupancy, dtype=np.float64)[self.index]
        z = np.asarray(model.atomic_number, dtype=np.float64)[self.index]
        f0 = {el: _electron_f0(str(el)) for el in np.unique(elements)}
        f0_atoms = np.array([f0[el] for el in elements])
        self.scale = float(np.sum(z * occupancy) / np.sum(f0_atoms * occupancy))
        self._model = self._build(xyz - self.origin, elements, occupancy)
        s2 = self._s2()
        self._s2_grid = s2
        self._keep = s2 <= 1.0 / d**2 * (1.0 + 1e-9)
        self.base_blur = _U_TO_B / 1.1 * float(np.max(self.spacing)) ** 2
        self._cached_blur = math.nan
        self._cached = self._keep

    @staticmethod
    def _build(xyz: np.ndarray, elements: np.ndarray, occupancy: np.ndarray) -> gemmi.Model:
        """All atoms in one residue of one chain (only positions, elements and B matter here)."""
        residue = gemmi.Residue()
        residue.name = "UNK"
        residue.seqid = gemmi.SeqId(1, " ")
        for (x, y, z), el, occ in zip(xyz, elements, occupancy, strict=True):
            atom = gemmi.Atom()
            atom.name = str(el)
            atom.element = gemmi.Element(str(el))
            atom.pos = gemmi.Position(float(x), float(y), float(z))
            atom.occ = float(occ)
            residue.add_atom(atom)
        chain = gemmi.Chain("A")
        chain.add_residue(residue)
        model = gemmi.Model(1)
        model.add_chain(chain)
        return model

    def _s2(self) -> np.ndarray:
        """|s|² (Å⁻²) of every coefficient of the real FFT of the fine box (x, y, z order)."""
        fx = np.fft.fftfreq(int(self.fine[0]), d=float(self.spacing[0]))
        fy = np.fft.fftfreq(int(self.fine[1]), d=float(self.spacing[1]))
        fz = np.fft.rfftfreq(int(self.fine[2]), d=float(self.spacing[2]))
        return fx[:, None, None] ** 2 + fy[None, :, None] ** 2 + fz[None, None, :] ** 2

    def _multiplier(self, blur: float) -> np.ndarray:
        """Resolution cut at d times the de-blurring factor exp(blur·s²/4) (kept for reuse)."""
        if self._cached_blur != blur:
            self._cached = np.where(self._keep, np.exp(0.25 * blur * self._s2_grid), 0.0)
            self._cached_blur = blur
        return self._cached

    def values(self, b_iso: np.ndarray) -> np.ndarray:
        """Map values [z, y, x] on the box for per-atom ``b_iso`` (aligned with the model)."""
        b = np.asarray(b_iso, dtype=np.float64)[self.index]
        if not np.all(np.isfinite(b)):
            raise ParameterError("Every atom needs a finite B-factor to build an electron map.")
        blur = self.base_blur + max(0.0, -float(b.min()))
        residue = self._model[0][0]
        for atom, value in zip(residue, b.tolist(), strict=True):
            atom.b_iso = value
        calc = gemmi.DensityCalculatorE()
        calc.d_min = 0.0
        calc.rate = ELECTRON_RATE
        calc.blur = blur
        calc.grid.set_unit_cell(self.cell)
        calc.grid.set_size(int(self.fine[0]), int(self.fine[1]), int(self.fine[2]))
        calc.add_model_density_to_grid(self._model)
        rho = np.array(calc.grid, copy=False)
        coef = scipy.fft.rfftn(rho, workers=-1)
        coef *= self._multiplier(blur)
        rho = scipy.fft.irfftn(coef, s=rho.shape, workers=-1)
        step = self.refine
        rho = rho[:: step[0], :: step[1], :: step[2]] * self.scale
        return np.ascontiguousarray(rho.transpose(2, 1, 0), dtype=np.float32)

    def __call__(self, b_iso: np.ndarray) -> DensityMap:
        """The electron model map for per-atom ``b_iso`` on the experimental map's lattice."""
        return DensityMap(
            self.values(b_iso),
            self.origin,
            self.voxel,
            source=f"electron model map {self.resolution:g} Å",
        )

    def experimental_values(self, dmap: DensityMap) -> np.ndarray:
        """``dmap``'s values [z, y, x] at the box's lattice points (0 outside ``dmap``)."""
        out = np.zeros(tuple(int(n) for n in self.box_size[::-1]), dtype=np.float32)
        start = self.box_index
        stop = start + self.box_size
        nxyz = np.array(dmap.shape_xyz)
        a = np.maximum(start, 0)
        b = np.minimum(stop, nxyz)
        if np.any(b <= a):
            return out
        src = dmap.values[a[2] : b[2], a[1] : b[1], a[0] : b[0]]
        o = a - start
        out[o[2] : o[2] + src.shape[0], o[1] : o[1] + src.shape[1], o[0] : o[0] + src.shape[2]] = (
            src
        )
        return out


def electron_map(
    model: AtomModel,
    resolution: float,
    on_grid: DensityMap,
    *,
    b_iso: np.ndarray | None = None,
    atoms: np.ndarray | None = None,
) -> DensityMap:
    """Electron-scattering model map of ``model`` at ``resolution`` on ``on_grid``'s lattice.

    ``b_iso`` defaults to the model's own B-factors. Values are scaled so that each atom
    integrates to ``Z·occupancy`` (the molmap-style normalisation): gemmi's electron form factors
    are in Å, on a scale of their own, and a threshold of 0.01 on them would select a different
    envelope than on a molmap; on the common scale it selects the points within about 2.5 Å of
    the atoms at 4 Å, as the molmap threshold does. The map keeps its mean (F000), so the solvent
    is near 0 and only the resolution cut's ripples reach below it.
    """
    mapper = ElectronMapper(model, resolution, on_grid, atoms=atoms)
    return mapper(model.b_iso if b_iso is None else b_iso)


def electron_map_box(
    model: AtomModel,
    resolution: float,
    *,
    voxel: float,
    b_iso: np.ndarray | None = None,
    pad: float | None = None,
) -> DensityMap:
    """Electron model map on a fresh cubic lattice of step ``voxel`` around the model (± ``pad``).

    For simulated maps and pictures, when there is no experimental map to align with.
    """
    d = check_resolution(resolution)
    step = float(voxel)
    if not math.isfinite(step) or step <= 0:
        raise ParameterError(f"The voxel size must be a positive number of Å; got {voxel!r}.")
    margin = PAD_PER_RESOLUTION * d if pad is None else float(pad)
    lo = model.xyz.min(axis=0) - margin
    size = np.ceil((model.xyz.max(axis=0) + margin - lo) / step).astype(np.int64) + 1
    template = DensityMap(np.zeros((1, 1, 1), np.float32), lo, np.full(3, step))
    mapper = ElectronMapper(model, d, template)
    values = mapper.values(model.b_iso if b_iso is None else b_iso)
    full = DensityMap(values, mapper.origin, mapper.voxel, source=f"electron model map {d:g} Å")
    return crop_map(full, lo, lo + (size - 1) * step)


@dataclass(frozen=True)
class Correlation:
    """Overlap ``<m, c>``, CC (eq. 8) and CC-mean (Pearson, Chimera's form of eq. 9) over n points."""

    overlap: float
    cc: float
    cc_mean: float
    n_points: int


def overlap_and_correlation(m: np.ndarray, c: np.ndarray) -> Correlation:
    """Overlap, CC and CC-mean of two equally long value vectors (model map ``m``, map ``c``).

    CC = <m, c>/(|m|·|c|); CC-mean = <m − m̄, c − c̄>/(|m − m̄|·|c − c̄|). NaN when a norm is 0.
    """
    m = np.asarray(m, dtype=np.float64).ravel()
    c = np.asarray(c, dtype=np.float64).ravel()
    if m.shape != c.shape:
        raise ParameterError("The model-map and map value vectors must have the same length.")
    n = int(m.size)
    if n == 0:
        return Correlation(0.0, math.nan, math.nan, 0)
    overlap = float(m @ c)
    norm = math.sqrt(float(m @ m) * float(c @ c))
    dm = m - m.mean()
    dc = c - c.mean()
    norm_mean = math.sqrt(float(dm @ dm) * float(dc @ dc))
    cc = overlap / norm if norm > 0 else math.nan
    cc_mean = float(dm @ dc) / norm_mean if norm_mean > 0 else math.nan
    return Correlation(overlap, cc, cc_mean, n)


def _grid_points(dmap: DensityMap, mask: np.ndarray) -> np.ndarray:
    """Cartesian positions (n, 3) of the voxels of ``dmap`` where ``mask`` [z, y, x] is true."""
    iz, iy, ix = np.nonzero(mask)
    idx = np.stack([ix, iy, iz], axis=1).astype(np.float64)
    return dmap.origin + idx * dmap.voxel_size


def fit_points(
    model_map: DensityMap, threshold: float = defaults.CC_THRESHOLD
) -> tuple[np.ndarray, np.ndarray]:
    """Positions (n, 3) and values of the model-map voxels with value ≥ ``threshold`` (MapQ)."""
    mask = model_map.values >= threshold
    return _grid_points(model_map, mask), model_map.values[mask]


def map_correlation(
    model_map: DensityMap, dmap: DensityMap, *, threshold: float = defaults.CC_THRESHOLD
) -> Correlation:
    """CC and CC-mean between a model map and the experimental map (trilinear at its points).

    Raises :class:`NoOverlapError` when no model-map point above ``threshold`` lies in the map.
    """
    points, m = fit_points(model_map, threshold)
    c = sample(dmap, points)
    _check_overlap(points, dmap)
    return overlap_and_correlation(m, c)


def _check_overlap(points: np.ndarray, dmap: DensityMap) -> None:
    """Raise :class:`NoOverlapError` when none of ``points`` falls inside the map's box."""
    if points.size:
        idx = dmap.index_of(points)
        inside = np.all((idx >= 0) & (idx <= np.array(dmap.shape_xyz) - 1), axis=1)
        if inside.any():
            return
    lo, hi = dmap.extent
    raise NoOverlapError(
        "The model map does not overlap the experimental map: the map spans "
        f"{_fmt(lo)} to {_fmt(hi)} Å and the model-map points above the threshold lie elsewhere. "
        "Check that the map and the model belong together and share one coordinate frame."
    )


def _fmt(v: np.ndarray) -> str:
    return "(" + ", ".join(f"{x:.1f}" for x in v) + ")"


def check_overlap(dmap: DensityMap, model: AtomModel) -> None:
    """Raise :class:`NoOverlapError` when no atom of ``model`` lies inside ``dmap``'s box."""
    idx = dmap.index_of(model.xyz)
    inside = np.all((idx >= 0) & (idx <= np.array(dmap.shape_xyz) - 1), axis=1)
    if inside.any():
        return
    lo, hi = dmap.extent
    mlo, mhi = model.xyz.min(axis=0), model.xyz.max(axis=0)
    raise NoOverlapError(
        f"The model lies entirely outside the map: the map spans {_fmt(lo)} to {_fmt(hi)} Å but "
        f"the model spans {_fmt(mlo)} to {_fmt(mhi)} Å. Check that the map and the model belong "
        "together and share one coordinate frame."
    )


def _grouped(
    keys: np.ndarray, m: np.ndarray, c: np.ndarray, n_groups: int
) -> dict[str, np.ndarray]:
    """CC and CC-mean per group from per-point sums (float64)."""
    m = m.astype(np.float64)
    c = c.astype(np.float64)
    n = np.bincount(keys, minlength=n_groups).astype(np.float64)
    sm = np.bincount(keys, m, n_groups)
    sc = np.bincount(keys, c, n_groups)
    smm = np.bincount(keys, m * m, n_groups)
    scc = np.bincount(keys, c * c, n_groups)
    smc = np.bincount(keys, m * c, n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        cc = smc / np.sqrt(smm * scc)
        vm = smm - sm * sm / n
        vc = scc - sc * sc / n
        cc_mean = (smc - sm * sc / n) / np.sqrt(vm * vc)
        cc_mean[(vm <= 1e-12 * smm) | (vc <= 1e-12 * scc)] = np.nan
    return {"n_points": n.astype(np.int64), "cc": cc, "cc_mean": cc_mean}


def group_correlation(
    model_map: DensityMap,
    dmap: DensityMap,
    model: AtomModel,
    *,
    by: str = "residue",
    threshold: float = defaults.CC_THRESHOLD,
) -> pd.DataFrame:
    """CC and CC-mean per residue or per chain over the points nearest each group's atoms.

    The model-map points above ``threshold`` are split among the residues (or chains) by their
    nearest atom, so the groups partition the whole-model point set and each uses the
    whole-model map values (neighbours' density included, as in the map itself). Groups without
    points get NaN. One row per residue (``chain, resseq, icode, resname``) or per chain.
    """
    if by not in ("residue", "chain"):
        raise ParameterError(f"Correlations are grouped by 'residue' or 'chain'; got {by!r}.")
    points, m = fit_points(model_map, threshold)
    c = sample(dmap, points)
    index = _weighted_atoms(model, None)
    _, nearest = cKDTree(model.xyz[index]).query(points, workers=-1)
    residue_of_point = np.asarray(model.residue_index)[index][nearest]
    residues = model.residues
    if by == "residue":
        stats = _grouped(residue_of_point, m, c, len(residues))
        frame = residues[["chain", "resseq", "icode", "resname"]].reset_index(drop=True).copy()
    else:
        chains, chain_of_residue = np.unique(residues["chain"].to_numpy(), return_inverse=True)
        stats = _grouped(chain_of_residue[residue_of_point], m, c, len(chains))
        frame = pd.DataFrame({"chain": chains})
    for key, value in stats.items():
        frame[key] = value
    return frame


def residue_box(
    model: AtomModel, residue: int, margin: float = 4.0
) -> tuple[np.ndarray, np.ndarray]:
    """Cartesian corners (Å) of the box around one residue's atoms plus ``margin``."""
    xyz = model.xyz[np.asarray(model.residue_index) == int(residue)]
    if xyz.size == 0:
        raise ParameterError(f"Residue row {residue} has no atoms in the model.")
    return xyz.min(axis=0) - margin, xyz.max(axis=0) + margin


@dataclass(frozen=True, eq=False)
class ResidueSlices:
    """2D slices of several maps through one residue, in the plane of its two main axes.

    ``u``/``v`` are in-plane coordinates (Å) of the slice grid; ``values[name]`` is a (len(v),
    len(u)) array per map; ``atoms`` holds the residue's atoms projected on the plane (``name``,
    ``element``, ``u``, ``v``, ``depth``); ``centre`` and ``axes`` (rows: u, v, normal) place
    the plane in space.
    """

    u: np.ndarray
    v: np.ndarray
    values: dict[str, np.ndarray]
    atoms: pd.DataFrame
    centre: np.ndarray
    axes: np.ndarray


def residue_slices(
    maps: dict[str, DensityMap],
    model: AtomModel,
    residue: int,
    *,
    margin: float = 3.0,
    step: float = 0.25,
) -> ResidueSlices:
    """Sample every map (trilinear) on the plane through a residue's centre and main axes.

    The plane holds the residue's two largest principal axes, so a side chain lies in it; it
    extends ``margin`` Å beyond the atoms' projection.
    """
    mask = np.asarray(model.residue_index) == int(residue)
    if not mask.any():
        raise ParameterError(f"Residue row {residue} has no atoms in the model.")
    xyz = model.xyz[mask]
    centre = xyz.mean(axis=0)
    if len(xyz) >= 3:
        _, _, vt = np.linalg.svd(xyz - centre)
        axes = vt
    else:
        axes = np.eye(3)
    axes = axes * np.where(np.linalg.det(axes) < 0, -1.0, 1.0)
    local = (xyz - centre) @ axes.T
    lo = local[:, :2].min(axis=0) - margin
    hi = local[:, :2].max(axis=0) + margin
    u = np.arange(lo[0], hi[0] + step / 2, step)
    v = np.arange(lo[1], hi[1] + step / 2, step)
    uu, vv = np.meshgrid(u, v)
    points = centre + uu.reshape(-1, 1) * axes[0] + vv.reshape(-1, 1) * axes[1]
    values = {name: sample(m, points).reshape(uu.shape) for name, m in maps.items()}
    atoms = pd.DataFrame(
        {
            "name": np.asarray(model.name)[mask],
            "element": np.asarray(model.element)[mask],
            "u": local[:, 0],
            "v": local[:, 1],
            "depth": local[:, 2],
        }
    )
    return ResidueSlices(u=u, v=v, values=values, atoms=atoms, centre=centre, axes=axes)
