"""Small geometry kernels for the model builder: NeRF placement, torsions, superposition.

NeRF (natural extension reference frame) places an atom from three already placed atoms and an
internal coordinate (bond length, bond angle, torsion); it is how ideal geometry becomes
Cartesian coordinates without any template files.
"""

from __future__ import annotations

import math

import numpy as np


def place(a, b, c, bond: float, angle: float, torsion: float) -> tuple[float, float, float]:
    """Return the position d bonded to c with |cd| = bond, angle(b, c, d) and torsion(a, b, c, d).

    Angles are in degrees. Written on plain floats: it is called hundreds of thousands of times
    while loops are searched, where NumPy's per-call overhead would dominate.
    """
    th = math.radians(angle)
    ph = math.radians(torsion)
    bcx, bcy, bcz = c[0] - b[0], c[1] - b[1], c[2] - b[2]
    norm = math.sqrt(bcx * bcx + bcy * bcy + bcz * bcz)
    bcx, bcy, bcz = bcx / norm, bcy / norm, bcz / norm
    abx, aby, abz = b[0] - a[0], b[1] - a[1], b[2] - a[2]
    nx, ny, nz = aby * bcz - abz * bcy, abz * bcx - abx * bcz, abx * bcy - aby * bcx
    norm = math.sqrt(nx * nx + ny * ny + nz * nz)
    nx, ny, nz = nx / norm, ny / norm, nz / norm
    mx, my, mz = ny * bcz - nz * bcy, nz * bcx - nx * bcz, nx * bcy - ny * bcx
    d0 = -bond * math.cos(th)
    d1 = bond * math.sin(th) * math.cos(ph)
    d2 = bond * math.sin(th) * math.sin(ph)
    return (
        c[0] + d0 * bcx + d1 * mx + d2 * nx,
        c[1] + d0 * bcy + d1 * my + d2 * ny,
        c[2] + d0 * bcz + d1 * mz + d2 * nz,
    )


def torsion(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray) -> float:
    """Dihedral angle a-b-c-d in degrees, in (-180, 180]."""
    b0 = a - b
    b1 = c - b
    b1 = b1 / np.linalg.norm(b1)
    b2 = d - c
    v = b0 - np.dot(b0, b1) * b1
    w = b2 - np.dot(b2, b1) * b1
    x = np.dot(v, w)
    y = np.dot(np.cross(b1, v), w)
    return float(np.degrees(np.arctan2(y, x)))


def superpose(mobile: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares rotation R and translation t with ``mobile @ R.T + t ≈ target`` (Kabsch)."""
    mc = mobile.mean(axis=0)
    tc = target.mean(axis=0)
    h = (mobile - mc).T @ (target - tc)
    u, _, vt = np.linalg.svd(h)
    sign = np.sign(np.linalg.det(vt.T @ u.T)) or 1.0
    rot = vt.T @ np.diag([1.0, 1.0, sign]) @ u.T
    return rot, tc - mc @ rot.T


def rotation_about(axis: np.ndarray, angle: float) -> np.ndarray:
    """Rotation matrix for a right-handed rotation by ``angle`` degrees about ``axis``."""
    k = np.asarray(axis, dtype=float)
    k = k / np.linalg.norm(k)
    a = np.radians(angle)
    kx = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    return np.eye(3) + np.sin(a) * kx + (1.0 - np.cos(a)) * (kx @ kx)


def polygon(n: int, side: float) -> np.ndarray:
    """Vertices (n, 3) of a regular planar polygon in the xy plane, centred at the origin."""
    radius = side / (2.0 * np.sin(np.pi / n))
    angles = 2.0 * np.pi * np.arange(n) / n
    return np.stack([radius * np.cos(angles), radius * np.sin(angles), np.zeros(n)], axis=1)


def outward(center: np.ndarray, atom: np.ndarray, length: float) -> np.ndarray:
    """Point at ``length`` from ``atom`` along the direction from ``center`` through ``atom``."""
    u = atom - center
    return atom + length * u / np.linalg.norm(u)
