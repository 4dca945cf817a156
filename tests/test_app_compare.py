"""Streamlit AppTest of the Compare page: a second model and a second map on EMD-30342 (files on
this computer), the ligand-pose scenario opened from the gallery, and a bad second file."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from qscore.io.export import write_pdb
from qscore.io.maps import read_map, write_map
from qscore.io.models import read_model
from qscore.synthetic.variants import noisy_copies, shift_residues
from tests.test_app import shown

ROOT = Path(__file__).resolve().parents[1]
PAGE = "views/compare.py"
TIMEOUT = 600


@pytest.fixture(autouse=True)
def _run_from_project_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def _clean(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


@pytest.fixture
def emd30342_app(emd30342, monkeypatch) -> AppTest:
    """The app with EMD-30342 and 7cec chain A loaded from disk, on the Compare page."""
    monkeypatch.setenv("QSCORE_ALLOW_LOCAL_PATHS", "1")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    at.text_input(key="qs.map_path").input(str(emd30342 / "emd_30342_chainA_zone.mrc"))
    at.text_input(key="qs.model_path").input(str(emd30342 / "7cec_chainA.cif")).run()
    at.switch_page(PAGE).run()
    _clean(at)
    return at


@pytest.fixture(scope="module")
def moved_pdb(emd30342, tmp_path_factory) -> Path:
    """7cec chain A with A191–A198 moved 2.5 Å off their density."""
    model = read_model(emd30342 / "7cec_chainA.cif")
    shifted = shift_residues(model, list(range(190, 198)), 2.5)
    path = tmp_path_factory.mktemp("compare") / "moved.pdb"
    write_pdb(shifted, shifted.b_iso, path)
    return path


def test_the_page_asks_for_a_second_input(emd30342_app):
    assert any("Add a second model or a second map" in i.value for i in emd30342_app.info)


def test_a_second_model_shows_the_moved_residues(emd30342_app, moved_pdb):
    at = emd30342_app
    at.text_input(key="qs.compare.model_path").input(str(moved_pdb)).run()
    _clean(at)
    assert _metric(at, "Residues compared") == "553"
    better, worse = (int(v) for v in _metric(at, "Better / worse in B").split(" / "))
    assert better == 0 and worse >= 5
    assert float(_metric(at, "Model Q, B")) < float(_metric(at, "Model Q, A"))
    assert any("B** = moved.pdb" in shown(c.value) for c in at.caption)
    # The 3D view opens on the most significant change, and its details say so.
    assert any("significantly worse in B" in m.value for m in at.markdown)
    picker = next(s for s in at.selectbox if s.label.startswith("Residue"))
    assert 190 <= picker.value <= 197
    # Picking another residue (the first one, unchanged) shows it within the noise.
    picker.select(0).run()
    _clean(at)
    assert any("within the noise" in m.value for m in at.markdown)
    assert any("A 1 PHE" in m.value for m in at.markdown)


def test_a_second_map_compares_half_maps(emd30342_app, emd30342, tmp_path):
    dmap = read_map(emd30342 / "emd_30342_chainA_zone.mrc")
    model = read_model(emd30342 / "7cec_chainA.cif")
    half = noisy_copies(dmap, model.xyz, 3.9, noise=0.3, seeds=(7,))[0]
    path = tmp_path / "half.mrc"
    write_map(path, half)
    at = emd30342_app
    at.text_input(key="qs.compare.map_path").input(str(path)).run()
    _clean(at)
    assert _metric(at, "Residues compared") == "553"
    better, worse = (int(v) for v in _metric(at, "Better / worse in B").split(" / "))
    # The copy holds the same signal plus noise: Q drops everywhere, but few residues by more
    # than the noise can explain.
    assert float(_metric(at, "Model Q, B")) < float(_metric(at, "Model Q, A"))
    assert better + worse <= 0.05 * 553
    assert any("measured in the solvent" in c.value for c in at.caption)


def test_a_damaged_second_file_is_one_sentence(emd30342_app, tmp_path):
    bad = tmp_path / "broken.cif"
    bad.write_text("data_broken\nloop_\n_atom_site.id\n1\n")
    at = emd30342_app
    at.text_input(key="qs.compare.model_path").input(str(bad)).run()
    assert not at.exception
    assert at.error and "broken.cif" in shown(at.error[0].value)
    at.text_input(key="qs.compare.model_path").input(str(tmp_path / "absent.cif")).run()
    assert not at.exception and at.error and "absent.cif" in at.error[0].value


def test_the_ligand_pose_scenario_opens_the_compare_page():
    """Gallery → "Compare the poses": both poses of the ligand in both maps, the flipped pose
    significantly worse (paper Fig. 4 e–j)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    at.switch_page("views/gallery.py").run()
    _clean(at)
    next(b for b in at.button if b.key == "qs.teach.compare.ligand-pose").click().run()
    _clean(at)
    assert [s.value for s in at.selectbox if s.label.endswith("models")] == ["flipped"]
    assert [s.value for s in at.selectbox if s.label.endswith("maps")] == ["second"]
    assert _metric(at, "Better / worse in B") == "0 / 1"
    assert "Ligands and glycans side by side" in [s.value for s in at.subheader]
    grid = next(d.value for d in at.dataframe if "model B · map B" in list(d.value.columns))
    q = grid.iloc[0]
    assert q["model A · map A"] > q["model B · map A"]
    assert q["model A · map B"] > q["model B · map B"]
    assert any("L 1 LIG" in m.value for m in at.markdown)
    # The same comparison between the two maps, with the correct pose (AppTest keeps running
    # the page it was last switched to, so switch to the page the button opened).
    at.switch_page(PAGE)
    next(r for r in at.radio if r.label == "Residue differences between").set_value("maps").run()
    _clean(at)
    assert _metric(at, "Residues compared") == "109"
