"""The 3D panel in the app (Streamlit AppTest on EMD-30342): the outlier walk, the scene the view
loads, the ChimeraX downloads and waters left unjudged."""

from __future__ import annotations

import json
import re

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import EMD30342, ROOT, require


@pytest.fixture
def app(monkeypatch) -> AppTest:
    require(EMD30342)
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("QSCORE_ALLOW_LOCAL_PATHS", "1")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    at.text_input(key="qs.map_path").input(str(EMD30342 / "emd_30342_chainA_zone.mrc"))
    at.text_input(key="qs.model_path").input(str(EMD30342 / "7cec_chainA.cif")).run()
    assert not at.exception
    return at


def _walk():
    from qscore.analysis.outliers import outlier_rows
    from qscore.io.export import residues_frame
    from qscore.pipeline import load_and_score
    from qscore.plotting.figures import residue_label

    scored = load_and_score(EMD30342 / "emd_30342_chainA_zone.mrc", EMD30342 / "7cec_chainA.cif")
    table = residues_frame(scored.model, scored.result.q)
    rows = outlier_rows(table, 3.9, 0.4)
    return rows, [residue_label(table.loc[r]) for r in rows], table


def _scene(at: AppTest) -> dict:
    markers = [h.proto.body for h in at.get("html") if "data-qs-scene" in h.proto.body]
    assert len(markers) == 1
    url = re.search(r'data-qs-scene="([^"]+)"', markers[0]).group(1)
    assert url.startswith("/app/static/scenes/")
    return json.loads((ROOT / "static" / url.removeprefix("/app/static/")).read_text())


def test_walking_outliers_moves_view_and_plot_together(app):
    rows, labels, _ = _walk()
    app.switch_page("views/residues.py").run()
    nxt = next(b for b in app.button if b.label.startswith("Next outlier"))
    nxt.click().run()
    assert app.session_state["qs.selected"] == rows[0]
    assert _scene(app)["label"] == labels[0]
    next(b for b in app.button if b.label.startswith("Next outlier")).click().run()
    assert app.session_state["qs.selected"] == rows[1]
    assert any(c.value == f"Outlier 2 of {len(rows)}" for c in app.caption)
    assert _scene(app)["label"] == labels[1]
    next(b for b in app.button if b.label.startswith("◀ Previous")).click().run()
    assert app.session_state["qs.selected"] == rows[0]
    # The other order walks from the furthest below the band.
    app.radio(key="qs.keep.walk-order").set_value("distance below the band").run()
    next(b for b in app.button if b.label.startswith("Next outlier")).click().run()
    assert app.session_state["qs.selected"] in rows and not app.exception


def test_chimerax_downloads_centre_on_the_selected_residue(app):
    rows, labels, table = _walk()
    app.switch_page("views/structure.py").run()
    picker = [s for s in app.selectbox if s.label == "Residue"][0]
    picker.select(rows[3]).run()
    labels_shown = {d.proto.label for d in app.get("download_button")}
    assert {"ChimeraX script (.cxc)", "Q attribute file (.defattr)"} <= labels_shown
    assert _scene(app)["label"] == labels[3] and not app.exception


def test_chimerax_files_of_the_panel(emd30342):
    from app_support.state import Current
    from app_support.viewer_panel import chimerax_files, contour_for, focus_of
    from qscore.analysis.tables import Analysis
    from qscore.pipeline import load_and_score

    rows, labels, table = _walk()
    scored = load_and_score(emd30342 / "emd_30342_chainA_zone.mrc", emd30342 / "7cec_chainA.cif")
    current = Current(
        key="panel-test",
        label="t",
        scored=scored,
        analysis=Analysis.of(scored),
        resolution=3.9,
        sigma=0.4,
        mode="direct",
        reference=None,
        window=0.5,
        selected=rows[3],
        is_example=False,
    )
    focus = focus_of(current, rows[3])
    script, name, defattr, defattr_name = chimerax_files(current, focus)
    row = table.loc[rows[3]]
    spec = f"/A:{int(row['resseq'])}"
    assert name == f"7cec_chainA_{labels[3].replace(' ', '_')}.cxc"
    assert defattr_name == "7cec_chainA_qscore.defattr"
    assert 'open "7cec_chainA.cif"' in script and 'open "emd_30342_chainA_zone.mrc"' in script
    assert f'open "{defattr_name}"' in script and script.rstrip().endswith(f"view #1{spec}")
    level = float(re.search(r" level (\S+)", script).group(1))
    assert level == pytest.approx(contour_for(current, focus).level, rel=1e-5)
    assert f"\t{spec}\t{row['q']:.4f}\n" in defattr
