"""The dashboard's "Download report" gives the file ``qscore report`` writes for the same inputs."""

from __future__ import annotations

import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

from app_support.cache import source_from_path
from app_support.report import command_line, report_html
from app_support.state import Current
from qscore.analysis.reference import default_reference
from qscore.analysis.tables import Analysis
from qscore.cli.main import main
from qscore.pipeline import load_and_score

from .conftest import EMD30342, require

ROOT = Path(__file__).resolve().parents[1]
MAP = EMD30342 / "emd_30342_chainA_zone.mrc"
MODEL = EMD30342 / "7cec_chainA.cif"


def comparable(text: str) -> str:
    """The report without what changes from one run to the next: when it was written and how
    long the scoring took."""
    text = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", "WRITTEN", text)
    return re.sub(r'"seconds(_scan)?": ?[0-9.eE+-]+', '"seconds":0', text)


def current(resolution: float, sigma: float = 0.4, mode: str = "direct") -> Current:
    scored = load_and_score(MAP, MODEL, sigma=sigma, mode=mode)
    return Current(
        key="test",
        label="EMD-30342",
        scored=scored,
        analysis=Analysis.of(scored),
        resolution=resolution,
        sigma=sigma,
        mode=mode,
        reference=default_reference(),
        window=0.5,
        selected=None,
        is_example=False,
        sources=(source_from_path(MAP), source_from_path(MODEL)),
    )


def test_the_dashboard_report_is_the_command_lines_file(tmp_path):
    require(MAP)
    contour, bfactors = 0.035, True
    result = current(3.9)
    html = tmp_path / "cli.html"
    command = command_line(result, contour=contour, bfactors=bfactors).split()
    assert command[:4] == ["qscore", "report", MAP.name, MODEL.name]
    options = command[4:-2]
    assert main(["report", str(MAP), str(MODEL), *options, "-o", str(html)]) == 0
    from_dashboard = report_html(result, contour=contour, bfactors=bfactors)
    assert comparable(from_dashboard) == comparable(html.read_text(encoding="utf-8"))


def test_the_table_page_offers_the_report(monkeypatch):
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not (at.info and "Upload a map" in at.info[0].value), "no built-in example"
    at.switch_page("views/table.py").run()
    assert not at.exception, [e.message for e in at.exception]
    assert "Report" in [h.value for h in at.subheader]
    assert any(c.value.startswith("The same file as `qscore report") for c in at.caption)
    contour = at.number_input(key="qs.keep.report-contour")
    assert contour.value is None
    contour.set_value(0.05).run()
    assert not at.exception
    assert any("--contour 0.05" in c.value for c in at.caption)


def test_the_local_resolution_pages_report_is_the_command_lines_file(tmp_path, monkeypatch):
    """The report from the local-resolution page holds its section, as ``qscore report
    --local-resolution`` writes it (run from the files' folder, so the names match)."""
    from app_support.local_resolution import LocalInputs, local_result
    from qscore.synthetic.examples import get_example

    example = get_example("local-resolution")
    folder = Path(example.map_path).parent
    scored = load_and_score(example.map_path, example.model_path)
    result = Current(
        key="local",
        label=example.title,
        scored=scored,
        analysis=Analysis.of(scored),
        resolution=example.resolution,
        sigma=0.4,
        mode="direct",
        reference=default_reference(),
        window=0.5,
        selected=None,
        is_example=True,
        sources=(source_from_path(example.map_path), source_from_path(example.model_path)),
    )
    chosen = LocalInputs(local_map=source_from_path(example.local_resolution_path))
    local = local_result(result, chosen)
    command = command_line(result, contour=None, bfactors=False, local=chosen).split()
    assert "--local-resolution" in command
    monkeypatch.chdir(folder)
    html = tmp_path / "cli.html"
    assert main(["report", *command[2:-2], "-o", str(html)]) == 0
    from_dashboard = report_html(result, local=(local, chosen))
    assert 'id="local"' in from_dashboard
    assert comparable(from_dashboard) == comparable(html.read_text(encoding="utf-8"))
