"""The noise of a density map: its level, measured in the solvent, and band-limited noise like it.

A cryo-EM map is signal plus noise, both limited in resolution. Away from the molecule only the
noise remains, so its level is measured there: on the voxels farther than
:func:`solvent_distance` from every atom, as the distance from the median to the 15.87th
percentile (one standard deviation for Gaussian noise, and barely moved by the few blobs of
unmodelled density a solvent region holds). A masked or zoned map has no such region (most of
its solvent is one exact value, or its spread is negligible next to the molecule's density);
its noise is then taken to be typical of EMDB maps: :data:`TYPICAL_NOISE` times the signal's RMS
within :data:`ENVELOPE` Å of the atoms, the level at which this project's simulated maps score
like archive entries of their resolution (:mod:`qscore.synthetic.calibration`).

Noise "like the map's" is white Gaussian noise passed through the same low-pass filter as a map
at that resolution (a raised-cosine edge around 1/d), so that it is correlated over the same
distances as the map's own noise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.fft as sfft
from scipy.spatial import cKDTree

from qscore.checks import check_resolution
from qscore.errors import ParameterError
from qscore.io.maps import DensityMap

__all__ = [
    "ENVELOPE",
    "TYPICAL_NOISE",
    "NoiseLevel",
    "band_limited_noise",
    "lowpass_filter",
    "noise_level",
    "signal_rms",
    "solvent_distance",
]

#: Half-width of the raised-cosine edge of the low-pass filter, as a fraction of 1/d.
EDGE = 0.08
#: Distance (Å) from an atom within which voxels count as "molecule" for the signal level.
ENVELOPE = 2.0
#: Noise RMS / signal RMS (within ENVELOPE Å of the atoms) of a typical EMDB map.
TYPICAL_NOISE = 0.3
#: Solvent voxels lie at least this far (Å) from every atom, and at least 1.5 d.
SOLVENT_MIN_DISTANCE = 5.0
SOLVENT_PER_RESOLUTION = 1.5
#: Fewer solvent voxels than this, and the solvent is not used.
MIN_SOLVENT_VOXELS = 2000
#: A solvent holding one exact value in more than this fraction of its voxels is masked.
MASKED_FRACTION = 0.5
#: A solvent spread below this fraction of the molecule's RMS means a (soft) mask.
MIN_SOLVENT_SPREAD = 0.02
#: At most this many voxels are examined (a regular subset of a larger map).
MAX_VOXELS = 2_000_000
#: One standard deviation of a Gaussian, as a percentile below the median.
_ONE_SIGMA_PERCENTILE = 100.0 * 0.5 * math.erfc(1.0 / math.sqrt(2.0))


def lowpass_filter(
    shape_zyx: Sequence[int],
    voxel: float | Sequence[float] | np.ndarray,
    resolution: float,
    sharpen_b: float = 0.0,
) -> np.ndarray:
    """Fourier multiplier (``rfftn`` layout) of a map at ``resolution``: a raised-cosine cut
    around 1/d, times exp(−B s²/4) for a global B (negative sharpens).

    ``voxel`` is one spacing (Å) or three (x, y, z).
    """
    d = check_resolution(resolution)
    vx, vy, vz = np.broadcast_to(np.asarray(voxel, dtype=float), (3,))
    fz = sfft.fftfreq(int(shape_zyx[0]), d=vz)
    fy = sfft.fftfreq(int(shape_zyx[1]), d=vy)
    fx = sfft.rfftfreq(int(shape_zyx[2]), d=vx)
    s2 = fz[:, None, None] ** 2 + fy[None, :, None] ** 2 + fx[None, None, :] ** 2
    s = np.sqrt(s2)
    cut = 1.0 / d
    lo, hi = cut * (1.0 - EDGE), cut * (1.0 + EDGE)
    edge = 0.5 * (1.0 + np.cos(np.pi * np.clip((s - lo) / (hi - lo), 0.0, 1.0)))
    return edge * np.exp(-0.25 * sharpen_b * s2)


def band_limited_noise(
    shape_zyx: Sequence[int],
    voxel: float | Sequence[float] | np.ndarray,
    resolution: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Gaussian noise on a ``[z, y, x]`` grid, low-passed like a map at ``resolution``, RMS 1.

    The noise is made (in single precision) on a grid of FFT-friendly sizes and cut to
    ``shape_zyx``; being stationary, it does not depend on where it is cut.
    """
    shape = tuple(int(k) for k in shape_zyx)
    padded = tuple(int(sfft.next_fast_len(k, real=True)) for k in shape)
    white = rng.standard_normal(padded, dtype=np.float32)
    spectrum = sfft.rfftn(white) * lowpass_filter(padded, voxel, resolution).astype(np.float32)
    band = sfft.irfftn(spectrum, s=padded)[: shape[0], : shape[1], : shape[2]]
    rms = float(np.sqrt(np.mean(band.astype(np.float64) ** 2)))
    return band / rms if rms > 0 else band


def solvent_distance(resolution: float) -> float:
    """Distance (Å) from the atoms beyond which a map at ``resolution`` holds only noise."""
    return max(SOLVENT_MIN_DISTANCE, SOLVENT_PER_RESOLUTION * check_resolution(resolution))


@dataclass(frozen=True)
class NoiseLevel:
    """A map's noise RMS (map units), where it was measured and in how many voxels.

    ``source`` is ``"solvent"`` (measured) or ``"assumed"`` (typical of EMDB maps, for maps
    without a usable solvent region); ``sentence`` says so in words.
    """

    sigma: float
    source: str
    voxels: int
    sentence: str


def _voxel_sample(dmap: DensityMap) -> tuple[np.ndarray, np.ndarray]:
    """Cartesian positions (n, 3) and values of a regular subset of at most MAX_VOXELS voxels."""
    shape = np.array(dmap.values.shape)
    stride = max(1, math.ceil((shape.prod() / MAX_VOXELS) ** (1.0 / 3.0)))
    iz, iy, ix = (np.arange(0, n, stride) for n in shape)
    values = dmap.values[np.ix_(iz, iy, ix)].astype(np.float64).ravel()
    gz, gy, gx = np.meshgrid(iz, iy, ix, indexing="ij")
    steps = np.stack([gx.ravel(), gy.ravel(), gz.ravel()], axis=1) * dmap.voxel_size
    return dmap.origin + steps @ dmap.axes.T, values


def _voxels_and_distances(
    dmap: DensityMap, xyz: np.ndarray, reach: float
) -> tuple[np.ndarray, np.ndarray]:
    """Values of a regular voxel subset and their distance to the nearest atom (inf beyond
    ``reach``)."""
    points, values = _voxel_sample(dmap)
    tree = cKDTree(np.asarray(xyz, dtype=np.float64).reshape(-1, 3))
    distance, _ = tree.query(points, distance_upper_bound=reach)
    return values, distance


def signal_rms(dmap: DensityMap, xyz: np.ndarray, baseline: float = 0.0) -> float:
    """RMS of the map (about ``baseline``) on the voxels within :data:`ENVELOPE` Å of ``xyz``."""
    values, distance = _voxels_and_distances(dmap, xyz, ENVELOPE)
    inside = values[distance <= ENVELOPE] - baseline
    return float(np.sqrt(np.mean(inside**2))) if inside.size else 0.0


def noise_level(dmap: DensityMap, xyz: np.ndarray, resolution: float) -> NoiseLevel:
    """The noise RMS of ``dmap`` around the atoms at ``xyz``, measured in the solvent when the
    map has one, else assumed typical of EMDB maps (see the module notes).

    Parameters
    ----------
    dmap : DensityMap
        The map.
    xyz : numpy.ndarray
        (n, 3) coordinates (Å) of every atom of the models in it.
    resolution : float
        The map's resolution (Å); sets how far from the atoms the solvent starts.

    Returns
    -------
    NoiseLevel
        The level (map units), whether it was measured or assumed, and a sentence saying so.

    Raises
    ------
    ParameterError
        When the resolution is not positive, or the map has no density around the model.
    """
    reach = solvent_distance(resolution)
    values, distance = _voxels_and_distances(dmap, xyz, reach)
    solvent = values[~np.isfinite(distance)]
    baseline = float(np.median(solvent)) if solvent.size else 0.0
    inside = values[distance <= ENVELOPE] - baseline
    molecule_rms = float(np.sqrt(np.mean(inside**2))) if inside.size else 0.0
    if solvent.size >= MIN_SOLVENT_VOXELS:
        _, counts = np.unique(solvent, return_counts=True)
        spread = baseline - float(np.percentile(solvent, _ONE_SIGMA_PERCENTILE))
        if counts.max() <= MASKED_FRACTION * solvent.size and spread > max(
            MIN_SOLVENT_SPREAD * molecule_rms, 0.0
        ):
            return NoiseLevel(
                sigma=spread,
                source="solvent",
                voxels=int(solvent.size),
                sentence=(
                    f"noise {spread:.4g} measured in the solvent ({solvent.size:,} voxels "
                    f"farther than {reach:.1f} Å from every atom)"
                ),
            )
        why = "the map is masked around the model"
    else:
        why = f"the map holds too little solvent (farther than {reach:.1f} Å from the atoms)"
    if molecule_rms <= 0:
        raise ParameterError(
            "The map has no density around the model, so its noise cannot be judged; check that "
            "the map and the model belong together."
        )
    sigma = TYPICAL_NOISE * molecule_rms / math.sqrt(1.0 + TYPICAL_NOISE**2)
    return NoiseLevel(
        sigma=sigma,
        source="assumed",
        voxels=int(solvent.size),
        sentence=(
            f"noise {sigma:.4g} assumed typical of EMDB maps ({TYPICAL_NOISE:g} of the signal "
            f"near the atoms) because {why}"
        ),
    )
