"""``qscore report``: its numbers are the command line's, the file stands alone, bad input is one
sentence and exit status 2."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import gemmi
import numpy as np
import pytest
from plotly.offline import get_plotlyjs

from qscore.cli.main import main

from .conftest import CHROMIUM, EMD30342, require, require_browser

MAP = EMD30342 / "emd_30342_chainA_zone.mrc"
MODEL = EMD30342 / "7cec_chainA.cif"
DOCUMENT_ID = "qscore-report-data"
#: Keys of the run documents that time the run (they differ between two runs).
TIMINGS = {"seconds", "seconds_scan"}


class _Page(HTMLParser):
    """The shown numbers (``span.num``), the JSON script elements and every tag of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.numbers: list[dict] = []
        self.scripts: dict[str, str] = {}
        self.plots: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self._span: dict | None = None
        self._script: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "span" and attrs.get("class") == "num":
            self._span = {**attrs, "text": ""}
        if tag == "script" and attrs.get("type") == "application/json":
            self._script = attrs.get("id") or attrs.get("data-plot")
            if attrs.get("data-plot"):
                self.plots.append(attrs["data-plot"])
            self.scripts[self._script] = ""

    def handle_endtag(self, tag):
        if tag == "span" and self._span is not None:
            self.numbers.append(self._span)
            self._span = None
        if tag == "script":
            self._script = None

    def handle_data(self, data):
        if self._span is not None:
            self._span["text"] += data
        if self._script is not None:
            self.scripts[self._script] += data


def parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def without_timings(doc):
    if isinstance(doc, dict):
        return {k: without_timings(v) for k, v in doc.items() if k not in TIMINGS}
    if isinstance(doc, list):
        return [without_timings(v) for v in doc]
    return doc


def at(doc, path):
    for key in path:
        doc = doc[key]
    return doc


def shown_matches(text: str, value: float, scale: float) -> bool:
    """Whether the text shows ``value × scale`` to its own number of decimals."""
    match = re.search(r"[-+]?[\d,]*\.?\d+", text)
    assert match, text
    digits = match.group(0).replace(",", "")
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    return abs(float(digits) - value * scale) <= 0.5 * 10**-decimals + 1e-12


@pytest.fixture(scope="module")
def emd_run(tmp_path_factory):
    """One report with B-factors and a given contour, and the score and bfactor documents."""
    require(MAP)
    out = tmp_path_factory.mktemp("report")
    html, doc = out / "report.html", out / "report.json"
    args = [str(MAP), str(MODEL)]
    assert (
        main(
            [
                "report",
                *args,
                "--bfactors",
                "--contour",
                "0.04",
                "-o",
                str(html),
                "--json",
                str(doc),
            ]
        )
        == 0
    )
    assert main(["score", *args, "--json", str(out / "score.json")]) == 0
    assert main(["bfactor", *args, "--json", str(out / "bfactor.json")]) == 0
    load = lambda name: json.loads((out / name).read_text())  # noqa: E731
    return html, load("report.json"), load("score.json"), load("bfactor.json")


def test_the_report_holds_the_command_lines_numbers(emd_run):
    html, report_doc, score_doc, bfactor_doc = emd_run
    embedded = json.loads(parse(html).scripts[DOCUMENT_ID])
    assert without_timings(embedded["score"]) == without_timings(score_doc)
    assert without_timings(embedded["bfactor"]) == without_timings(bfactor_doc)
    report_doc.pop("report")
    assert without_timings(report_doc) == without_timings(embedded)
    assert embedded["score"]["model_q"] == pytest.approx(0.3764539396319299, abs=1e-12)
    assert embedded["inclusion"]["level"] == 0.04
    assert embedded["inclusion"]["level_source"] == "given"


def test_every_number_shown_is_the_documents(emd_run):
    html, _, score_doc, bfactor_doc = emd_run
    page = parse(html)
    embedded = json.loads(page.scripts[DOCUMENT_ID])
    reference = {"score": score_doc, "bfactor": bfactor_doc, "inclusion": embedded["inclusion"]}
    keys = set()
    for span in page.numbers:
        path = json.loads(span["data-key"])
        keys.add(tuple(path))
        value = at(reference, path)
        assert json.loads(span["data-value"]) == value, path
        if value is not None:
            assert shown_matches(span["text"], value, float(span["data-scale"])), (path, span)
    for expected in (
        ("score", "model_q"),
        ("score", "q_peak"),
        ("score", "q_low95"),
        ("score", "q_high95"),
        ("score", "q_relative_all"),
        ("score", "q_relative_resolution"),
        ("score", "entries_all"),
        ("score", "entries_window"),
        ("score", "chains", "A"),
        ("score", "types", "protein"),
        ("inclusion", "all"),
        ("inclusion", "backbone"),
        ("bfactor", "best_f"),
        ("bfactor", "cc_mean_best"),
        ("bfactor", "chains", "A", "cc_mean"),
    ):
        assert expected in keys


def test_the_file_stands_alone(emd_run):
    html = emd_run[0]
    text = html.read_text(encoding="utf-8")
    page = parse(html)
    plotly = get_plotlyjs()
    assert text.count(plotly[:200]) == 1
    assert text.count(plotly) == 1
    for tag, attrs in page.tags:
        assert "src" not in attrs, (tag, attrs)
        if tag == "link":
            assert attrs.get("href", "").startswith("data:"), attrs
        assert tag not in {"iframe", "img", "object", "embed", "base"}
    outside = text.replace(plotly, "")
    assert "@import" not in outside and "@font-face" not in outside
    assert not re.search(r"url\((?!data:)", outside)
    assert "MathJax" not in outside
    for name in page.plots:
        spec = json.loads(page.scripts[name])
        assert spec["data"], name
    assert len(page.plots) == 6  # archive, chain A, two histograms, inclusion, f scan
    assert html.stat().st_size < 10e6


def test_inputs_carry_their_checksums(emd_run):
    embedded = json.loads(parse(emd_run[0]).scripts[DOCUMENT_ID])
    files = {f["role"]: f for f in embedded["inputs"]}
    for role, path in (("map", MAP), ("model", MODEL)):
        assert files[role]["name"] == path.name
        assert files[role]["size"] == path.stat().st_size
        assert files[role]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert embedded["software"]["qscore"]


def test_a_report_without_resolution_leaves_the_context_out(tmp_path, emd30342):
    document = gemmi.cif.read(str(emd30342 / "7cec_chainA_first100atoms.cif"))
    document.sole_block().find_mmcif_category("_em_3d_reconstruction.").erase()
    model = tmp_path / "no_resolution.cif"
    document.write_file(str(model))
    html = tmp_path / "r.html"
    assert main(["report", str(MAP), str(model), "-o", str(html)]) == 0
    page = parse(html)
    embedded = json.loads(page.scripts[DOCUMENT_ID])
    assert "q_peak" not in embedded["score"] and embedded["bfactor"] is None
    assert "fig-archive" not in page.plots
    assert "No resolution was given" in html.read_text(encoding="utf-8")


def test_every_kind_of_molecule_has_its_place():
    """The built-in example has protein, RNA, a ligand, a glycan, ions and waters."""
    from qscore.analysis.reference import default_reference
    from qscore.pipeline import load_and_score
    from qscore.report import build
    from qscore.synthetic.examples import builtin_example

    example = builtin_example()
    scored = load_and_score(example.map_path, example.model_path, sigma=example.sigma)
    text, contents = build(
        scored, inputs=(), resolution=example.resolution, reference=default_reference()
    )
    assert "Chain N: phosphate, sugar, base Q per nucleotide" in text
    assert "Chain A: backbone, side chain Q per residue" in text
    assert 'id="fig-molecules"' in text
    assert "waters, mean Q" in text
    kinds = set(contents.analysis.types["kind"])
    assert {"protein", "nucleic", "ligand", "glycan", "ion", "water"} <= kinds
    # the lowest residues are listed with every heavy atom's Q
    worst = contents.analysis.residues
    worst = worst[worst["kind"].isin(["protein", "nucleic"])].nsmallest(1, "q").iloc[0]
    assert f"{worst['resname']}" in text.split('id="worst"')[1].split("</section>")[0]


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing map", "No such file"),
        ("text named .mrc", "map"),
        ("missing folder", "does not exist"),
        ("folder as output", "is a folder"),
        ("output is the map", "one of the input files"),
        ("contour nan", "contour level"),
        ("sigma 0", "sigma"),
        ("bad f range", "f range"),
        ("bfactors without resolution", "resolution"),
    ],
)
def test_bad_input_is_one_sentence_and_status_2(case, message, tmp_path, capsys, emd30342):
    model = str(emd30342 / "7cec_chainA_first100atoms.cif")
    out = str(tmp_path / "r.html")
    args = [str(MAP), model, "-o", out]
    if case == "missing map":
        args[0] = str(tmp_path / "absent.mrc")
    elif case == "text named .mrc":
        fake = tmp_path / "fake.mrc"
        fake.write_text("this is not a map\n" * 100)
        args[0] = str(fake)
    elif case == "missing folder":
        args[3] = str(tmp_path / "nowhere" / "r.html")
    elif case == "folder as output":
        args[3] = str(tmp_path)
    elif case == "output is the map":
        args[0] = str(tmp_path / "map.mrc")
        Path(args[0]).write_bytes(MAP.read_bytes())
        args[3] = args[0]
    elif case == "contour nan":
        args += ["--contour", "nan"]
    elif case == "sigma 0":
        args += ["--sigma", "0"]
    elif case == "bad f range":
        args += ["--bfactors", "--f-range", "0:300"]
    elif case == "bfactors without resolution":
        document = gemmi.cif.read(model)
        document.sole_block().find_mmcif_category("_em_3d_reconstruction.").erase()
        args[1] = str(tmp_path / "no_resolution.cif")
        document.write_file(args[1])
        args += ["--bfactors"]
    assert main(["report", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("qscore report: ") and "\n" not in err, err
    assert "Traceback" not in err
    assert message.lower() in err.lower(), err
    assert not (tmp_path / "r.html").exists()


def test_report_json_goes_to_standard_output(tmp_path, capsys, emd30342):
    model = emd30342 / "7cec_chainA_first100atoms.cif"
    html = tmp_path / "r.html"
    assert main(["report", str(MAP), str(model), "-o", str(html), "--json", "-"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["report"]["bytes"] == html.stat().st_size
    assert doc["score"]["atoms_scored"] == 100
    assert np.isfinite(doc["inclusion"]["all"])


PLOTS_JS = """() => Array.from(document.querySelectorAll('div.plot')).map(gd => ({
    id: gd.id,
    traces: (gd.data || []).length,
    drawn: (gd._fullData || []).length,
    svg: gd.querySelectorAll('svg.main-svg').length,
    width: gd.getBoundingClientRect().width,
    height: gd.getBoundingClientRect().height,
    marks: gd.querySelectorAll('.point, .bars path, .scatterlayer .js-line').length
        + gd.querySelectorAll('canvas').length,
}))"""
NUMBERS_JS = """() => Array.from(document.querySelectorAll('span.num')).map(s => ({
    key: s.dataset.key, value: s.dataset.value, scale: s.dataset.scale, text: s.textContent}))"""


@contextlib.contextmanager
def offline_page(html: Path):
    """The report open in headless Chromium (Debian's, never a downloaded one) with every
    request outside the file blocked; yields the page and the lists of blocked requests, all
    requests and browser errors."""
    require_browser()
    from playwright import sync_api

    from .browser_support import LAUNCH_ARGS

    url = html.resolve().as_uri()
    log: dict[str, list[str]] = {"blocked": [], "requested": [], "errors": []}
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        context = browser.new_context(viewport={"width": 1300, "height": 1000})
        context.route(
            lambda address: address != url,
            lambda route: (log["blocked"].append(route.request.url), route.abort()),
        )
        page = context.new_page()
        page.on("request", lambda request: log["requested"].append(request.url))
        page.on("console", lambda m: log["errors"].append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: log["errors"].append(str(e)))
        page.goto(url, timeout=180_000)
        page.wait_for_selector("body[data-plots-drawn]", timeout=180_000)
        try:
            yield page, log
        finally:
            browser.close()
    assert log["blocked"] == [], f"requests left the file: {log['blocked']}"
    assert log["requested"] == [url]
    assert log["errors"] == [], log["errors"]


def check_plots(plots: list[dict], count: int) -> None:
    """Every plot has its traces drawn, an SVG of a real size and marks on it."""
    assert len(plots) == count, [p["id"] for p in plots]
    for plot in plots:
        assert plot["traces"] > 0 and plot["drawn"] == plot["traces"], plot
        assert plot["svg"] >= 1 and plot["width"] > 300 and plot["height"] > 200, plot
        assert plot["marks"] > 0, plot


def check_numbers(numbers: list[dict], reference: dict) -> None:
    """Every shown number is the reference document's, to the digits shown."""
    assert len(numbers) > 10
    for number in numbers:
        path = json.loads(number["key"])
        value = at(reference, path)
        assert json.loads(number["value"]) == value, path
        if value is not None:
            assert shown_matches(number["text"], value, float(number["scale"])), number


@pytest.mark.browser
def test_the_report_in_chromium_with_the_network_blocked(emd_run):
    """Headless Chromium opens the file with every request outside it blocked and recorded: none
    is attempted, every plot is drawn, every shown number is the command line's, and the page
    prints on A4. Screenshots and the PDF go to ``test-artifacts/``."""
    from .browser_support import ARTIFACTS

    html, _, score_doc, bfactor_doc = emd_run
    ARTIFACTS.mkdir(exist_ok=True)
    with offline_page(html) as (page, _):
        plots = page.evaluate(PLOTS_JS)
        numbers = page.evaluate(NUMBERS_JS)
        verdict = page.locator(".verdict").first.inner_text()
        page.screenshot(path=ARTIFACTS / "report_01_top.png")
        page.locator("#residues").screenshot(path=ARTIFACTS / "report_02_residues.png")
        page.locator("#inclusion").screenshot(path=ARTIFACTS / "report_03_inclusion.png")
        page.screenshot(path=ARTIFACTS / "report_04_full.png", full_page=True)
        # Print: an A4 page is 794 CSS px wide; the figures are redrawn at a width that fits.
        page.set_viewport_size({"width": 794, "height": 1123})
        page.emulate_media(media="print")
        page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
        page.wait_for_timeout(500)
        printed = page.evaluate(
            """() => Array.from(document.querySelectorAll('div.plot')).map(gd =>
                [gd._fullLayout.width, gd.getBoundingClientRect().width])"""
        )
        page_width = page.evaluate("document.documentElement.scrollWidth")
        page.screenshot(path=ARTIFACTS / "report_05_print.png", full_page=True)
        page.pdf(path=ARTIFACTS / "report_05_print.pdf", format="A4")
    check_plots(plots, 6)
    embedded = json.loads(parse(html).scripts[DOCUMENT_ID])
    reference = {"score": score_doc, "bfactor": bfactor_doc, "inclusion": embedded["inclusion"]}
    check_numbers(numbers, reference)
    assert verdict.startswith("As commonly observed.")
    assert all(drawn == 680 and box >= 680 for drawn, box in printed), printed
    assert page_width <= 794, "something is wider than an A4 page"


@pytest.fixture(scope="module")
def local_example():
    """The local-resolution teaching scenario: a map, its model, a local-resolution map and two
    half maps (generated on first use)."""
    from qscore.synthetic.examples import get_example

    return get_example("local-resolution")


@pytest.mark.parametrize("source", ["local-resolution map", "half maps"])
def test_local_resolution_and_chimerax_as_qscore_score_gives_them(source, local_example, tmp_path):
    example = local_example
    files = [str(example.map_path), str(example.model_path)]
    if source == "local-resolution map":
        extra = ["--local-resolution", str(example.local_resolution_path)]
    else:
        extra = ["--half-maps", *(str(p) for p in example.half_map_paths)]
    cxc = tmp_path / "view.cxc"
    assert (
        main(["score", *files, *extra, "--chimerax", str(cxc), "--json", str(tmp_path / "s.json")])
        == 0
    )
    from_score = {p.name: p.read_bytes() for p in (cxc, cxc.with_suffix(".defattr"))}
    html = tmp_path / "r.html"
    assert main(["report", *files, *extra, "--chimerax", str(cxc), "-o", str(html)]) == 0
    score_doc = json.loads((tmp_path / "s.json").read_text())
    page = parse(html)
    embedded = json.loads(page.scripts[DOCUMENT_ID])
    assert without_timings(embedded["score"]) == without_timings(score_doc)
    assert score_doc["local_reading_counts"]["possible misfit"] > 0
    assert {p.name: p.read_bytes() for p in (cxc, cxc.with_suffix(".defattr"))} == from_score
    roles = [f["role"] for f in embedded["inputs"]]
    if source == "half maps":
        assert roles == ["map", "model", "half map 1", "half map 2"]
    else:
        assert roles == ["map", "model", "local-resolution map"]
    assert "fig-local-0" in page.plots
    keys = {tuple(json.loads(s["data-key"])) for s in page.numbers}
    assert ("score", "local_reading_counts", "possible misfit") in keys
    assert ("score", "median_local_resolution") in keys
    for span in page.numbers:
        value = at(
            {"score": score_doc, "inclusion": embedded["inclusion"]}, json.loads(span["data-key"])
        )
        assert json.loads(span["data-value"]) == value
    text = html.read_text(encoding="utf-8")
    assert "Possible misfit</h3>" in text and "view.cxc" in text


def test_a_local_resolution_file_that_is_not_a_map_is_one_sentence(tmp_path, capsys):
    fake = tmp_path / "locres.mrc"
    fake.write_text("not a map\n" * 200)
    args = [str(MAP), str(MODEL), "--local-resolution", str(fake), "-o", str(tmp_path / "r.html")]
    assert main(["report", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("qscore report: ") and "\n" not in err
    assert not (tmp_path / "r.html").exists()


@pytest.mark.browser
def test_the_local_resolution_report_in_chromium(local_example, tmp_path):
    """The two-domain scenario with its local-resolution map: every plot is drawn offline, the
    local figure's two panels included, and every number shown is ``qscore score``'s."""
    from .browser_support import ARTIFACTS

    example = local_example
    html = tmp_path / "local.html"
    args = [str(example.map_path), str(example.model_path)]
    extra = ["--local-resolution", str(example.local_resolution_path)]
    assert main(["score", *args, *extra, "--json", str(tmp_path / "s.json")]) == 0
    assert main(["report", *args, *extra, "-o", str(html)]) == 0
    score_doc = json.loads((tmp_path / "s.json").read_text())
    ARTIFACTS.mkdir(exist_ok=True)
    with offline_page(html) as (page, _):
        plots = page.evaluate(PLOTS_JS)
        numbers = page.evaluate(NUMBERS_JS)
        page.locator("#local").screenshot(path=ARTIFACTS / "report_06_local.png")
    check_plots(plots, len(parse(html).plots))
    assert any(p["id"] == "fig-local-0" and p["svg"] >= 1 for p in plots)
    embedded = json.loads(parse(html).scripts[DOCUMENT_ID])
    check_numbers(numbers, {"score": score_doc, "inclusion": embedded["inclusion"]})


def test_without_plotly_the_report_says_which_extra_to_install(monkeypatch, tmp_path, capsys):
    """The core package does not install Plotly; ``qscore report`` then names the extra."""
    import sys

    for name in [
        m for m in sys.modules if m.split(".")[0] == "plotly" or m.startswith("qscore.report")
    ]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "plotly", None)
    model = str(EMD30342 / "7cec_chainA_first100atoms.cif")
    assert main(["report", str(require(MAP)), model, "-o", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err.strip()
    assert "pip install 'qscore[report]'" in err and "\n" not in err
