"""End-to-end: the dashboard in headless Chromium, from upload to a residue zoomed in 3D.

Runs the real app (``streamlit run app.py``) on a free port, uploads the EMD-30342 map and model,
clicks the lowest side chain in the per-residue plot and checks that the 3D view zoomed to it,
drew with WebGL and that the browser console stayed clean. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import io
import time

import pytest

from tests.browser_support import (
    ARTIFACTS,
    MAP,
    MODEL,
    Dashboard,
    browser_skip_reason,
    launch_chromium,
)
from tests.conftest import unavailable

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """The dashboard running in a subprocess; stopped after the module's tests."""
    reason = browser_skip_reason()
    if reason:
        unavailable(reason)
    with Dashboard(tmp_path_factory.mktemp("uploads")) as dashboard:
        yield dashboard.url


@pytest.fixture(scope="module")
def lowest_sidechain() -> tuple[str, int, float]:
    """Label, residue number and Q of the lowest side chain of the shared model."""
    from qscore.io.export import residues_frame
    from qscore.pipeline import load_and_score
    from qscore.plotting.figures import residue_label

    scored = load_and_score(MAP, MODEL)
    table = residues_frame(scored.model, scored.result.q)
    row = table.loc[table["q_sidechain"].idxmin()]
    return residue_label(row), int(row["resseq"]), float(row["q_sidechain"])


def _non_background_fraction(png: bytes) -> float:
    """Share of pixels that differ clearly from white."""
    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    return float(np.mean(pixels.min(axis=2) < 235))


def test_upload_click_and_zoom(app_url, lowest_sidechain):
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    label, resseq, q_value = lowest_sidechain
    console_errors: list[str] = []
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = browser.new_page(viewport={"width": 1500, "height": 1400})
        page.set_default_timeout(120_000)  # uploads wait for the app's rerun on a busy machine
        page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: console_errors.append(str(e)))
        page.goto(app_url)
        expect(page.get_by_text("Q-scores in context")).to_be_visible(timeout=90_000)
        page.screenshot(path=ARTIFACTS / "01_example_overview.png")

        inputs = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
        start = time.perf_counter()
        inputs.nth(0).set_input_files(MAP)
        inputs.nth(1).set_input_files(MODEL)
        expect(page.get_by_text("emd_30342_chainA_zone.mrc + 7cec_chainA.cif")).to_be_visible(
            timeout=60_000
        )
        expect(page.get_by_text("Q-scores in context")).to_be_visible(timeout=30_000)
        expect(page.locator('[data-testid="stMetricValue"]').first).to_be_visible()
        upload_seconds = time.perf_counter() - start
        print(f"\nupload → overview: {upload_seconds:.2f} s (4,308 atoms)")
        page.screenshot(path=ARTIFACTS / "02_overview_emd30342.png")

        page.get_by_role("link", name="Per-residue").click()
        plot = page.locator(".js-plotly-plot").first
        expect(plot).to_be_visible(timeout=30_000)
        page.wait_for_timeout(1000)
        position = page.evaluate(
            """([x, y]) => {
                const gd = document.querySelector('.js-plotly-plot');
                const L = gd._fullLayout, box = gd.getBoundingClientRect();
                return [box.left + L._size.l + L.xaxis.l2p(x),
                        box.top + L._size.t + L.yaxis.l2p(y)];
            }""",
            [resseq, q_value],
        )
        page.screenshot(path=ARTIFACTS / "03_residues_before_click.png")
        start = time.perf_counter()
        page.mouse.click(position[0], position[1])
        frame = page.frame_locator('iframe[title="st.iframe"]').first
        status = frame.locator("#qs-status")
        expect(status).to_have_attribute("data-zoom-target", label, timeout=30_000)
        expect(status).to_have_attribute("data-rendered", "1", timeout=30_000)
        click_seconds = time.perf_counter() - start
        print(f"residue click → 3D updated: {click_seconds:.2f} s ({label})")
        expect(page.get_by_text(label).first).to_be_visible()
        page.wait_for_timeout(1500)
        canvas = frame.locator("canvas").first
        expect(canvas).to_be_visible()
        shot = canvas.screenshot(path=ARTIFACTS / "04_viewer_zoomed.png")
        page.screenshot(path=ARTIFACTS / "05_residues_after_click.png", full_page=True)
        browser.close()
    assert _non_background_fraction(shot) > 0.02, "the 3D view drew nothing"
    assert not console_errors, f"browser console errors: {console_errors}"
