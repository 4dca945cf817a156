"""Simulated cryo-EM maps of atomic models.

The model's electron-scattering density (gemmi's ``DensityCalculatorE``, International Tables
C 4.3.2.2 form factors, per-atom B-factors) is put on an orthogonal box around the model, white
Gaussian noise is added, and both are low-pass filtered at the resolution d in Fourier space
(a raised-cosine edge around 1/d), optionally with a global B term (negative = sharpening).
Filtering signal and noise together makes the noise band-limited like a real map's.

Everything is deterministic for a given ``seed``.
"""

from __future__ import annotations

from collections.abc import Sequence

import gemmi
import numpy as np
import scipy.fft as sfft

from qscore.analysis.noise import ENVELOPE, lowpass_filter
from qscore.checks import check_resolution
from qscore.errors import ParameterError
from qscore.io.maps import DensityMap

__all__ = ["box_for", "envelope_mask", "model_density", "simulate_map"]


def _structure(model: gemmi.Structure | str) -> gemmi.Structure:
    if isinstance(model, gemmi.Structure):
        return model.clone()
    return gemmi.read_structure(str(model))


def box_for(
    xyz: np.ndarray, voxel: float, padding: float
) -> tuple[np.ndarray, tuple[int, int, int]]:
    """Origin (x, y, z) and grid size (nx, ny, nz) of a box holding ``xyz`` plus ``padding``.

    The origin is a multiple of the voxel size, as in most EMDB maps, and each size is
    FFT-friendly.
    """
    lo = np.floor((xyz.min(axis=0) - padding) / voxel) * voxel
    hi = xyz.max(axis=0) + padding
    n = np.ceil((hi - lo) / voxel).astype(int) + 1
    nx, ny, nz = (int(sfft.next_fast_len(int(k), real=True)) for k in n)
    return lo, (nx, ny, nz)


def model_density(
    st: gemmi.Structure, origin: np.ndarray, shape_xyz: Sequence[int], voxel: float
) -> np.ndarray:
    """Electron-scattering density of ``st`` (its per-atom B) on the box, indexed [z, y, x]."""
    moved = st.clone()
    moved.remove_hydrogens()
    shift = gemmi.Transform(gemmi.Mat33(), gemmi.Vec3(*(-np.asarray(origin, dtype=float))))
    moved[0].transform_pos_and_adp(shift)
    size = np.asarray(shape_xyz, dtype=float) * voxel
    moved.cell = gemmi.UnitCell(size[0], size[1], size[2], 90.0, 90.0, 90.0)
    moved.spacegroup_hm = "P 1"
    calc = gemmi.DensityCalculatorE()
    calc.d_min = 0.0
    calc.set_grid_cell_and_spacegroup(moved)
    calc.grid.set_size(*(int(k) for k in shape_xyz))
    calc.put_model_density_on_grid(moved[0])
    return np.ascontiguousarray(np.array(calc.grid, copy=False).transpose(2, 1, 0))


def simulate_map(
    structure_or_model: gemmi.Structure | str,
    resolution: float,
    *,
    voxel: float | None = None,
    b_factors: np.ndarray | None = None,
    noise: float = 0.0,
    sharpen_b: float = 0.0,
    seed: int = 0,
    padding: float = 6.0,
    source: str = "simulated",
) -> DensityMap:
    """Simulate a map of a model at ``resolution`` (Å).

    ``b_factors`` (one per heavy atom, file order) replaces the model's B-factors; ``noise`` is
    the RMS of the (equally filtered) noise relative to the RMS of the signal within 2 Å of the
    atoms; ``sharpen_b`` (Å²) multiplies amplitudes by exp(-B s²/4), so a negative value
    sharpens. ``voxel`` defaults to min(1, d/3) Å.
    """
    check_resolution(resolution)
    if noise < 0:
        raise ParameterError(f"The noise level cannot be negative (got {noise}).")
    st = _structure(structure_or_model)
    st.remove_hydrogens()
    atoms = [a for ch in st[0] for r in ch for a in r]
    if not atoms:
        raise ParameterError("The model has no heavy atoms to simulate a map from.")
    if b_factors is not None:
        b = np.asarray(b_factors, dtype=float)
        if b.shape != (len(atoms),):
            raise ParameterError(
                f"Expected {len(atoms)} B-factors (one per heavy atom), got {b.size}."
            )
        for atom, value in zip(atoms, b, strict=True):
            atom.b_iso = float(value)
    step = float(voxel) if voxel else min(1.0, resolution / 3.0)
    xyz = np.array([a.pos.tolist() for a in atoms])
    origin, shape_xyz = box_for(xyz, step, padding)
    signal = model_density(st, origin, shape_xyz, step)
    multiplier = lowpass_filter(signal.shape, step, resolution, sharpen_b)
    filtered = sfft.irfftn(sfft.rfftn(signal) * multiplier, s=signal.shape)
    values = filtered
    if noise > 0:
        rng = np.random.default_rng(seed)
        white = rng.standard_normal(signal.shape)
        band = sfft.irfftn(sfft.rfftn(white) * multiplier, s=signal.shape)
        envelope = envelope_mask(xyz, origin, signal.shape, step)
        rms_signal = float(np.sqrt(np.mean(filtered[envelope] ** 2)))
        rms_noise = float(np.sqrt(np.mean(band**2)))
        values = filtered + band * (noise * rms_signal / rms_noise)
    notes = (
        f"Simulated from the model at {resolution:g} Å (voxel {step:g} Å), noise {noise:g}, "
        f"sharpening B {sharpen_b:g} Å², seed {seed}.",
    )
    return DensityMap(
        values=np.ascontiguousarray(values, dtype=np.float32),
        origin=origin,
        voxel_size=np.array([step, step, step]),
        source=source,
        notes=notes,
    )


def envelope_mask(
    xyz: np.ndarray, origin: np.ndarray, shape_zyx, step: float, distance: float = ENVELOPE
) -> np.ndarray:
    """Boolean [z, y, x] mask of voxels within ``distance`` Å (default ENVELOPE) of an atom."""
    reach = int(np.ceil(distance / step))
    r = np.arange(-reach, reach + 1)
    offsets = np.stack(np.meshgrid(r, r, r, indexing="ij"), axis=-1).reshape(-1, 3)
    offsets = offsets[np.linalg.norm(offsets * step, axis=1) <= distance]
    centre = np.rint((xyz - origin) / step).astype(int)
    idx = (centre[:, None, :] + offsets[None, :, :]).reshape(-1, 3)
    upper = np.array(shape_zyx[::-1])
    idx = idx[np.all((idx >= 0) & (idx < upper), axis=1)]
    mask = np.zeros(shape_zyx, dtype=bool)
    mask[idx[:, 2], idx[:, 1], idx[:, 0]] = True
    return mask
