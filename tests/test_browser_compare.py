"""End-to-end: the Compare page in headless Chromium.

Uploads EMD-30342 and 7cec chain A, then on the Compare page a second model with eight residues
moved off their density; checks the summary, the dq plot and that the 3D view drew both models at
the most significant change. Then opens the ligand-pose scenario from the gallery. Screenshots go
to ``test-artifacts/``.
"""

from __future__ import annotations

import time

import pytest

from qscore.io.export import write_pdb
from qscore.io.models import read_model
from qscore.synthetic.variants import shift_residues
from tests.browser_support import ARTIFACTS, CHROMIUM, LAUNCH_ARGS, MAP, MODEL
from tests.test_browser import (  # noqa: F401 (app_url is a fixture)
    _non_background_fraction,
    app_url,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def moved_model(tmp_path_factory):
    model = read_model(MODEL)
    shifted = shift_residues(model, list(range(190, 198)), 2.5)
    path = tmp_path_factory.mktemp("browser") / "7cec_moved.pdb"
    write_pdb(shifted, shifted.b_iso, path)
    return path


def _open(pw, url: str, console_errors: list[str]):
    """A headless Chromium page on the dashboard (console errors collected), and its browser."""
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
    page = browser.new_page(viewport={"width": 1500, "height": 1400})
    page.set_default_timeout(90_000)
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console_errors.append(str(e)))
    page.goto(url)
    expect(page.get_by_text("Q-scores in context")).to_be_visible(timeout=90_000)
    return browser, page


def _viewer_drew(page, label_part: str, name: str) -> tuple[float, int]:
    """Wait for the 3D view to zoom to a residue containing ``label_part``; screenshot it and
    return the share of drawn pixels and the number of model B's atoms in the scene."""
    from playwright.sync_api import expect

    frame = page.frame_locator('iframe[title="st.iframe"]').first
    status = frame.locator("#qs-status")
    expect(status).to_have_attribute("data-rendered", "1", timeout=60_000)
    expect(status).to_contain_text(label_part, timeout=30_000)
    page.wait_for_timeout(1500)
    canvas = frame.locator("canvas").first
    expect(canvas).to_be_visible()
    overlay = int(status.get_attribute("data-overlay-atoms") or 0)
    return _non_background_fraction(canvas.screenshot(path=ARTIFACTS / name)), overlay


def test_compare_two_models_in_the_browser(app_url, moved_model):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    console_errors: list[str] = []
    with sync_playwright() as pw:
        browser, page = _open(pw, app_url, console_errors)
        inputs = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
        inputs.nth(0).set_input_files(MAP)
        expect(page.get_by_text("zone.mrc").first).to_be_visible(timeout=60_000)
        inputs.nth(1).set_input_files(MODEL)
        expect(page.get_by_text("emd_30342_chainA_zone.mrc + 7cec_chainA.cif")).to_be_visible(
            timeout=60_000
        )
        page.get_by_role("link", name="Compare").click()
        expect(page.get_by_text("Add a second model or a second map")).to_be_visible(timeout=30_000)
        start = time.perf_counter()
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').nth(2).set_input_files(
            moved_model
        )
        expect(page.get_by_text("Better / worse in B")).to_be_visible(timeout=180_000)
        print(f"\nsecond model → comparison: {time.perf_counter() - start:.1f} s")
        metric = page.locator('[data-testid="stMetric"]').filter(has_text="Better / worse in B")
        better, worse = (int(v) for v in metric.locator('[data-testid="stMetricValue"]')
                         .inner_text().split(" / "))  # fmt: skip
        assert better == 0 and worse >= 5
        plot = page.locator(".js-plotly-plot").first
        expect(plot).to_be_visible(timeout=30_000)
        page.wait_for_timeout(1000)
        page.screenshot(path=ARTIFACTS / "compare_01_models.png", full_page=True)
        assert plot.locator(".point").count() > 500
        drawn, overlay = _viewer_drew(page, "A 19", "compare_02_superposed.png")
        page.get_by_text("Both sides in 3D", exact=True).scroll_into_view_if_needed()
        page.screenshot(path=ARTIFACTS / "compare_03_models_3d.png")
        browser.close()
    assert drawn > 0.02, "the 3D view drew nothing"
    assert overlay > 0, "model B was not drawn over model A"
    assert not console_errors, f"browser console errors: {console_errors}"


def test_ligand_pose_scenario_in_the_browser(app_url):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    console_errors: list[str] = []
    with sync_playwright() as pw:
        browser, page = _open(pw, app_url, console_errors)
        page.get_by_role("link", name="Scenario gallery").click()
        button = page.get_by_role("button", name="Compare the poses")
        expect(button).to_be_visible(timeout=300_000)
        button.click()
        expect(page.get_by_text("Ligands and glycans side by side")).to_be_visible(timeout=180_000)
        expect(page.get_by_text("0 / 1")).to_be_visible()
        page.wait_for_timeout(1500)
        page.get_by_text(
            "Ligands and glycans side by side", exact=True
        ).scroll_into_view_if_needed()
        bars = page.locator(".js-plotly-plot").nth(1)
        expect(bars).to_be_visible()
        assert bars.locator(".point").count() == 4  # two poses in two maps
        page.wait_for_timeout(1000)
        page.screenshot(path=ARTIFACTS / "compare_04_ligand_poses.png")
        drawn, overlay = _viewer_drew(page, "L 1 LIG", "compare_05_ligand_3d.png")
        # The same residue between the two maps: map B's mesh drawn beside map A's.
        page.get_by_text("the two maps (with model A)").click()
        status = page.frame_locator('iframe[title="st.iframe"]').first.locator("#qs-status")
        expect(status).to_have_attribute("data-overlay-mesh", "1", timeout=180_000)
        expect(status).to_have_attribute("data-rendered", "1", timeout=60_000)
        page.wait_for_timeout(1500)
        maps_drawn = _non_background_fraction(
            page.frame_locator('iframe[title="st.iframe"]')
            .first.locator("canvas")
            .first.screenshot(path=ARTIFACTS / "compare_06_two_maps_3d.png")
        )
        browser.close()
    assert drawn > 0.02 and maps_drawn > 0.02, "the 3D view drew nothing"
    assert overlay > 0, "the flipped pose was not drawn over the correct one"
    assert not console_errors, f"browser console errors: {console_errors}"
