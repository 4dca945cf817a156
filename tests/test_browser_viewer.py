"""The residue view in headless Chromium: readable at 1.75 Å and 4 Å, fast hands on its controls,
the outlier walk, and click-to-view on EMD-30342 (and, from ``bench/bench_viewer.py``, on a
~100k-atom model).

Screenshots and measured times go to ``test-artifacts/`` (not committed).
"""

from __future__ import annotations

import io
import json
import os
import re
import time
from pathlib import Path

import numpy as np
import pytest

from tests.browser_support import ARTIFACTS, CHROMIUM, LAUNCH_ARGS, MAP, MODEL
from tests.test_browser import app_url  # noqa: F401
from tests.viewer_data import simulated_pair, tiled_pair

pytestmark = pytest.mark.browser

#: Mesh colour of the viewer (qscore.plotting.viewer.MESH_COLOUR) and background.
MESH_RGB = np.array([0x8F, 0xD1, 0x8F])
BACKGROUND_RGB = np.array([0x3A, 0x3D, 0x44])
TIMINGS = ARTIFACTS / "viewer_timings.json"
#: Models the click-to-view test runs on: the ~100k-atom case is a benchmark, run by
#: ``bench/bench_viewer.py`` (``QSCORE_BENCH_LARGE=1``), not by the suite.
SIZES = ["emd30342"] + (["100k"] if os.environ.get("QSCORE_BENCH_LARGE") == "1" else [])


def _pixels(png: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def _share_near(png: bytes, rgb: np.ndarray, tolerance: int = 40) -> float:
    """Share of pixels within ``tolerance`` (per channel) of ``rgb``."""
    pixels = _pixels(png)
    return float(np.mean(np.all(np.abs(pixels - rgb) <= tolerance, axis=2)))


def _record(name: str, seconds: float) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    data = json.loads(TIMINGS.read_text()) if TIMINGS.exists() else {}
    data[name] = round(seconds, 3)
    data[f"{name}_load_average"] = round(os.getloadavg()[0], 1)
    TIMINGS.write_text(json.dumps(data, indent=2))
    print(f"\n{name}: {seconds:.2f} s")


class Session:
    """One browser page on the dashboard, with the helpers the tests share."""

    def __init__(self, page, url: str):
        self.page = page
        self.url = url
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def upload(self, map_path: Path, model_path: Path) -> tuple[float, float]:
        """Upload both files; seconds from the first file to the overview of the new result, and
        the part of them Playwright spent handing the files to the browser (a visitor's browser
        reads them from disk as it uploads)."""
        from playwright.sync_api import expect

        page = self.page
        page.goto(self.url)
        expect(page.get_by_text("Q-scores in context")).to_be_visible(timeout=90_000)
        self.settle()
        inputs = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
        start = time.perf_counter()
        handing = 0.0
        # One file at a time: the first upload reruns the app, which may redraw the second
        # uploader while a file is being set on it.
        for index, path in enumerate((map_path, model_path)):
            begin = time.perf_counter()
            inputs.nth(index).set_input_files(path, timeout=180_000)
            handing += time.perf_counter() - begin
            # The file's chip without its spinner: uploaded (a CSS query: Playwright's role
            # queries walk the page's accessibility tree, which is slow on a large page).
            page.wait_for_function(
                """(name) => [...document.querySelectorAll('[data-testid="stFileChip"]')].some(
                    (c) => c.querySelector(`[data-testid="stFileChipName"][title="${name}"]`)
                        && !c.querySelector('[data-testid="stFileChipIconSpinner"]'))""",
                arg=path.name,
                polling=50,
                timeout=120_000,
            )
        # The header names the new result only once it is scored; stale elements (the previous
        # result's, kept on screen during the run) are gone once the overview is drawn.
        page.wait_for_function(
            """(label) => {
                const captions = document.querySelectorAll('[data-testid="stCaptionContainer"]');
                const header = [...captions].some(
                    (c) => c.innerText.includes(label) && c.innerText.includes('model Q'));
                return header && !document.querySelector('[data-stale="true"]')
                    && document.querySelector('[data-testid="stMetricValue"]');
            }""",
            arg=f"{map_path.name} + {model_path.name}",
            polling=50,
            timeout=180_000,
        )
        return time.perf_counter() - start, handing

    def settle(self) -> None:
        """Wait until no element is stale (no run in progress) for half a second, and until the
        browser has nothing left to do (see :meth:`idle`)."""
        for _ in range(2):
            self.page.wait_for_function(
                "() => !document.querySelector('[data-stale=\"true\"]')", timeout=120_000
            )
            self.page.wait_for_timeout(500)
        self.idle()

    def idle(self, *, quick: float = 0.05, times: int = 3, timeout: float = 60.0) -> None:
        """Wait until the page answers a script within ``quick`` seconds ``times`` in a row.

        A page whose elements are all drawn may still be busy for a second or two (the
        first draw of a table or a chart, loaded on demand); a timer started then would charge
        that work to the step being timed.
        """
        deadline = time.perf_counter() + timeout
        streak = 0
        while streak < times and time.perf_counter() < deadline:
            begin = time.perf_counter()
            self.page.evaluate("1")
            streak = streak + 1 if time.perf_counter() - begin < quick else 0
            self.page.wait_for_timeout(100)

    def goto(self, name: str) -> None:
        self.page.get_by_role("link", name=name).click()
        self.page.wait_for_timeout(500)

    @property
    def frame(self):
        return self.page.frame_locator('iframe[title="st.iframe"]').first

    def wait_view(self, label: str, timeout: float = 60_000):
        from playwright.sync_api import expect

        status = self.frame.locator("#qs-status")
        expect(status).to_have_attribute("data-zoom-target", label, timeout=timeout)
        expect(status).to_have_attribute("data-rendered", "1", timeout=timeout)
        return status

    def pick(self, label: str) -> None:
        """Choose a residue in the picker by typing its label."""
        box = self.page.locator('[data-testid="stSelectbox"]').filter(has_text="Residue").first
        box.click()
        self.page.keyboard.type(label)
        self.page.keyboard.press("Enter")

    def alive(self) -> None:
        """The page is connected: no connection or message-cache error is shown."""
        body = self.page.inner_text("body")
        for text in ("Connection error", "Cached ForwardMsg MISS", "Failed to process"):
            assert text not in body, text
        assert not [e for e in self.errors if "ForwardMsg" in e or "WebSocket" in e], self.errors


@pytest.fixture(scope="module")
def browser():
    pytest.importorskip("playwright.sync_api")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def session(browser, app_url):  # noqa: F811
    context = browser.new_context(viewport={"width": 1500, "height": 1500})
    # Generous: the machine's two cores are shared, and a loaded machine must not fail the test.
    context.set_default_timeout(180_000)
    yield Session(context.new_page(), app_url)
    context.close()


def _tyrosines(model_path: Path, map_path: Path) -> tuple[list, dict]:
    """Residue rows of the tyrosines by decreasing Q, and what the dashboard computes."""
    from qscore.io.export import residues_frame
    from qscore.pipeline import load_and_score

    scored = load_and_score(map_path, model_path)
    table = residues_frame(scored.model, scored.result.q)
    tyr = table[table["resname"] == "TYR"].sort_values("q", ascending=False)
    return list(tyr.index), {"scored": scored, "table": table}


def _expected_contour(scored, row: int, resolution: float) -> float:
    """The σ level the dashboard should choose for residue ``row`` (computed independently of
    the page: the same rule on the same cropped map)."""
    from qscore.analysis.contour import MapStats, residue_contour
    from qscore.analysis.expected import expected_q

    model, q = scored.model, scored.result.q
    atoms = np.arange(model.residues.at[row, "start"], model.residues.at[row, "stop"])
    atoms = atoms[model.heavy[atoms]]
    centre = model.xyz[atoms]
    lo, hi = centre.min(axis=0) - 8, centre.max(axis=0) + 8
    near = np.flatnonzero(np.all((model.xyz >= lo) & (model.xyz <= hi), axis=1) & model.heavy)
    choice = residue_contour(
        scored.dmap,
        centre,
        q[atoms],
        q_good=expected_q(resolution, 0.4).q_low95,
        neighbour_xyz=model.xyz[near],
        neighbour_q=q[near],
        stats=MapStats.of(scored.dmap),
    )
    return choice.sigma_level


def _hover_atom(session: Session, atom: str) -> None:
    """Move the mouse over ``atom`` of the selected residue (screen position from 3Dmol.js)."""
    frame_element = session.page.locator('iframe[title="st.iframe"]').first
    box = frame_element.bounding_box()
    inner = next(f for f in session.page.frames if f.url.startswith("about:srcdoc"))
    xy = inner.evaluate(
        """(name) => {
            const v = window.qsViewer;
            const a = v.selectedAtoms({atom: name}).find(x => x.style && x.style.sphere);
            const s = v.modelToScreen({x: a.x, y: a.y, z: a.z});
            return [s.x - window.scrollX, s.y - window.scrollY];
        }""",
        atom,
    )
    session.page.mouse.move(box["x"] + xy[0] - 20, box["y"] + xy[1] - 20)
    session.page.mouse.move(box["x"] + xy[0], box["y"] + xy[1], steps=5)


@pytest.mark.parametrize("resolution", [1.75, 4.0])
def test_residue_view_is_readable_at_two_resolutions(session, tmp_path, resolution):
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    map_path, plain_model = simulated_pair(tmp_path, resolution)
    rows, info = _tyrosines(plain_model, map_path)
    best, moved = rows[0], rows[1]
    table = info["table"]
    moved_number = int(table.at[moved, "resseq"])
    _, model_path = simulated_pair(tmp_path, resolution, displaced=moved_number, shift=4.0)
    session.upload(map_path, model_path)
    session.goto("3D structure")
    _, moved_info = _tyrosines(model_path, map_path)
    tag = f"{resolution:g}A"
    for row, name in ((best, "well_resolved"), (moved, "side_chain_moved_out")):
        label = f"A {int(table.at[row, 'resseq'])} TYR"
        session.pick(label)
        status = session.wait_view(label)
        expected = _expected_contour(moved_info["scored"], row, resolution)
        assert float(status.get_attribute("data-auto-contour")) == pytest.approx(
            expected, abs=0.026
        )
        text = session.frame.locator("#qs-level-text").inner_text()
        assert "σ" in text and "map units" in text and "auto" in text
        session.page.wait_for_timeout(800)
        canvas = session.frame.locator("#qs-view canvas").first
        shot = canvas.screenshot(path=ARTIFACTS / f"viewer_{tag}_{name}_TYR.png")
        mesh = _share_near(shot, MESH_RGB)
        background = _share_near(shot, BACKGROUND_RGB, tolerance=6)
        assert 0.002 < mesh < 0.3, mesh
        assert background > 0.3, background
        # The mesh pixels are the mesh: switching it off removes them.
        session.frame.locator("#qs-mesh").uncheck()
        session.page.wait_for_timeout(300)
        assert _share_near(canvas.screenshot(), MESH_RGB) < mesh / 4
        session.frame.locator("#qs-mesh").check()
        session.page.wait_for_timeout(300)
        _hover_atom(session, "OH")
        expect(status).to_have_attribute("data-hover", "1", timeout=5_000)
        session.page.wait_for_timeout(300)
        canvas.screenshot(path=ARTIFACTS / f"viewer_{tag}_{name}_TYR_hover.png")
        session.page.mouse.move(5, 5)
    session.page.screenshot(path=ARTIFACTS / f"viewer_{tag}_page.png", full_page=True)
    session.alive()
    assert not session.errors, session.errors


def test_fast_hands_keep_the_page_alive(session):
    from playwright.sync_api import expect

    from qscore.analysis.outliers import outlier_rows
    from qscore.io.export import residues_frame
    from qscore.pipeline import load_and_score
    from qscore.plotting.figures import residue_label

    scored = load_and_score(MAP, MODEL)
    table = residues_frame(scored.model, scored.result.q)
    walk = [residue_label(table.loc[r]) for r in outlier_rows(table, 3.9, 0.4)]
    session.upload(MAP, MODEL)
    session.goto("Per-residue")
    session.page.get_by_role("button", name="Next outlier").click()
    status = session.wait_view(walk[0])
    auto = float(status.get_attribute("data-auto-contour"))
    # Contour slider: 120 key presses as fast as the browser takes them.
    slider = session.frame.locator("#qs-level")
    slider.focus()
    for _ in range(80):
        session.page.keyboard.press("ArrowRight")
    for _ in range(40):
        session.page.keyboard.press("ArrowLeft")
    session.page.wait_for_timeout(500)
    assert float(status.get_attribute("data-contour")) == pytest.approx(auto + 2.0, abs=0.026)
    assert int(status.get_attribute("data-mesh-draws")) >= 2
    session.frame.locator("#qs-auto").click()
    expect(status).to_have_attribute("data-contour", f"{auto:.2f}")
    # Neighbour distance slider, equally fast.
    session.frame.locator("#qs-near").focus()
    for _ in range(30):
        session.page.keyboard.press("ArrowLeft")
    assert session.frame.locator("#qs-near-text").inner_text().startswith("0.0")
    # A Streamlit slider that reruns the page with the plot and the view, pressed fast.
    thumb = session.page.get_by_role("slider").first
    thumb.focus()
    for _ in range(25):
        session.page.keyboard.press("ArrowRight")
    session.page.wait_for_timeout(3000)
    session.alive()
    # The walk's keyboard shortcut, pressed quickly: the view, caption and plot agree.
    session.page.locator("h1").first.click()
    for _ in range(6):
        session.page.keyboard.press("n")
        session.page.wait_for_timeout(150)
    session.page.wait_for_timeout(4000)
    caption = session.page.get_by_text(re.compile(r"^Outlier \d+ of \d+$")).first.inner_text()
    position = int(caption.split()[1])
    assert 2 <= position <= 7 and caption.endswith(f"of {len(walk)}")
    status = session.wait_view(walk[position - 1])
    session.page.screenshot(path=ARTIFACTS / "viewer_after_fast_input.png", full_page=True)
    session.alive()
    # The ChimeraX script is handed over on click, for the residue now in view.
    with session.page.expect_download() as download:
        session.page.get_by_role("button", name="ChimeraX script (.cxc)").click()
    label = walk[position - 1]
    chain, number = label.split()[:2]
    script = Path(download.value.path()).read_text()
    assert download.value.suggested_filename.endswith("_" + label.replace(" ", "_") + ".cxc")
    assert f"/{chain}:{number}" in script and "open " in script
    assert not session.errors, session.errors


def _lowest_point(session: Session, table, chain: str) -> tuple[str, float, float]:
    """Label and page position of the lowest side-chain point of ``chain`` in the per-residue
    plot."""
    from qscore.plotting.figures import residue_label

    rows = table[table["chain"] == chain]
    row = rows.loc[rows["q_sidechain"].idxmin()]
    plot = session.page.locator(".js-plotly-plot").first
    plot.wait_for(timeout=60_000)
    x, y = session.page.evaluate(
        """([x, y]) => {
            const gd = document.querySelector('.js-plotly-plot');
            const L = gd._fullLayout, box = gd.getBoundingClientRect();
            return [box.left + L._size.l + L.xaxis.l2p(x), box.top + L._size.t + L.yaxis.l2p(y)];
        }""",
        [int(row["resseq"]), float(row["q_sidechain"])],
    )
    return residue_label(row), x, y


@pytest.mark.parametrize("size", SIZES)
def test_click_to_view_timings(session, tmp_path, size):
    from playwright.sync_api import expect

    from qscore.io.export import residues_frame
    from qscore.pipeline import load_and_score

    if size == "100k":
        map_path, model_path, n_atoms = tiled_pair(tmp_path)
        assert n_atoms > 100_000
    else:
        map_path, model_path = MAP, MODEL
    upload, handing = session.upload(map_path, model_path)
    _record(f"upload_to_overview_{size}", upload)
    _record(f"upload_to_overview_{size}_handing_files", handing)
    scored = load_and_score(map_path, model_path)
    table = residues_frame(scored.model, scored.result.q)
    session.goto("Per-residue")
    session.page.get_by_role("button", name="Next outlier").click()
    first = session.frame.locator("#qs-status")
    expect(first).to_have_attribute("data-rendered", "1", timeout=120_000)
    session.settle()
    label, x, y = _lowest_point(session, table, "A")
    start = time.perf_counter()
    session.page.mouse.click(x, y)
    session.wait_view(label)
    click = time.perf_counter() - start
    _record(f"click_to_view_{size}", click)
    chain, number = label.split()[:2]
    expect(session.page).to_have_url(re.compile(rf"residue={chain}(:|%3A){number}\b"))
    session.page.screenshot(path=ARTIFACTS / f"viewer_click_{size}.png", full_page=True)
    start = time.perf_counter()
    session.page.get_by_role("button", name="Next outlier").click()
    session.page.wait_for_function(
        """(old) => {
            const f = document.querySelector('iframe[title="st.iframe"]');
            const s = f && f.contentDocument && f.contentDocument.getElementById('qs-status');
            return s && s.dataset.rendered === '1' && s.dataset.zoomTarget !== old;
        }""",
        arg=label,
        timeout=60_000,
    )
    _record(f"next_outlier_to_view_{size}", time.perf_counter() - start)
    session.alive()
    assert not session.errors, session.errors
    # A bound that only a hung or reloading view misses on a loaded shared machine; the measured
    # times (1.5 s is the target) are in test-artifacts/viewer_timings.json.
    assert click < 60
