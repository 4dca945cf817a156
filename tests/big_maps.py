"""Large maps for memory tests, generated on the fly (never committed).

:func:`padded_copy` writes a real map zero-padded to a requested size: the original voxels keep
their Cartesian positions, so a model scores exactly as in the original, while the file is as big
as an EMDB map. The file is written through a memory map (mostly holes on disk), so making a
700 MB map costs this process little memory.
"""

from __future__ import annotations

from pathlib import Path

import mrcfile
import numpy as np

from qscore.io.maps import read_map


def padded_copy(source: Path, target: Path, nbytes: int, *, marker: float = 0.0) -> Path:
    """Write ``source`` zero-padded to a cube of about ``nbytes`` bytes (float32) at ``target``.

    Parameters
    ----------
    source
        A map file.
    target
        Where to write the padded map.
    nbytes
        Wanted size of the voxel data in bytes.
    marker
        Value of the first voxel (far from the model): different markers give files with
        different contents and identical Q-scores.

    Returns
    -------
    Path
        ``target``.
    """
    dmap = read_map(source)
    nz, ny, nx = dmap.values.shape
    side = max(round((nbytes / 4) ** (1 / 3)), max(nx, ny, nz) + 2)
    offset = (side - np.array([nx, ny, nz])) // 2
    with mrcfile.new_mmap(target, shape=(side, side, side), mrc_mode=2, overwrite=True) as mrc:
        x0, y0, z0 = (int(v) for v in offset)
        mrc.data[z0 : z0 + nz, y0 : y0 + ny, x0 : x0 + nx] = dmap.values
        mrc.data[0, 0, 0] = marker
        mrc.voxel_size = tuple(float(v) for v in dmap.voxel_size)
        origin = dmap.origin - offset * dmap.voxel_size
        mrc.header.origin = (float(origin[0]), float(origin[1]), float(origin[2]))
        values = dmap.values
        mrc.header.dmin = min(float(values.min()), 0.0, marker)
        mrc.header.dmax = max(float(values.max()), 0.0, marker)
        mrc.header.dmean = float(values.sum(dtype=np.float64) / side**3)
    return target
