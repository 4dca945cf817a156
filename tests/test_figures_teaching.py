"""Figure builders of the teaching pages: the radial profile shows the engine's own samples, and
the other figures show what they claim to show."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from qscore.analysis.expected import expected_curves, expected_q
from qscore.analysis.reference import ReferenceTable
from qscore.analysis.relative import relative_q
from qscore.engine import atom_samples, score
from qscore.engine.correlation import pearson
from qscore.io.maps import DensityMap
from qscore.io.models import model_from_structure
from qscore.plotting import teaching as ft


def _displayed_q(fig, sigma: float) -> float:
    """Q recomputed from what the radial-profile figure shows (its first trace)."""
    radius = np.asarray(fig.data[0].x, dtype=float)
    values = np.asarray(fig.data[0].y, dtype=float)
    return pearson(values, np.exp(-0.5 * (radius / sigma) ** 2))


@pytest.fixture(scope="module")
def emd_scored(emd30342_pair):
    dmap, model = emd30342_pair
    return dmap, model, {s: score(dmap, model, sigma=s) for s in (0.4, 0.6)}


@pytest.mark.parametrize("sigma", [0.4, 0.6])
def test_displayed_samples_give_the_engine_q(emd_scored, sigma):
    dmap, model, results = emd_scored
    q = results[sigma].q
    heavy = np.flatnonzero(~model.is_hydrogen & np.isfinite(q))
    for index in heavy[:: max(len(heavy) // 25, 1)]:
        samples = atom_samples(dmap, model, int(index), sigma=sigma)
        fig = ft.radial_profile_figure(samples, sigma)
        assert np.array_equal(np.asarray(fig.data[0].y, dtype=float), samples.values)
        assert np.array_equal(np.asarray(fig.data[0].x, dtype=float), samples.radius)
        assert _displayed_q(fig, sigma) == pytest.approx(q[index], abs=1e-9)


def test_displayed_samples_in_mapq_multiprocess_mode(emd_scored):
    dmap, model, _ = emd_scored
    result = score(dmap, model, sigma=0.6, mode="mapq-multiprocess")
    for index in (0, 1, 57, 1200):
        samples = atom_samples(dmap, model, index, sigma=0.6, mode="mapq-multiprocess")
        fig = ft.radial_profile_figure(samples, 0.6)
        assert _displayed_q(fig, 0.6) == pytest.approx(result.q[index], abs=1e-9)


def test_fit_reference_recovers_scale_and_offset():
    g = np.exp(-0.5 * (np.linspace(0, 2, 50) / 0.4) ** 2)
    a, b = ft.fit_reference(3.0 * g + 0.5, g)
    assert a == pytest.approx(3.0) and b == pytest.approx(0.5)


def test_profile_curve_overlays_the_samples(emd_scored):
    dmap, model, _ = emd_scored
    samples = atom_samples(dmap, model, 10, sigma=0.6)
    fig = ft.radial_profile_figure(samples, 0.6)
    a, b = ft.fit_reference(samples.values, samples.reference)
    curve = fig.data[1]
    assert curve.y[0] == pytest.approx(a + b)
    assert f"Q = {samples.q:.3f}" in fig.layout.annotations[0].text


def test_sample_cloud_shows_every_point_and_neighbours(emd_scored):
    dmap, model, _ = emd_scored
    samples = atom_samples(dmap, model, 10, sigma=0.6)
    fig = ft.sample_cloud_figure(samples, model)
    cloud = next(t for t in fig.data if t.name == "sample points")
    assert len(cloud.x) == len(samples.values)
    assert np.array_equal(np.asarray(cloud.marker.color, dtype=float), samples.radius)
    neighbours = next(t for t in fig.data if t.name == "neighbouring atoms")
    assert len(neighbours.x) > 0


def test_sigma_sweep_marks_the_chosen_sigma():
    fig = ft.sigma_sweep_figure([0.2, 0.4, 0.6], [0.3, 0.5, 0.6], 0.4)
    marker = fig.data[-1]
    assert list(marker.x) == [0.4] and list(marker.y) == [0.5]


def test_bands_figure_curves_and_values():
    bands = expected_q(3.0)
    fig = ft.bands_figure(3.0, bands, point=(3.0, 0.45))
    curves = expected_curves(np.linspace(1.0, 10.0, 181))
    peak = next(t for t in fig.data if t.name == "Q_peak")
    assert np.allclose(peak.y, curves["q_peak"])
    texts = {a.text for a in fig.layout.annotations}
    assert {f"<b>{v:.2f}</b>" for v in (bands.q_low95, bands.q_peak, bands.q_high95)} <= texts
    assert fig.data[-1].name == "your model" and list(fig.data[-1].y) == [0.45]


@pytest.mark.parametrize(
    ("q", "code", "colour"), [(0.2, "below", ft.RED), (0.52, "typical", ft.PEAK)]
)
def test_band_gauge(q, code, colour):
    fig = ft.band_gauge_figure(q, expected_q(3.0), code)
    assert list(fig.data[0].x) == [q]
    assert fig.data[0].marker.color == colour
    band = fig.layout.shapes[0]
    assert band.x0 == pytest.approx(expected_q(3.0).q_low95)


def test_relative_histogram_splits_at_q():
    rng = np.random.default_rng(0)
    data = pd.DataFrame(
        {
            "id": [f"E{i}" for i in range(400)],
            "resolution": rng.uniform(2.0, 4.0, 400),
            "qscore": rng.uniform(0.1, 0.8, 400),
        }
    )
    reference = ReferenceTable(data=data, source="test")
    ranked = relative_q(0.5, 3.0, reference, 0.5)
    fig = ft.relative_histogram_figure(reference, ranked)
    lower, higher = (len(t.x) for t in fig.data)
    assert lower + higher == ranked.entries_window
    assert 100.0 * lower / ranked.entries_window == pytest.approx(ranked.q_relative_resolution)


def test_b_from_q_is_equation_5():
    fig = ft.b_from_q_figure(120.0, 0.25)
    assert np.allclose(fig.data[0].y, 120.0 * (1.0 - np.asarray(fig.data[0].x)))
    assert list(fig.data[1].y) == [pytest.approx(90.0)]


def _gaussian_map(centre: np.ndarray, width: float = 0.6) -> DensityMap:
    step = 0.25
    origin = centre - 6.0
    n = 49
    axis = np.arange(n) * step
    z, y, x = np.meshgrid(axis, axis, axis, indexing="ij")
    pts = np.stack([x, y, z], axis=-1) + origin
    values = np.exp(-0.5 * np.sum((pts - centre) ** 2, axis=-1) / width**2)
    return DensityMap(values.astype(np.float32), origin, np.full(3, step))


def test_density_slab_puts_the_density_under_its_atom():
    atoms = np.array([[10.0, 10.0, 10.0], [11.5, 10.0, 10.0], [12.2, 11.3, 10.0]])
    dmap = _gaussian_map(atoms[0])
    panel = ft.density_slab(dmap, atoms, names=["A", "B", "C"], elements=["C", "N", "O"])

    def pixel(uv):
        return panel.image[np.argmin(abs(panel.v - uv[1])), np.argmin(abs(panel.u - uv[0]))]

    assert pixel(panel.atom_uv[0]) == pytest.approx(1.0)
    assert pixel(panel.atom_uv[2]) < 0.05
    assert pixel(-panel.atom_uv[0]) < 0.05
    assert panel.bonds == [(0, 1), (1, 2)]
    fig = ft.slab_figure([panel, panel])
    assert sum(t.type == "heatmap" for t in fig.data) == 2
    assert fig.layout.coloraxis.cmax == 1.0


def test_slab_bounds_keep_a_minimum_aspect():
    lo, hi = ft.slab_bounds(np.array([[0.0, 0.0], [10.0, 0.0]]), margin=1.0, aspect=0.5)
    span = hi - lo
    assert span[0] == pytest.approx(12.0) and span[1] == pytest.approx(6.0)


def test_showcase_residue_prefers_aromatics(emd30342_pair):
    _, model = emd30342_pair
    q = np.linspace(0, 1, model.n_atoms)
    row = ft.showcase_residue(model, q)
    assert model.residues.iloc[row]["resname"] in {"TRP", "TYR", "PHE"}


@pytest.fixture(scope="module")
def ligand_poses():
    from qscore.pipeline import load_and_score
    from qscore.synthetic import examples

    example = examples.get_example("ligand-pose")
    poses = {}
    for name, path in example.variants.items():
        done = load_and_score(example.map_path, path, sigma=example.sigma)
        poses[name] = (done.dmap, done.model, done.result.q)
    return example, poses


def test_pose_panels_share_plane_and_area(ligand_poses):
    example, poses = ligand_poses
    chain = example.expectation["higher"]["chain"]
    panels = ft.pose_panels(poses, chain)
    assert len(panels) == 2
    assert np.array_equal(panels[0].u, panels[1].u) and np.array_equal(panels[0].v, panels[1].v)
    mean_q = {
        name: float(np.nanmean(q[ft.ligand_atoms(model, chain)]))
        for name, (_, model, q) in poses.items()
    }
    assert mean_q["correct"] > mean_q["flipped"]
    assert f"{mean_q['flipped']:.2f}" in panels[1].title


def test_ladder_panels_show_one_residue_at_each_resolution():
    from qscore.pipeline import load_and_score
    from qscore.synthetic import examples

    ladder = [examples.get_example(f"ladder-{d:g}") for d in (1.5, 2.5, 3.5, 6.0)]
    items = []
    for example in ladder:
        done = load_and_score(example.map_path, example.model_path, sigma=example.sigma)
        items.append((example.resolution, done.dmap, done.model, done.result.q))
    panels = ft.ladder_panels(items)
    assert len(panels) == 4
    assert all(len(p.atom_names) == len(panels[0].atom_names) for p in panels)
    q_residue = [float(re.search(r"Q_residue (-?\d+\.\d+)", p.title)[1]) for p in panels]
    assert q_residue == sorted(q_residue, reverse=True)


def test_group_helpers_on_a_small_structure():
    model = model_from_structure(_tiny_structure())
    assert ft.find_residue(model, "A", 2) == 1
    assert ft.find_residue(model, "A", 99) is None
    assert list(model.name[model.residue_atoms(1)]) == ["N", "CA"]
    assert ft.ligand_atoms(model).size == 0


def _tiny_structure():
    import gemmi

    st = gemmi.Structure()
    st.add_model(gemmi.Model("1"))
    chain = gemmi.Chain("A")
    for number, names in ((1, ("N", "CA", "C")), (2, ("N", "CA"))):
        residue = gemmi.Residue()
        residue.name = "GLY"
        residue.seqid = gemmi.SeqId(number, " ")
        for k, name in enumerate(names):
            atom = gemmi.Atom()
            atom.name = name
            atom.element = gemmi.Element(name[0])
            atom.pos = gemmi.Position(number * 3.8 + k * 1.4, 0.0, 0.0)
            residue.add_atom(atom)
        chain.add_residue(residue)
    st[0].add_chain(chain)
    st.setup_entities()
    return st
