"""Map/model pairs generated for the 3D-view tests: simulated maps of 7cec chain A at a chosen
resolution, and a ~100k-atom model made of copies of the chain placed side by side in a tiled
copy of its EMD-30342 map. Written to temporary folders, never committed."""

from __future__ import annotations

import string
from pathlib import Path

import gemmi
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
EMD30342 = ROOT.parent / "shared" / "data" / "emd-30342"
MAP = EMD30342 / "emd_30342_chainA_zone.mrc"
MODEL = EMD30342 / "7cec_chainA.cif"


BACKBONE = {"N", "CA", "C", "O", "OXT"}


def _model_with_resolution(
    folder: Path, resolution: float, displaced: int | None = None, shift: float = 3.0
) -> Path:
    """The shared model with its recorded resolution replaced (the sidebar prefills it) and,
    optionally, the side chain of residue ``displaced`` moved ``shift`` Å away from its CA."""
    doc = gemmi.cif.read(str(MODEL))
    block = doc.sole_block()
    block.set_pair("_em_3d_reconstruction.resolution", f"{resolution:g}")
    if displaced is not None:
        table = block.find("_atom_site.", ["auth_seq_id", "auth_atom_id", "Cartn_x"])
        xyz_cols = [block.find_values(f"_atom_site.Cartn_{a}") for a in "xyz"]
        rows = [i for i, r in enumerate(table) if int(r[0]) == displaced]
        names = [gemmi.cif.as_string(table[i][1]) for i in rows]
        xyz = np.array([[float(c[i]) for c in xyz_cols] for i in rows])
        side = np.array([n not in BACKBONE and not n.startswith("H") for n in names])
        direction = xyz[side].mean(axis=0) - xyz[names.index("CA")]
        xyz[side] += shift * direction / np.linalg.norm(direction)
        for k, i in enumerate(rows):
            if side[k]:
                for axis, column in enumerate(xyz_cols):
                    column[i] = f"{xyz[k, axis]:.3f}"
    suffix = f"_moved{displaced}" if displaced is not None else ""
    path = folder / f"7cec_chainA_{resolution:g}A{suffix}.cif"
    doc.write_file(str(path))
    return path


def simulated_pair(
    folder: Path,
    resolution: float,
    *,
    seed: int = 1,
    displaced: int | None = None,
    shift: float = 3.0,
) -> tuple[Path, Path]:
    """A realistic simulated map of 7cec chain A at ``resolution`` (calibrated B-factors and
    noise, as the teaching scenarios) and the model recording that resolution; with
    ``displaced``, that residue's side chain is moved ``shift`` Å out of its density in the
    model only."""
    from qscore.io.maps import write_map
    from qscore.synthetic.calibration import NOISE, calibrated_b_factors
    from qscore.synthetic.simulate import simulate_map

    st = gemmi.read_structure(str(MODEL))
    st.remove_hydrogens()
    dmap = simulate_map(
        st, resolution, b_factors=calibrated_b_factors(st, resolution), noise=NOISE, seed=seed
    )
    map_path = folder / f"sim_7cec_{resolution:g}A.mrc"
    write_map(map_path, dmap)
    return map_path, _model_with_resolution(folder, resolution, displaced, shift)


def tiled_pair(folder: Path, tiles: tuple[int, int, int] = (4, 3, 2)) -> tuple[Path, Path, int]:
    """Copies of 7cec chain A side by side (one chain ID each) in the EMD-30342 map tiled the
    same way; returns the map, the model and the number of atoms."""
    from qscore.io.maps import DensityMap, read_map, write_map
    from qscore.io.models import read_model

    base = read_map(MAP, crop_to=read_model(MODEL).xyz, margin=4.0)
    nz, ny, nx = base.values.shape
    tx, ty, tz = tiles
    values = np.tile(base.values, (tz, ty, tx))
    step = np.array([nx, ny, nz]) * base.voxel_size
    st = gemmi.read_structure(str(MODEL))
    st.setup_entities()
    source = st[0][0].clone()
    model = st[0]
    model.remove_chain(source.name)
    names = iter(string.ascii_uppercase + string.ascii_lowercase)
    for k in range(tz):
        for j in range(ty):
            for i in range(tx):
                chain = source.clone()
                chain.name = next(names)
                shift = step * (i, j, k)
                for residue in chain:
                    residue.subchain = ""
                    for atom in residue:
                        atom.pos = gemmi.Position(*(np.array(atom.pos.tolist()) + shift))
                model.add_chain(chain)
    st.setup_entities()
    model_path = folder / "tiled_7cec.cif"
    doc = st.make_mmcif_document()
    doc.sole_block().set_pair("_em_3d_reconstruction.resolution", "3.9")
    doc.write_file(str(model_path))
    map_path = folder / "tiled_emd30342.mrc"
    write_map(map_path, DensityMap(values, base.origin, base.voxel_size, source="tiled"))
    n_atoms = sum(len(r) for ch in model for r in ch)
    return map_path, model_path, n_atoms


def residue_scene(dmap, model, q, residue_q, row: int, *, label: str = "A X", q_good: float = 0.2):
    """The focus, default contour and 3D scene of residue ``row`` (heavy atoms) with its map."""
    from qscore.analysis.contour import MapStats, residue_contour
    from qscore.plotting import viewer

    atoms = np.arange(model.residues.at[row, "start"], model.residues.at[row, "stop"])
    atoms = atoms[model.heavy[atoms]]
    focus = viewer.Focus(label, atoms, q[atoms])
    stats = MapStats.of(dmap)
    contour = residue_contour(dmap, model.xyz[atoms], focus.q, q_good=q_good, stats=stats)
    scene = viewer.build_scene(
        model,
        q,
        np.asarray(residue_q),
        0.38,
        focus=focus,
        dmap=dmap,
        contour=contour,
        stats=stats,
    )
    return focus, contour, scene
