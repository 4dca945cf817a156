"""Per-atom B-factors that make simulated maps score like real maps of the same resolution.

A noise-free map computed from a model scores far above what the archive shows at its
resolution, which would teach the wrong lesson. Real maps blur atoms more as the resolution
worsens, side-chain tips and exposed atoms more than the buried backbone, and carry noise.
So the generators give every atom B = B0(d) × profile, where the profile (1 for the buried
backbone, up to about 2 for exposed side-chain tips) reflects position in the model, and B0(d)
was tuned with :func:`calibrate` so that a well-fitted model at resolution d, simulated with
:data:`NOISE`, scores within about ±0.02 of Q_peak(d) (equations 1–2 of the paper, sigma 0.4).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path

import gemmi
import numpy as np
from scipy.spatial import cKDTree

from qscore.analysis.expected import expected_q
from qscore.synthetic.builder.internal_coords import ONE_TO_THREE

__all__ = ["B0_TABLE", "NOISE", "b_profile", "base_b", "calibrate", "calibrated_b_factors"]

#: Noise level (noise RMS / signal RMS in the molecular envelope) used with the table below.
NOISE = 0.3
#: B0(d) in Å² at resolution d in Å, from :func:`calibrate` on the scenario model.
B0_TABLE: dict[float, float] = {
    1.5: 11.9,
    2.0: 26.3,
    2.5: 42.2,
    3.0: 62.6,
    3.5: 84.1,
    4.0: 100.4,
    4.5: 115.8,
    5.0: 134.1,
    6.0: 175.3,
}

_BACKBONE = {"N", "CA", "C", "O", "OXT"}
_PHOSPHATE = {"P", "OP1", "OP2", "OP3", "O5'"}
_NUCLEIC = {"A", "C", "G", "U", "DA", "DC", "DG", "DT"}
_GLYCAN = {"NAG", "BMA", "MAN"}
_AMINO = set(ONE_TO_THREE.values())
_DEPTH = {"B": 1.1, "G": 1.2, "D": 1.35, "E": 1.5, "Z": 1.5, "H": 1.5}


def base_b(resolution: float) -> float:
    """B0(d): the table interpolated linearly in log B, extrapolated from the end segments."""
    ds = np.array(sorted(B0_TABLE))
    logb = np.log([B0_TABLE[d] for d in ds])
    k = int(np.clip(np.searchsorted(ds, resolution) - 1, 0, len(ds) - 2))
    slope = (logb[k + 1] - logb[k]) / (ds[k + 1] - ds[k])
    return float(np.exp(logb[k] + slope * (resolution - ds[k])))


def _kind_factor(resname: str, atom: str) -> float:
    if resname in _NUCLEIC:
        return 1.15 if atom in _PHOSPHATE else (1.0 if "'" in atom else 1.05)
    if resname in _GLYCAN:
        return 1.25
    if resname == "HOH":
        return 1.4
    if len(atom) <= 2 and atom.isalpha() and resname == atom:
        return 0.9
    if atom in _BACKBONE:
        return 1.0
    if resname in _AMINO and len(atom) >= 2 and atom[1] in _DEPTH:
        return _DEPTH[atom[1]]
    return 1.1


def b_profile(st: gemmi.Structure, *, seed: int = 0) -> np.ndarray:
    """Relative B of each heavy atom (file order): kind/depth × exposure × a small residue jitter."""
    atoms = [(ch, r, a) for ch in st[0] for r in ch for a in r if a.element.name != "H"]
    xyz = np.array([a.pos.tolist() for _, _, a in atoms]).reshape(-1, 3)
    kind = np.array([_kind_factor(r.name, a.name) for _, r, a in atoms])
    counts = np.array([len(x) for x in cKDTree(xyz).query_ball_point(xyz, 8.0)])
    lo, hi = np.percentile(counts, [10, 90])
    exposure = np.clip((hi - counts) / max(hi - lo, 1.0), 0.0, 1.0)
    rng = np.random.default_rng(seed)
    residue_keys = [(ch.name, r.seqid.num) for ch, r, _ in atoms]
    unique = {k: i for i, k in enumerate(dict.fromkeys(residue_keys))}
    jitter = np.exp(rng.normal(0.0, 0.08, len(unique)))
    per_atom = jitter[[unique[k] for k in residue_keys]]
    return kind * (1.0 + 0.35 * exposure) * per_atom


def calibrated_b_factors(st: gemmi.Structure, resolution: float, *, seed: int = 0) -> np.ndarray:
    """Per-heavy-atom B (Å², file order) for a realistic simulated map at ``resolution``."""
    return base_b(resolution) * b_profile(st, seed=seed)


def calibrate(
    st: gemmi.Structure,
    resolutions: Iterable[float],
    *,
    sigma: float = 0.4,
    noise: float = NOISE,
    seed: int = 0,
) -> dict[float, float]:
    """B0(d) at which a map simulated from ``st`` gives the model mean Q = Q_peak(d).

    Bisection on log B0 with the engine; used to derive :data:`B0_TABLE`.
    """
    from qscore.engine import score
    from qscore.io.models import read_model
    from qscore.synthetic.simulate import simulate_map

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.cif"
        st.setup_entities()
        st.make_mmcif_document().write_file(str(path))
        model = read_model(str(path))
    profile = b_profile(st, seed=seed)
    out = {}
    for d in resolutions:
        bands = expected_q(d, 0.4)
        assert bands is not None
        target = bands.q_peak
        lo, hi = np.log(1.0), np.log(800.0)
        for _ in range(14):
            mid = 0.5 * (lo + hi)
            dmap = simulate_map(st, d, b_factors=np.exp(mid) * profile, noise=noise, seed=seed)
            q = float(np.nanmean(score(dmap, model, sigma=sigma).q[model.heavy]))
            lo, hi = (mid, hi) if q > target else (lo, mid)
        out[float(d)] = float(np.exp(0.5 * (lo + hi)))
    return out
